package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"time"

	"github.com/wsloop/websocket"
)

const benchUsage = `usage: wsloop bench [-n 100] [-loops N] [-size 64] [-rate R] [-duration 10s] [-binary] [-json] [-allow-remote] URL

Loads an echo server (such as "wsloop serve") and measures it: N sockets
over one event loop per core (round-robin, as the README's "Many cores"
has it) connect, at most -connecting at a time; once every one has opened
or failed, each sends messages of -size bytes for -duration, either one in
flight at a time (the next as the echo of the last is back: -rate 0) or at
-rate messages/s, and times each echo from its send. Then each socket
waits for its last echoes (up to 3 s) and closes normally.

It reports messages/s, bytes/s, errors, connect times, latency
percentiles and a histogram on stdout, and a progress bar on stderr when
that is a terminal. It raises the soft limit on open files to the hard
one when the sockets need it, and refuses to start when even the hard
limit is too low.

Only a server on this machine: the URL's host must be a loopback address,
or a name whose every address is one, and every connection is checked at
the dial. --allow-remote lifts this, for a server you are allowed to load.

Exit status: 0 when every message sent was echoed and nothing failed, 1
when anything did (the report says what), 2 for a command line that
cannot run (a bad flag, a target refused, too few file descriptors).

--json prints one JSON object instead; durations in it are in seconds
(_s) or microseconds (_us):
  url, sockets, loops, size, binary, rate, duration_s  the run asked for
  elapsed_s       time spent sending, from the first send to the deadline
                  (or the interruption)
  interrupted     true when SIGINT cut the run short
  connected       sockets that opened
  connect_s       from the first dial until every socket opened or failed
  connect_time_us each socket's handshake: count, min, mean, p50, p90,
                  p99, p99_9, max
  sent, echoed    messages sent, and echoed back unchanged
  messages_per_s  echoed / elapsed_s
  bytes_per_s     payload bytes echoed / elapsed_s (each way)
  wire_bytes_out, wire_bytes_in
                  bytes written and read by the sockets: frames with their
                  headers, closing handshakes included
  errors          the sum of error_counts
  error_counts    connect (never opened), send (refused), closed (closed
                  or failed before bench closed it, or not cleanly),
                  mismatch (an echo unlike the message), lost (never
                  echoed)
  first_error     the first error's message, "" when none
  latency_us      echo round trips, as connect_time_us; a percentile is
                  within 1.6 % of the exact one, and never over max
  histogram       latency rows on a 1-2-5 scale: from_us, to_us (not
                  included), count
`

// benchEnv is what bench takes from the system, which the tests replace:
// name lookups, the open-file limit, where the progress bar goes, and
// how long to wait for the last echoes (a test of lost messages should
// not wait seconds for them).
type benchEnv struct {
	lookup   lookupFunc
	limits   fdLimits
	progress func() progress
	drain    time.Duration
}

func benchCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	env := benchEnv{
		lookup:   net.DefaultResolver.LookupIPAddr,
		limits:   rlimitNOFILE{},
		progress: func() progress { return newProgress(stderr) },
		drain:    drainTimeout,
	}
	return bench(ctx, args, stdout, stderr, env)
}

// benchFlags are the command line's, before they become a plan.
type benchFlags struct {
	benchPlan
	json, allowRemote, compression bool
	handshakeTimeout               time.Duration
}

func bench(ctx context.Context, args []string, stdout, stderr io.Writer, env benchEnv) int {
	fs := flag.NewFlagSet("wsloop bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f benchFlags
	fs.IntVar(&f.sockets, "n", 100, "`sockets` in all")
	fs.IntVar(&f.loops, "loops", runtime.GOMAXPROCS(0), "event `loops`, one goroutine each, the sockets spread over them round-robin; one per core by default")
	fs.IntVar(&f.size, "size", 64, "message size in `bytes`")
	fs.Float64Var(&f.rate, "rate", 0, "`messages/s` each socket sends; 0: each sends the next as soon as the last is echoed, one in flight")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "how long the sockets send, once all have opened")
	fs.BoolVar(&f.binary, "binary", false, "send binary messages (random bytes) instead of text (random printable ASCII)")
	fs.BoolVar(&f.json, "json", false, "print the results as one JSON object (fields: see above)")
	fs.BoolVar(&f.allowRemote, "allow-remote", false, "allow a target that is not on this machine (loopback); load only a server you are allowed to")
	fs.BoolVar(&f.compression, "compression", false, "offer permessage-deflate (off by default: the run measures the sockets, not zlib)")
	fs.IntVar(&f.dialers, "connecting", 256, "handshakes in progress at most: a server's listen backlog is finite")
	fs.DurationVar(&f.handshakeTimeout, "handshake-timeout", 10*time.Second, "a socket not open by then counts as a connect error")
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage)
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, 1); !ok {
		return code
	}
	f.url = fs.Arg(0)
	if err := f.check(); err != nil {
		fmt.Fprintln(stderr, "wsloop bench:", err)
		return exitUsage
	}
	if err := checkTarget(ctx, f.url, env.lookup, f.allowRemote); err != nil {
		fmt.Fprintln(stderr, "wsloop bench:", err)
		return exitUsage
	}
	raisedFrom, err := ensureFDs(env.limits, f.sockets, f.loops)
	var limitErr *fdLimitError
	if errors.As(err, &limitErr) {
		fmt.Fprintln(stderr, "wsloop bench:", err)
		return exitUsage
	} else if err != nil {
		// The limit could not be read or raised: say so, and try; a
		// socket refused for want of a descriptor is a connect error.
		fmt.Fprintln(stderr, "wsloop bench: warning:", err)
	} else if raisedFrom > 0 {
		fmt.Fprintf(stderr, "wsloop bench: raised the open-file limit from %d for %d sockets\n", raisedFrom, f.sockets)
	}

	plan := f.plan()
	plan.drain = env.drain
	run := runBench(ctx, plan, env.progress())
	if f.json {
		if err := writeJSON(stdout, run.report()); err != nil {
			fmt.Fprintln(stderr, "wsloop bench:", err)
			return 1
		}
	} else {
		writeText(stdout, run)
	}
	if run.errs.total() > 0 || run.connected == 0 {
		return 1
	}
	return 0
}

// check refuses the flags that cannot make a run.
func (f *benchFlags) check() error {
	switch {
	case f.sockets < 1:
		return fmt.Errorf("-n %d: at least one socket", f.sockets)
	case f.loops < 1:
		return fmt.Errorf("-loops %d: at least one loop", f.loops)
	case f.size < 0 || f.size > websocket.DefaultMaxMessageSize:
		return fmt.Errorf("-size %d: from 0 to %d bytes, the largest message a socket takes by default", f.size, websocket.DefaultMaxMessageSize)
	case f.rate < 0:
		return fmt.Errorf("-rate %v: not negative (0: one message in flight)", f.rate)
	case f.duration <= 0:
		return fmt.Errorf("-duration %v: more than zero", f.duration)
	case f.dialers < 1:
		return fmt.Errorf("-connecting %d: at least one", f.dialers)
	case f.handshakeTimeout <= 0:
		return fmt.Errorf("-handshake-timeout %v: more than zero", f.handshakeTimeout)
	}
	return nil
}

// plan is the run the flags ask for, with its message made.
func (f *benchFlags) plan() *benchPlan {
	p := f.benchPlan
	p.loops = min(p.loops, p.sockets) // a loop with no socket would only idle
	p.config = websocket.Config{
		HandshakeTimeout: f.handshakeTimeout,
		NoCompression:    !f.compression,
	}
	if !f.allowRemote {
		// Directly, never through a proxy of the environment: a proxy
		// would carry the load elsewhere. And only to loopback
		// addresses, whatever the name resolves to at the dial.
		p.config.Proxy = "direct"
		d := &net.Dialer{Control: loopbackOnly}
		p.config.NetDial = d.DialContext
	}
	// Random content, so that compression (-compression) cannot shrink
	// it to nothing; the same for every message, so that a send copies
	// and converts nothing.
	rng := rand.New(rand.NewPCG(1, 2))
	p.payload = make([]byte, p.size)
	for i := range p.payload {
		if p.binary {
			p.payload[i] = byte(rng.Uint32())
		} else {
			p.payload[i] = byte(' ' + rng.IntN('~'-' '+1))
		}
	}
	p.text = string(p.payload)
	return &p
}
