package peers

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wsloop/websocket/test/internal/testenv"
)

// The clients in this file are for the tests of a server: a Node `ws` or
// Python `websockets` client that connects to the server under test,
// echoes what it gets and does what the server's text commands say, so
// that the server drives the whole exchange and checks it; the client
// reports its events as JSON lines.

//go:embed python_client.py
var pythonClientScript string

// ClientOptions is what a client process is told.
type ClientOptions struct {
	// Protocols are the subprotocols offered.
	Protocols []string
	// Origin is the Origin header; none when empty.
	Origin string
	// Count is the number of connections opened at once (0 is 1); each
	// reports its own events, with its ID from 0.
	Count int
	// Paths, when set, are appended to the URL, one connection each (ID
	// i to Paths[i]), in place of Count.
	Paths []string
	// Deflate is the permessage-deflate offer; nil is the library's
	// default (both offer client_max_window_bits without a value; Node's
	// ws compresses only messages of 1024 bytes or more then).
	Deflate *ClientDeflate
}

// ClientDeflate is a client's permessage-deflate offer, in the terms the
// two libraries share.
type ClientDeflate struct {
	// Off offers no compression.
	Off bool
	// ClientNoContextTakeover and ServerNoContextTakeover are offered as
	// set.
	ClientNoContextTakeover, ServerNoContextTakeover bool
	// ClientMaxWindowBits, 8 to 15, is offered with its value;
	// WindowBitsNoValue offers the parameter without a value; 0 offers
	// none. ServerMaxWindowBits, 8 to 15, is asked of the server.
	ClientMaxWindowBits, ServerMaxWindowBits int
	// Threshold is Node's: messages shorter than that go uncompressed (0
	// compresses every one). Python compresses every message.
	Threshold int
}

// WindowBitsNoValue offers client_max_window_bits without a value.
const WindowBitsNoValue = -1

// ClientEvent is one line a client process reports.
type ClientEvent struct {
	// Event is "open", "close" or "error" ("garbage" for a line that is
	// not JSON, Message holding it).
	Event string `json:"event"`
	// ID is the connection's, from 0.
	ID int `json:"id"`
	// Protocol and Extensions, on open: the subprotocol selected and the
	// server's Sec-WebSocket-Extensions header, "" for none; Params is the
	// permessage-deflate settlement as the client holds it, nil without
	// the extension.
	Protocol   string         `json:"protocol"`
	Extensions string         `json:"extensions"`
	Params     *DeflateParams `json:"params"`
	// Code, Reason and Clean, on close: the close code the client
	// reports (the server's, 1006 without a closing handshake), its
	// reason, and whether the closing handshake completed.
	Code   int    `json:"code"`
	Reason string `json:"reason"`
	Clean  bool   `json:"clean"`
	// Message, on error: what the library said.
	Message string `json:"message"`
}

// Client is a running client process.
type Client struct {
	name   string
	conns  int
	events chan ClientEvent // closed once the process has ended
	exited chan struct{}
	stderr *testenv.Buffer
}

// NodeClient starts a client on the Node `ws` library
// (test/internal/peers/node/client.js) connecting to url with o. Each
// connection echoes every message with its type; the text messages "!close
// CODE REASON" ("!close" alone: without a code), "!ping PAYLOAD" (reported
// by "pong:PAYLOAD" once the server's pong arrives) and "!frag K" (the
// echoes that follow in K fragments, cut at any byte) are commands. The
// process exits once every connection has closed; t.Cleanup kills it if it
// has not.
//
// It needs what NodeEcho needs, and is skipped or failed as it is.
func NodeClient(t testing.TB, url string, o ClientOptions) *Client {
	t.Helper()
	setup := nodeCheck()
	if setup.why == "" {
		if _, err := os.Stat(filepath.Join(setup.dir, "client.js")); err != nil {
			setup.why = "Node peer: " + err.Error()
		}
	}
	if setup.why != "" {
		testenv.Unavailable(t, setup.why)
	}
	cmd := exec.Command(setup.node, "client.js", url, o.json(t, "threshold"))
	cmd.Dir = setup.dir
	return startClient(t, "Node client", cmd, o.conns())
}

// PythonClient is NodeClient on the Python `websockets` library
// (python_client.py), but that "!close" alone closes with 1000 and text
// fragments are cut between characters.
//
// It needs what PythonEcho needs, and is skipped or failed as it is.
func PythonClient(t testing.TB, url string, o ClientOptions) *Client {
	t.Helper()
	if why := pythonCheck(); why != "" {
		testenv.Unavailable(t, why)
	}
	cmd := exec.Command(pythonPath, "-I", "-c", pythonClientScript, url, o.json(t))
	return startClient(t, "Python client", cmd, o.conns())
}

// conns is the number of connections o makes.
func (o ClientOptions) conns() int {
	if len(o.Paths) > 0 {
		return len(o.Paths)
	}
	return max(o.Count, 1)
}

// json is o as the scripts read it; extra names the deflate fields the
// script takes beyond the shared ones.
func (o ClientOptions) json(t testing.TB, extra ...string) string {
	t.Helper()
	v := map[string]any{"protocols": o.Protocols, "count": o.conns(), "paths": o.Paths}
	if o.Origin != "" {
		v["origin"] = o.Origin
	}
	if d := o.Deflate; d != nil {
		m := map[string]any{"off": d.Off, "clientNoContextTakeover": d.ClientNoContextTakeover, "serverNoContextTakeover": d.ServerNoContextTakeover}
		for name, bits := range map[string]int{"clientMaxWindowBits": d.ClientMaxWindowBits, "serverMaxWindowBits": d.ServerMaxWindowBits} {
			switch {
			case bits == WindowBitsNoValue && name == "clientMaxWindowBits":
				m[name] = true
			case bits >= 8 && bits <= 15:
				m[name] = bits
			case bits != 0:
				t.Fatalf("peers.ClientDeflate: %s %d; want 8 to 15, or 0", name, bits)
			}
		}
		for _, e := range extra {
			if e == "threshold" {
				m[e] = d.Threshold
			}
		}
		v["deflate"] = m
	}
	p, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("peers.ClientOptions: %v", err)
	}
	return string(p)
}

// startClient runs cmd, a client process reporting its events as JSON
// lines, for conns connections.
func startClient(t testing.TB, name string, cmd *exec.Cmd, conns int) *Client {
	t.Helper()
	c := &Client{
		name:  name,
		conns: conns,
		// Every event of every connection fits: the reader never waits.
		events: make(chan ClientEvent, 4*conns+16),
		exited: make(chan struct{}),
		stderr: &testenv.Buffer{},
	}
	cmd.Stdout = &eventWriter{c: c}
	cmd.Stderr = c.stderr
	// As startProcess: the client exits when its stdin ends.
	if _, err := cmd.StdinPipe(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: starting %s: %v", name, cmd.Path, err)
	}
	go func() {
		// Wait returns once the output is all written: no event follows.
		cmd.Wait()
		close(c.events)
		close(c.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-c.exited
		if t.Failed() && c.stderr.Len() > 0 {
			t.Logf("%s stderr:\n%s", name, c.stderr.String())
		}
	})
	return c
}

// Events are the client's events, in the order it reported them; the
// channel is closed once the process has ended.
func (c *Client) Events() <-chan ClientEvent { return c.events }

// Split routes the client's events to one channel per connection, by ID,
// each closed once the process has ended. Events and Next are for the
// caller no more.
func (c *Client) Split() []<-chan ClientEvent {
	chans := make([]chan ClientEvent, c.conns)
	out := make([]<-chan ClientEvent, c.conns)
	for i := range chans {
		chans[i] = make(chan ClientEvent, 4)
		out[i] = chans[i]
	}
	go func() {
		for e := range c.events {
			if e.ID >= 0 && e.ID < len(chans) {
				chans[e.ID] <- e
			}
		}
		for _, ch := range chans {
			close(ch)
		}
	}()
	return out
}

// Exited is closed once the process has ended and its output is read.
func (c *Client) Exited() <-chan struct{} { return c.exited }

// Next returns the client's next event, failing t when none comes within
// bound or the process ends first.
func (c *Client) Next(t testing.TB, bound time.Duration) ClientEvent {
	t.Helper()
	timer := time.NewTimer(bound)
	defer timer.Stop()
	select {
	case e, ok := <-c.events:
		if ok {
			return e
		}
		t.Fatalf("%s exited without a further event\n%s", c.name, c.stderr.String())
	case <-timer.C:
		t.Fatalf("%s: no event within %v\n%s", c.name, bound, c.stderr.String())
	}
	return ClientEvent{}
}

// eventWriter is a client's stdout: each line is an event.
type eventWriter struct {
	c   *Client
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *eventWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		line, rest, ok := bytes.Cut(w.buf.Bytes(), []byte("\n"))
		if !ok {
			break
		}
		var e ClientEvent
		if err := json.Unmarshal(line, &e); err != nil {
			e = ClientEvent{Event: "garbage", Message: string(line)}
		}
		w.c.events <- e
		w.buf = *bytes.NewBuffer(append([]byte(nil), rest...))
	}
	return len(p), nil
}
