package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/wsloop/websocket"
)

// TestServeEcho: messages come back with their type, the commands act on
// the sender's connection, the protocol is the server's first choice
// among the client's, and the end of the context stops the server with
// exit code 0.
func TestServeEcho(t *testing.T) {
	url, log, stop := startServe(t, "-protocol", "x", "-protocol", "y")
	if !strings.HasPrefix(url, "ws://127.0.0.1:") {
		t.Fatalf("serve printed %q, want a ws://127.0.0.1 URL", url)
	}
	log.waitFor(t, "listening on "+url)
	c := dial(t, url, &websocket.Config{Protocols: []string{"y", "x"}})
	if c.Protocol() != "x" {
		t.Errorf("protocol %q, want x: the server's order decides", c.Protocol())
	}

	c.SendText("héllo")
	expectText(t, c, "héllo")
	c.Send([]byte{0, 1, 0xff})
	if ev := receive(t, c); !bytes.Equal(ev.(websocket.MessageEvent).Data, []byte{0, 1, 0xff}) || !ev.(websocket.MessageEvent).Binary {
		t.Errorf("got %#v, want the binary echo", ev)
	}
	c.SendText("!ping are you there?")
	if ev, ok := receive(t, c).(websocket.PingEvent); !ok || string(ev.Data) != "are you there?" {
		t.Errorf("got %#v, want the ping the command asked for", ev)
	}
	// A code the library does not send makes no command: the message is
	// data, and the log says why.
	c.SendText("!close 1005 x")
	expectText(t, c, "!close 1005 x")
	log.waitFor(t, "!close not carried out")
	c.SendText("!close 4001 bye")
	expectClosed(t, c, 4001, "bye")

	if code := stop(); code != 0 {
		t.Errorf("serve: exit code %d, want 0\n%s", code, log)
	}
	log.waitFor(t, "stopped")
}

// TestServeWithConnect: wsloop connect against wsloop serve, the pair the
// README suggests for trying by hand.
func TestServeWithConnect(t *testing.T) {
	url, _, _ := startServe(t)
	var stdout, stderr bytes.Buffer
	code := connect(context.Background(), url, websocket.Config{}, strings.NewReader("echo?\n!close 4001 bye\n"), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("connect: exit code %d\n%s", code, stderr.String())
	}
	if stdout.String() != "echo?\n" {
		t.Errorf("connect printed %q, want the echo", stdout.String())
	}
	if want := `closed: code=4001 reason="bye" wasClean=true`; !strings.Contains(stderr.String(), want) {
		t.Errorf("connect's stderr lacks %q:\n%s", want, stderr.String())
	}
}

// TestServeBroadcast: with -broadcast, a message reaches each of three
// clients, its sender included.
func TestServeBroadcast(t *testing.T) {
	url, _, _ := startServe(t, "-broadcast")
	var clients []*websocket.WebSocket
	for i := range 3 {
		c := dial(t, url, nil)
		// Each client's own join, back to it, shows that its server
		// socket is on the loop: a broadcast from now on reaches it.
		join := fmt.Sprintf("join %d", i)
		c.SendText(join)
		skipTo(t, c, join)
		clients = append(clients, c)
	}
	clients[1].SendText("news")
	for _, c := range clients {
		skipTo(t, c, "news") // the later clients' joins come first
	}
	clients[2].Send([]byte{1, 2, 3})
	for _, c := range clients {
		if m, ok := receive(t, c).(websocket.MessageEvent); !ok || !m.Binary || !bytes.Equal(m.Data, []byte{1, 2, 3}) {
			t.Errorf("socket %d: got %#v, want the binary broadcast", c.ID(), m)
		}
	}
}

// skipTo takes the socket's messages until the text want.
func skipTo(t *testing.T, c *websocket.WebSocket, want string) {
	t.Helper()
	for {
		m, ok := receive(t, c).(websocket.MessageEvent)
		if ok && !m.Binary && m.Text() == want {
			return
		}
	}
}

// TestServeBroadcastSkipsSlowClients: a client that does not read is
// skipped once its backlog is full, named on stderr, while the others go
// on getting every message.
func TestServeBroadcastSkipsSlowClients(t *testing.T) {
	srv, log := startSmallBacklog(t, true)
	fast := dial(t, srv.URL(), nil)
	fast.SendText("fast")
	skipTo(t, fast, "fast")
	slow := rawDial(t, srv.URL())
	if err := wsutil.WriteClientText(slow, []byte("slow")); err != nil {
		t.Fatal(err)
	}
	skipTo(t, fast, "slow") // its socket is on the loop; it reads no more

	// Each message waits for its own copy: the fast client's backlog is
	// empty at every broadcast, while the slow one's grows once the
	// kernel's buffers are full, a few MiB.
	payload := bytes.Repeat([]byte{0x5a}, 64<<10)
	for i := 0; !strings.Contains(log.String(), "broadcast skipped slow clients"); i++ {
		if i == 1000 {
			t.Fatalf("no client skipped after %d MiB:\n%s", i*len(payload)>>20, log)
		}
		if err := fast.Send(payload); err != nil {
			t.Fatal(err)
		}
		if m, ok := receive(t, fast).(websocket.MessageEvent); !ok || len(m.Data) != len(payload) {
			t.Fatalf("the fast client got %#v, want its broadcast", m)
		}
	}
	if line := log.waitFor(t, "broadcast skipped slow clients"); !strings.Contains(line, "sockets=2") {
		t.Errorf("the line names the wrong count: %s", line)
	}
}

// TestServeOrigins: -origin allows the pages of the origins it matches
// and no other (403, logged with the reason); without it, only the
// server's own origin.
func TestServeOrigins(t *testing.T) {
	withOrigin := func(origin string) *websocket.Config {
		return &websocket.Config{Header: http.Header{"Origin": {origin}}}
	}
	refused := func(t *testing.T, url, origin string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_, err := websocket.Dial(ctx, url, withOrigin(origin))
		var he *websocket.HandshakeError
		if !errors.As(err, &he) || he.StatusCode != http.StatusForbidden {
			t.Fatalf("origin %s: got %v, want a 403", origin, err)
		}
	}

	t.Run("patterns", func(t *testing.T) {
		url, log, _ := startServe(t, "-origin", "https://*.example.org", "-origin", "http://localhost:*")
		dial(t, url, withOrigin("https://app.example.org"))
		dial(t, url, withOrigin("http://localhost:3000"))
		refused(t, url, "https://evil.example.com")
		line := log.waitFor(t, "msg=refused")
		if !strings.Contains(line, "status=403") || !strings.Contains(line, "evil.example.com") {
			t.Errorf("the refusal's line lacks the status or the origin: %s", line)
		}
	})
	t.Run("same origin", func(t *testing.T) {
		url, _, _ := startServe(t)
		dial(t, url, withOrigin("http://"+strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/")))
		dial(t, url, nil) // no Origin: no browser
		refused(t, url, "https://app.example.org")
	})
}

// TestServeCompression: permessage-deflate is accepted unless
// -no-compression.
func TestServeCompression(t *testing.T) {
	url, _, _ := startServe(t)
	if ext := dial(t, url, nil).Extensions(); !strings.HasPrefix(ext, "permessage-deflate") {
		t.Errorf("extensions %q, want permessage-deflate", ext)
	}
	url, _, _ = startServe(t, "-no-compression")
	if ext := dial(t, url, nil).Extensions(); ext != "" {
		t.Errorf("extensions %q with -no-compression, want none", ext)
	}
}

// TestServePingInterval: -ping-interval pings a client that is silent.
func TestServePingInterval(t *testing.T) {
	url, _, _ := startServe(t, "-ping-interval", "20ms")
	c := rawDial(t, url)
	c.SetReadDeadline(time.Now().Add(waitTimeout))
	if hdr, _ := nextControl(t, c); hdr.OpCode != ws.OpPing {
		t.Fatalf("got a %v frame, want a ping", hdr.OpCode)
	}
}

// nextControl reads a server's frames from c, passing data frames over,
// up to its first control frame, which it returns with its payload.
func nextControl(t *testing.T, c net.Conn) (ws.Header, []byte) {
	t.Helper()
	for {
		hdr, err := ws.ReadHeader(c)
		if err != nil {
			t.Fatal(err)
		}
		if !hdr.OpCode.IsControl() {
			if _, err := io.CopyN(io.Discard, c, hdr.Length); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if hdr.Length > ws.MaxControlFramePayloadSize {
			t.Fatalf("a %v frame of %d bytes", hdr.OpCode, hdr.Length)
		}
		p := make([]byte, hdr.Length)
		if _, err := io.ReadFull(c, p); err != nil {
			t.Fatal(err)
		}
		return hdr, p
	}
}

// TestServeBadFlags: a flag the Upgrader refuses stops serve at its start
// (exit 1, the reason on stderr), not at the first request with 500.
func TestServeBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-origin", "example.org"},
		{"-protocol", "a b"},
		{"-ping-interval", "1us"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"serve", "-addr", "127.0.0.1:0"}, args...), nil, &stdout, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), "wsloop serve:") || stdout.Len() != 0 {
			t.Errorf("serve %q: exit code %d, stdout %q, stderr:\n%s", args, code, stdout.String(), stderr.String())
		}
	}
}

// TestServeEchoBacklogFull: a client that sends and does not read is
// closed with 1008 once its echo's backlog is full, rather than have its
// echoes dropped unknown to it.
func TestServeEchoBacklogFull(t *testing.T) {
	srv, log := startSmallBacklog(t, false)
	c := rawDial(t, srv.URL())
	c.SetDeadline(time.Now().Add(waitTimeout))
	payload := bytes.Repeat([]byte{0x5a}, 64<<10)
	for i := 0; !strings.Contains(log.String(), "echo backlog full"); i++ {
		if i == 1000 {
			t.Fatalf("no close after %d MiB:\n%s", i*len(payload)>>20, log)
		}
		if err := wsutil.WriteClientBinary(c, payload); err != nil {
			t.Fatal(err)
		}
	}
	// The echoes written before the close come first.
	hdr, p := nextControl(t, c)
	if code, reason := ws.ParseCloseFrameData(p); hdr.OpCode != ws.OpClose || code != echoFullCode || reason != echoFullReason {
		t.Fatalf("got a %v frame %d %q, want the close %d %q", hdr.OpCode, code, reason, echoFullCode, echoFullReason)
	}
}

// startSmallBacklog runs the server in the process with a backlog that
// one message fills (MaxBufferedAmount 1; an empty backlog takes any
// message), so that a client that does not read is found after a few
// MiB, the kernel's buffers, and not 16.
func startSmallBacklog(t *testing.T, broadcast bool) (*server, *logLines) {
	t.Helper()
	log := newLogLines()
	srv, err := startServer("127.0.0.1:0", serverOptions{
		Broadcast: broadcast, NoCompression: true, Logger: slog.New(slog.NewTextHandler(log, nil)),
		maxBuffered: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		srv.shutdown(ctx)
	})
	return srv, log
}

// rawDial opens a gobwas/ws client connection, whose frames the test
// reads and writes itself (or does not read at all), closed at the
// test's end.
func rawDial(t *testing.T, url string) net.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, br, _, err := ws.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if br != nil {
		// Frames read with the 101 would be skipped by reading c.
		t.Fatal("the server sent frames before any was asked for")
	}
	return c
}
