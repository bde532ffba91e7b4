package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/wsloop/websocket"
)

// The command's defaults, which connectUsage states.
const (
	// defaultHandshakeTimeout is shorter than the library's 30 s: a person
	// at a terminal facing a server that accepts TCP and never answers
	// wants to hear so sooner, and a script can ask for longer.
	defaultHandshakeTimeout = 10 * time.Second
	// defaultWait is how long the server must stay silent, after the end
	// of input and the pong that follows it, before connect closes. The
	// pong proves the server has read every message, but not that it has
	// answered them all: Python's websockets, for one, answers a ping as
	// soon as it reads it, ahead of the replies its handler has yet to
	// send. A second is long enough for a server's own work on the last
	// messages, and short enough for a script.
	defaultWait = time.Second
)

const connectUsage = `usage: wsloop connect [flags] URL

Connects to URL (ws:// or wss://), sends each line of standard input as a
message, and prints each message received on a line of standard output.
The connection's open, errors and close go to standard error. On an
interactive terminal it shows a prompt ("> ") with line editing and history
(arrow keys), and received messages start with "< ".

At the end of input (Ctrl-D at the prompt) it waits for the replies still in
flight: it sends a ping behind the last message and, once the pong is back
(the server has read everything; at most 10s), waits until the server has
sent nothing for -wait, then closes with code 1000. A close by the server,
-count, SIGINT or Ctrl-C ends it sooner (Ctrl-C and SIGINT close at once).

Flags, each also spelled with two dashes (--wait):
  -H, -header 'NAME: VALUE'  add a request header (repeatable)
  -s, -protocol P            offer subprotocol P (repeatable, in order of preference)
  -o, -origin ORIGIN         send the Origin header ORIGIN
  -proxy URL                 dial through the proxy at URL: http://, https://,
                             socks5://, socks5h://, socks4://, socks4a://, or
                             "direct"; by default http_proxy, https_proxy,
                             all_proxy and no_proxy decide
  -cacert FILE               trust the PEM certificates in FILE for wss://
  -k, -insecure              do not verify the server's certificate
  -handshake-timeout D       give up opening after D (default 10s)
  -ping-interval D           ping after D without a byte from the server, and
                             fail when nothing comes back within D (default
                             0: no pings)
  -w, -wait D                after the end of input, close once the server has
                             sent nothing for D (default 1s; a bare number is
                             seconds); 0 closes as soon as the pong is back;
                             "forever" waits for the server to close
  -count N                   close after N messages received (default 0: no limit)
  -x, -execute MSG           send MSG instead of reading input (repeatable), and
                             close after as many messages received, or the wait
  -b, -binary                send each line as a binary message
  -hex                       binary data in hex, both ways: lines sent with -b
                             are decoded from hex, binary messages printed in hex
  -base64                    the same in standard base64 (RFC 4648)
  -json                      print every event as a JSON object on a line (NDJSON)
  -h, -help                  show this help; exit 0

Messages: a text message prints as it is. A binary message prints in -hex or
-base64 when one is given, else as "[binary N bytes] HEX", since raw bytes
would garble a terminal. A line that cannot be sent (not UTF-8 for a text
message, not hex or base64 when one is given) is skipped, with a warning.

-json: each line is one event: {"time": RFC 3339 in UTC, "type": one of open,
message, ping, pong, error, close, ...}. open has "url" and "protocol";
message has "data" and "binary" (binary data in base64, or hex with -hex);
ping and pong have "data" (its text when UTF-8, else encoded as for a binary
message, with "binary": true); error has "data", the error; close has
"code", "reason" and "wasClean". Warnings still go to standard error.

Exit status:
  0  the connection closed cleanly, by either side (whatever the close code)
  1  it failed: refused, unreachable, the handshake timed out, TLS
  2  the command line is wrong
  3  it opened, then ended abnormally (wasClean false: the server went away
     without a close, a protocol error, -ping-interval found it silent)
`

// encoding is how binary data is written as text, both ways.
type encoding int

const (
	encodingNone encoding = iota
	encodingHex
	encodingBase64
)

// connectOptions is the command line of connect, checked.
type connectOptions struct {
	url     string
	cfg     websocket.Config
	wait    waitFlag
	count   int
	execute []string
	json    bool
	binary  bool // lines go out as binary messages
	enc     encoding
}

// waitFlag is -wait: a duration, or forever.
type waitFlag struct {
	d       time.Duration
	forever bool
}

func (w *waitFlag) String() string {
	if w.forever {
		return "forever"
	}
	return w.d.String()
}

func (w *waitFlag) Set(s string) error {
	if s == "forever" {
		*w = waitFlag{forever: true}
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		// A bare number is seconds, as wscat's -w takes it.
		secs, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || math.IsNaN(secs) || math.IsInf(secs, 0) {
			return errors.New(`a duration (500ms, 2s), seconds (2), or "forever"`)
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d < 0 {
		return errors.New("negative")
	}
	*w = waitFlag{d: d}
	return nil
}

// headerFlag collects -H 'Name: value', as curl takes it.
type headerFlag http.Header

func (h headerFlag) String() string { return "" }

func (h headerFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || !httpguts.ValidHeaderFieldName(name) {
		return errors.New(`want "Name: value"`)
	}
	value = strings.TrimSpace(value)
	if !httpguts.ValidHeaderFieldValue(value) {
		return errors.New("the value holds a control character")
	}
	http.Header(h).Add(name, value)
	return nil
}

// connectFlags holds connect's command line as the flag package parses
// it, before the checks.
type connectFlags struct {
	o                     connectOptions
	header                http.Header
	protocols             stringsFlag
	cacert                string
	insecure, hex, base64 bool
	countSet              bool
	fs                    *flag.FlagSet
}

// newConnectFlags defines connect's flags, each with its short alias if
// any. The usage text is their documentation, written by hand to show
// the aliases together (TestConnectUsageNamesEveryFlag keeps it whole).
func newConnectFlags(stderr io.Writer) *connectFlags {
	f := &connectFlags{o: connectOptions{wait: waitFlag{d: defaultWait}}, header: http.Header{}}
	fs := flag.NewFlagSet("wsloop connect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// The flag package calls Usage for -h and after each error it states;
	// parseConnectFlags prints the whole text for -h only, and a hint
	// after an error, which would scroll away under sixty lines.
	fs.Usage = func() {}
	for _, name := range []string{"H", "header"} {
		fs.Var(headerFlag(f.header), name, "")
	}
	for _, name := range []string{"s", "protocol"} {
		fs.Var(&f.protocols, name, "")
	}
	for _, name := range []string{"o", "origin"} {
		fs.StringVar(&f.o.cfg.Origin, name, "", "")
	}
	fs.StringVar(&f.o.cfg.Proxy, "proxy", "", "")
	fs.StringVar(&f.cacert, "cacert", "", "")
	for _, name := range []string{"k", "insecure"} {
		fs.BoolVar(&f.insecure, name, false, "")
	}
	fs.DurationVar(&f.o.cfg.HandshakeTimeout, "handshake-timeout", defaultHandshakeTimeout, "")
	fs.DurationVar(&f.o.cfg.PingInterval, "ping-interval", 0, "")
	for _, name := range []string{"w", "wait"} {
		fs.Var(&f.o.wait, name, "")
	}
	fs.IntVar(&f.o.count, "count", 0, "")
	for _, name := range []string{"x", "execute"} {
		fs.Var((*stringsFlag)(&f.o.execute), name, "")
	}
	for _, name := range []string{"b", "binary"} {
		fs.BoolVar(&f.o.binary, name, false, "")
	}
	fs.BoolVar(&f.hex, "hex", false, "")
	fs.BoolVar(&f.base64, "base64", false, "")
	fs.BoolVar(&f.o.json, "json", false, "")
	f.fs = fs
	return f
}

// parseConnectFlags turns connect's command line into options. When the
// command is not to run it returns false and the exit code: 0 for -h,
// which asked for the usage, exitUsage for a command line that cannot run
// (said on stderr).
func parseConnectFlags(args []string, stderr io.Writer) (connectOptions, int, bool) {
	f := newConnectFlags(stderr)
	o := &f.o
	const hint = `usage: wsloop connect [flags] URL ("wsloop connect -h" for the flags)`
	usageError := func(format string, args ...any) (connectOptions, int, bool) {
		fmt.Fprintf(stderr, "wsloop connect: "+format+"\n", args...)
		fmt.Fprintln(stderr, hint)
		return *o, exitUsage, false
	}
	positional, err := parseInterspersed(f.fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stderr, connectUsage)
		return *o, 0, false
	case err != nil:
		fmt.Fprintln(stderr, hint) // after the flag package's word on the error
		return *o, exitUsage, false
	case len(positional) != 1:
		return usageError("want one URL, got %d arguments", len(positional))
	case f.hex && f.base64:
		return usageError("-hex and -base64 exclude each other")
	case o.count < 0:
		return usageError("-count is negative")
	case o.cfg.HandshakeTimeout <= 0:
		return usageError("-handshake-timeout must be positive")
	}
	o.url = positional[0]
	switch {
	case f.hex:
		o.enc = encodingHex
	case f.base64:
		o.enc = encodingBase64
	}
	f.fs.Visit(func(fl *flag.Flag) { f.countSet = f.countSet || fl.Name == "count" })
	if !f.countSet && len(o.execute) > 0 {
		// One reply each, as wscat -x waits for one. An explicit -count 0
		// waits for no number of replies (then -wait ends it).
		o.count = len(o.execute)
	}
	o.cfg.Protocols = f.protocols
	if len(f.header) > 0 {
		o.cfg.Header = f.header
	}
	if f.cacert != "" || f.insecure {
		tc, err := tlsConfig(f.cacert, f.insecure)
		if err != nil {
			return usageError("%v", err)
		}
		o.cfg.TLSConfig = tc
	}
	return *o, 0, true
}

// parseInterspersed parses fs's flags wherever they stand among the
// arguments, as people used to wscat and curl write them after the URL,
// and returns the arguments that are not flags. "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// tlsConfig is -cacert and -insecure as a TLS configuration.
func tlsConfig(cacert string, insecure bool) (*tls.Config, error) {
	tc := &tls.Config{InsecureSkipVerify: insecure}
	if cacert != "" {
		pem, err := os.ReadFile(cacert)
		if err != nil {
			return nil, fmt.Errorf("-cacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-cacert: no PEM certificate in %s", cacert)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}
