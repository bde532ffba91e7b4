package fuzzing_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
)

// FuzzHandshake fuzzes what a server answers to the upgrade request: a
// loopback server reads the request and writes the fuzzed bytes, with
// every "{ACCEPT}" replaced by the Sec-WebSocket-Accept value the
// request's key calls for (so that the fuzzer can reach a successful
// handshake), then either closes the connection or, when hold is set,
// keeps it open until the client closes it. The client offers the
// protocols "chat" and "superchat" when offer is set, none otherwise.
// websocket.Dial must:
//
//   - never panic, nor hang: it returns within a bound set by its
//     HandshakeTimeout;
//   - return either an open socket or a typed error: a *HandshakeError,
//     or an error matching context.DeadlineExceeded;
//   - open only on a response that RFC 6455 4.1 lets it accept: status
//     101, Upgrade websocket, Connection upgrade, the right
//     Sec-WebSocket-Accept, no protocol it did not offer, and no extension
//     but a permessage-deflate response RFC 7692 lets it accept (the
//     client offers Chromium's "permessage-deflate;
//     client_max_window_bits"); Extensions() is then the response's;
//   - leave no goroutine behind once the socket is closed.
func FuzzHandshake(f *testing.F) {
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n\r\n"), true, false)
	srv := startHandshakeServer(f)
	f.Fuzz(func(t *testing.T, response []byte, hold, offer bool) {
		var protocols []string
		if offer {
			protocols = offered
		}
		before := runtime.NumGoroutine()
		keys, done := srv.answerNext(response, hold)

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		ws, err := websocket.Dial(ctx, srv.url, &websocket.Config{
			Protocols:        protocols,
			HandshakeTimeout: handshakeTimeout,
			// The server never answers a close frame: the client
			// waits this long after an open.
			CloseTimeout: 20 * time.Millisecond,
		})
		if d := time.Since(start); d > hangBound {
			t.Fatalf("Dial took %v with a %v HandshakeTimeout", d, handshakeTimeout)
		}
		key := <-keys
		resp := bytes.ReplaceAll(response, []byte("{ACCEPT}"), []byte(acceptFor(key)))

		if err != nil {
			if ws != nil {
				t.Fatalf("Dial returned a socket and the error %v", err)
			}
			var he *websocket.HandshakeError
			if !errors.As(err, &he) && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Dial: %v (%T); want a *websocket.HandshakeError or a deadline", err, err)
			}
			if he != nil && he.StatusCode == http.StatusSwitchingProtocols && refusable(resp, key, protocols, "") == "" {
				// (A response whose extension it cannot judge, maybe, may go either way.)
				t.Fatalf("HandshakeError.StatusCode 101 for a response the client may accept: %v", err)
			}
		} else {
			if why := refusable(resp, key, protocols, ws.Protocol()); why != "" && why != maybe {
				ws.Close()
				t.Fatalf("Dial accepted a response it must refuse (%s):\n%q", why, resp)
			}
			switch st := ws.ReadyState(); st {
			case websocket.Open, websocket.Closing, websocket.Closed:
			default:
				t.Fatalf("readyState after Dial = %v", st)
			}
			if ext := headerValues(resp, "sec-websocket-extensions"); ws.Extensions() != strings.Join(ext, ", ") && strings.Join(ext, "") != "" {
				t.Fatalf("Extensions() = %q; the response's is %q", ws.Extensions(), ext)
			}
			closeStart := time.Now()
			ws.Close()
			if d := time.Since(closeStart); d > hangBound {
				t.Fatalf("Close took %v", d)
			}
			if st := ws.ReadyState(); st != websocket.Closed {
				t.Fatalf("readyState after Close = %v", st)
			}
		}
		select {
		case <-done:
		case <-time.After(2 * hangBound):
			t.Fatal("the server's connection did not end: the client did not close it")
		}
		waitGoroutines(t, before)
	})
}

// offered are the subprotocols the fuzzed client offers, when it does.
var offered = []string{"chat", "superchat"}

const (
	// handshakeTimeout bounds a Dial whose server never finishes its
	// answer. On a loaded machine a good handshake may run out of it too,
	// which is an outcome the target accepts.
	handshakeTimeout = 100 * time.Millisecond
	// hangBound is how long a call may take before it counts as a hang:
	// far over the timeouts, for loaded machines.
	hangBound = 5 * time.Second
)

// handshakeServer is a listener that answers one connection per fuzz
// input.
type handshakeServer struct {
	ln  net.Listener
	url string
	wg  sync.WaitGroup
}

func startHandshakeServer(f testing.TB) *handshakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	s := &handshakeServer{ln: ln, url: "ws://" + ln.Addr().String() + "/chat"}
	f.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

// answerNext answers the next connection with response on a goroutine. It
// returns a channel that gets the request's Sec-WebSocket-Key once it is
// read ("" if there is no request), and one closed once the connection is
// over.
func (s *handshakeServer) answerNext(response []byte, hold bool) (<-chan string, <-chan struct{}) {
	keys := make(chan string, 1)
	done := make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(done)
		nc, err := s.ln.Accept()
		if err != nil {
			keys <- ""
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(hangBound))
		br := bufio.NewReader(nc)
		req, err := http.ReadRequest(br)
		if err != nil {
			keys <- ""
			return
		}
		key := req.Header.Get("Sec-WebSocket-Key")
		keys <- key
		nc.Write(bytes.ReplaceAll(response, []byte("{ACCEPT}"), []byte(acceptFor(key))))
		if hold {
			// Until the client closes: after a failed handshake at
			// once, after an open socket once it is closed.
			for {
				if _, err := br.Discard(1); err != nil {
					return
				}
			}
		}
	}()
	return keys, done
}

// acceptFor is RFC 6455's Sec-WebSocket-Accept for key.
func acceptFor(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// refusable says why RFC 6455 4.1 makes the client fail the connection on
// resp, a response to a request with key offering protocols, or "" when it
// may accept it. It reads the head leniently (bare LF line
// ends, any header case, repeated headers): a response it calls refusable
// is refusable however it is read. protocol is what the client reports as
// selected.
func refusable(resp []byte, key string, protocols []string, protocol string) string {
	head, _, found := bytes.Cut(resp, []byte("\n\r\n"))
	if !found {
		head, _, found = bytes.Cut(resp, []byte("\n\n"))
	}
	if !found {
		return "no end of the header"
	}
	lines := strings.Split(string(head), "\n")
	if code, ok := statusCode(resp); !ok || code != http.StatusSwitchingProtocols {
		return fmt.Sprintf("status line %q", firstLine(resp))
	}
	if !strings.HasPrefix(firstLine(resp), "HTTP/1.1 ") {
		return fmt.Sprintf("status line %q: only HTTP/1.1 switches protocols", firstLine(resp))
	}
	h := map[string][]string{}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(strings.TrimSuffix(l, "\r"), ":")
		if !ok {
			continue
		}
		k := strings.ToLower(strings.TrimSpace(name))
		h[k] = append(h[k], strings.Trim(value, " \t"))
	}
	hasToken := func(name, token string) bool {
		for _, v := range h[name] {
			for _, t := range strings.Split(v, ",") {
				if strings.EqualFold(strings.TrimSpace(t), token) {
					return true
				}
			}
		}
		return false
	}
	for _, once := range []string{"upgrade", "sec-websocket-accept", "sec-websocket-protocol"} {
		if len(h[once]) > 1 {
			return fmt.Sprintf("%d %s headers, which RFC 6455 allows once", len(h[once]), once)
		}
	}
	switch {
	case !hasToken("upgrade", "websocket"):
		return "no Upgrade: websocket"
	case !hasToken("connection", "upgrade"):
		return "no Connection: upgrade"
	case !contains(h["sec-websocket-accept"], acceptFor(key)):
		return "no right Sec-WebSocket-Accept"
	case protocol != "" && !contains(protocols, protocol):
		return fmt.Sprintf("protocol %q, which the client did not offer", protocol)
	case protocol != "" && !hasToken("sec-websocket-protocol", protocol):
		return fmt.Sprintf("the client reports protocol %q, which the response does not select", protocol)
	case protocol == "" && strings.Join(h["sec-websocket-protocol"], "") != "":
		return fmt.Sprintf("the response selects %q, which the client does not report", h["sec-websocket-protocol"])
	}
	return deflateResponse(h["sec-websocket-extensions"])
}

// maybe is refusable's word for a response whose extension header it does
// not judge: quoted strings, odd spacing and case, which a lenient reading
// and a strict one may take differently.
const maybe = "maybe"

// deflateParam is a parameter of a response RFC 7692 lets the client
// accept, in its plainest spelling.
var deflateParam = regexp.MustCompile(`^(server_no_context_takeover|client_no_context_takeover|(server|client)_max_window_bits=(8|9|1[0-5]))$`)

// deflateResponse judges the response's Sec-WebSocket-Extensions against
// the offer "permessage-deflate; client_max_window_bits": "" for none, or
// one permessage-deflate with known parameters, each once, with their
// values; a reason for an extension not offered or a parameter RFC 7692
// does not know; maybe for anything else.
func deflateResponse(values []string) string {
	v := strings.TrimSpace(strings.Join(values, ","))
	if v == "" {
		return ""
	}
	if strings.ContainsAny(v, "\"\\") || len(values) > 1 {
		return maybe
	}
	parts := strings.Split(v, ";")
	name := strings.TrimSpace(parts[0])
	if name != "permessage-deflate" {
		if strings.ContainsAny(name, ", \t") || strings.EqualFold(name, "permessage-deflate") {
			return maybe
		}
		return "an extension the client did not offer"
	}
	seen := map[string]bool{}
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		if !deflateParam.MatchString(p) {
			switch k, _, _ := strings.Cut(p, "="); strings.ToLower(strings.TrimSpace(k)) {
			case "server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits", "client_max_window_bits":
				return maybe
			}
			return "a parameter RFC 7692 does not know"
		}
		k, _, _ := strings.Cut(p, "=")
		if seen[k] {
			return "a permessage-deflate parameter given twice"
		}
		seen[k] = true
	}
	return ""
}

// headerValues is the values of the header name (lower case) in resp's
// head, read as refusable reads it.
func headerValues(resp []byte, name string) []string {
	head, _, _ := bytes.Cut(resp, []byte("\n\r\n"))
	var vals []string
	for _, l := range strings.Split(string(head), "\n")[1:] {
		k, v, ok := strings.Cut(strings.TrimSuffix(l, "\r"), ":")
		if ok && strings.ToLower(strings.TrimSpace(k)) == name {
			vals = append(vals, strings.Trim(v, " \t"))
		}
	}
	return vals
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func firstLine(resp []byte) string {
	line, _, _ := bytes.Cut(resp, []byte("\n"))
	return strings.TrimSuffix(string(line), "\r")
}

// statusCode is the three-digit code of the status line "HTTP/x.y NNN".
func statusCode(resp []byte) (int, bool) {
	f := strings.Fields(firstLine(resp))
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") || len(f[1]) != 3 {
		return 0, false
	}
	code := 0
	for _, c := range f[1] {
		if c < '0' || c > '9' {
			return 0, false
		}
		code = code*10 + int(c-'0')
	}
	return code, true
}

// waitGoroutines fails t when the goroutine count does not come back to
// before: the input's connection left something running.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(hangBound)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before the input, %d after:\n%s", before, runtime.NumGoroutine(),
				buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}
