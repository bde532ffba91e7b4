package websocket_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/wsloop/websocket"
	"github.com/wsloop/websocket/internal/echoserver"
)

// A MessageWriter's message goes out as a first frame, continuations and
// an empty final one; Send waits for its Close.
func TestMessageWriterFrames(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		want := []struct {
			fin bool
			op  byte
			p   string
		}{{false, opBinary, "hello "}, {false, opCont, "world"}, {true, opCont, ""}, {true, opText, "after"}}
		for _, w := range want {
			if f := c.readFrame(); f.Fin != w.fin || f.Op != w.op || string(f.Payload) != w.p {
				c.fail("got %v, want fin=%v op=%d %q", f, w.fin, w.op, w.p)
			}
		}
		c.finish(websocket.CloseNormal, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnOpen = func(ws *websocket.WebSocket) {
		w, err := ws.NewMessageWriter(context.Background(), true)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, "hello ")
		if err := ws.SendText("too soon"); !errors.Is(err, websocket.ErrWriterOpen) {
			t.Errorf("SendText with a writer open: %v", err)
		}
		if _, err := ws.NewMessageWriter(context.Background(), true); !errors.Is(err, websocket.ErrWriterOpen) {
			t.Errorf("a second writer: %v", err)
		}
		io.WriteString(w, "world")
		if err := w.Close(); err != nil {
			t.Error(err)
		}
		if err := ws.SendText("after"); err != nil {
			t.Error(err)
		}
	}
	tc.run()
	srv.report(t)
	if s := tc.WS.Stats(); s.MessagesOut != 2 {
		t.Errorf("Stats count %d messages out, want 2", s.MessagesOut)
	}
}

// A text writer keeps each frame whole characters: a character split
// across Writes goes out whole in the next frame. Bytes that are not
// UTF-8 end the message without them.
func TestMessageWriterText(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		var frames []string
		for {
			f := c.readFrame()
			if f.Op == opClose {
				break
			}
			frames = append(frames, string(f.Payload))
		}
		if got := fmtLines(frames); got != `"h"|"é"|"llo"|""|"ok"|""` {
			c.fail("frames %s", got)
		}
		c.write(closeFrame(websocket.CloseNormal, ""))
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnOpen = func(ws *websocket.WebSocket) {
		w, _ := ws.NewMessageWriter(context.Background(), false)
		for _, p := range []string{"h\xc3", "\xa9llo"} {
			if n, err := io.WriteString(w, p); n != len(p) || err != nil {
				t.Errorf("Write(%q): %d, %v", p, n, err)
			}
		}
		if err := w.Close(); err != nil {
			t.Error(err)
		}
		w, _ = ws.NewMessageWriter(context.Background(), false)
		io.WriteString(w, "ok")
		if _, err := io.WriteString(w, "\xff"); !errors.Is(err, websocket.ErrInvalidUTF8) {
			t.Errorf("Write of invalid UTF-8: %v", err)
		}
		if err := w.Close(); !errors.Is(err, websocket.ErrInvalidUTF8) {
			t.Errorf("Close after invalid UTF-8: %v", err)
		}
		ws.CloseWith(websocket.CloseNormal, "")
	}
	tc.run()
	srv.report(t)
}

func fmtLines(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(strconv.Quote(x))
	}
	return b.String()
}

// A message larger than the send bound streams through a MessageWriter:
// io.Copy waits for the loop to write, the backlog stays bounded, and the
// echo server returns the message whole.
func TestMessageWriterStreamsPastTheBound(t *testing.T) {
	srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), rawFailBound)
	defer cancel()
	const bound = 64 << 10
	ws, err := websocket.Dial(ctx, srv.URL(), &websocket.Config{MaxBufferedAmount: bound})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	msg := make([]byte, 8<<20)
	rand.NewChaCha8([32]byte{1}).Read(msg)
	w, err := ws.NewMessageWriter(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	peak := 0
	r := &peekReader{r: bytes.NewReader(msg), each: func() { peak = max(peak, ws.BufferedAmount()) }}
	if _, err := io.Copy(w, r); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if peak > bound+32<<10 {
		t.Errorf("backlog reached %d bytes, bound %d", peak, bound)
	}
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil || !bytes.Equal(m.Data, msg) {
		t.Fatalf("echo: %d bytes, %v", len(m.Data), err)
	}
}

// peekReader calls each before each Read.
type peekReader struct {
	r    io.Reader
	each func()
}

func (p *peekReader) Read(b []byte) (int, error) {
	p.each()
	return p.r.Read(b)
}

// The net.Conn view: writes are messages, reads a stream of their bytes,
// deadlines time a Read out and can be moved, and the server's normal
// close is io.EOF.
func TestNetConn(t *testing.T) {
	srv, ws, _ := dialEcho(t, nil)
	nc, err := ws.NetConn(false)
	if err != nil {
		t.Fatal(err)
	}
	if nc.RemoteAddr().String() != srv.Addr().String() || nc.LocalAddr() == nil {
		t.Errorf("addresses %v -> %v, server %v", nc.LocalAddr(), nc.RemoteAddr(), srv.Addr())
	}
	io.WriteString(nc, "line one\nline")
	io.WriteString(nc, " two\n")
	br := bufio.NewReader(nc)
	for _, want := range []string{"line one\n", "line two\n"} {
		if got, err := br.ReadString('\n'); got != want || err != nil {
			t.Fatalf("ReadString: %q, %v", got, err)
		}
	}
	nc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := br.ReadByte(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline: %v", err)
	}
	nc.SetReadDeadline(time.Time{})
	io.WriteString(nc, "x")
	if b, err := br.ReadByte(); b != 'x' || err != nil {
		t.Fatalf("Read after the deadline was lifted: %q, %v", b, err)
	}
	io.WriteString(nc, "!close 1000")
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("Read after the server's close: %v", err)
	}
	if err := nc.Close(); err != nil {
		t.Fatal(err)
	}
	wsNew, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: websocket.NewEventLoop()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wsNew.NetConn(true); !errors.Is(err, websocket.ErrNotDialed) {
		t.Errorf("NetConn of a socket from New: %v", err)
	}
	wsNew.Close()
	wsNew.Loop().Run()
}

// A blocked Read wakes when its deadline is moved into the past, and one
// moved later lets it go on waiting.
func TestNetConnDeadlineMoved(t *testing.T) {
	_, ws, _ := dialEcho(t, nil)
	defer ws.Close()
	nc, _ := ws.NetConn(true)
	nc.SetReadDeadline(time.Now().Add(time.Hour))
	done := make(chan error, 1)
	go func() {
		_, err := nc.Read(make([]byte, 1))
		done <- err
	}()
	nc.SetReadDeadline(time.Now().Add(time.Hour * 2)) // later: still waiting
	nc.SetReadDeadline(time.Now().Add(-time.Second))  // past: wakes it
	if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read: %v", err)
	}
}

// With StreamMessages a message larger than the inbox passes through it
// in parts: NextReader reads it as it arrives, the inbox stays bounded;
// WaitForNextMessage still returns whole messages; a reader left unread
// is skipped.
func TestStreamMessages(t *testing.T) {
	const inbox = 128 << 10
	_, ws, ctx := dialEcho(t, &websocket.Config{StreamMessages: true, MaxInboxSize: inbox, MaxBufferedAmount: 64 << 20})
	defer ws.Close()
	big := make([]byte, 4<<20) // 32 times the inbox
	rand.NewChaCha8([32]byte{2}).Read(big)
	for _, m := range [][]byte{big, []byte("skipped"), big[:100_000], []byte("small")} {
		if err := ws.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	r, err := ws.NextReader(ctx)
	if err != nil || !r.Binary {
		t.Fatalf("NextReader: %v", err)
	}
	peak := 0
	var got bytes.Buffer
	if _, err := io.Copy(&got, &peekReader{r: r, each: func() { peak = max(peak, websocket.InboxBytes(ws)) }}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), big) {
		t.Fatalf("read %d bytes, not the message", got.Len())
	}
	if peak > inbox+2*(64<<10)+64 {
		t.Errorf("the inbox held %d bytes, over its bound %d and a read", peak, inbox)
	}
	r, _ = ws.NextReader(ctx)
	io.CopyN(io.Discard, r, 3) // and leave the rest
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil || !bytes.Equal(m.Data, big[:100_000]) {
		t.Fatalf("WaitForNextMessage: %d bytes, %v", len(m.Data), err)
	}
	m, err = ws.WaitForNextMessage(ctx)
	if err != nil || string(m.Data) != "small" {
		t.Fatalf("WaitForNextMessage: %q, %v", m.Data, err)
	}
	if s := ws.Stats(); s.MessagesIn != 4 {
		t.Errorf("Stats count %d messages in, want 4", s.MessagesIn)
	}
}

func TestStreamMessagesRefused(t *testing.T) {
	_, err := websocket.NewWithConfig("ws://127.0.0.1:1/", &websocket.Config{StreamMessages: true})
	var ce *websocket.ConfigError
	if !errors.As(err, &ce) || ce.Field != "StreamMessages" {
		t.Errorf("NewWithConfig with StreamMessages: %v", err)
	}
	srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ws, err := websocket.Dial(context.Background(), srv.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, err := ws.NextReader(context.Background()); !errors.Is(err, websocket.ErrNotStreaming) {
		t.Errorf("NextReader without StreamMessages: %v", err)
	}
}

// dialEcho dials the embedded echo server with cfg; the server closes and
// ctx ends with the test.
func dialEcho(t *testing.T, cfg *websocket.Config) (*echoserver.Server, *websocket.WebSocket, context.Context) {
	t.Helper()
	srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), rawFailBound)
	t.Cleanup(cancel)
	ws, err := websocket.Dial(ctx, srv.URL(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, ws, ctx
}

// A 4-byte character split across Writes goes out whole, and the rest
// of the message after it.
func TestMessageWriterFourByteCharacter(t *testing.T) {
	_, ws, ctx := dialEcho(t, nil)
	defer ws.Close()
	w, err := ws.NewMessageWriter(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	msg := "a\U0001F600bc\U0001F601d" // two 4-byte characters
	for i := 0; i < len(msg); i++ {   // a byte per Write
		if n, err := w.Write([]byte{msg[i]}); n != 1 || err != nil {
			t.Fatalf("Write of byte %d: %d, %v", i, n, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil || m.Text() != msg {
		t.Fatalf("echo %q, %v", m.Data, err)
	}
}
