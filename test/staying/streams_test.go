package staying_test

// Streams against real peers, through the chaos proxy: a MessageWriter's
// message of several MiB, written in many pieces, comes back whole from
// servers that reassemble it from its fragments; NetConn carries a byte
// stream both ways with io.Copy and bufio; and a MessageWriter whose
// connection is lost in the middle of its message is told so, while the
// socket reconnects and the next message goes through whole.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/chaos"
)

// TestStreams is not parallel: its megabytes keep both cores busy under
// the race detector, which would delay the pongs of the keepalive tests
// past their PongTimeout. It runs alone, before the parallel tests.
func TestStreams(t *testing.T) {
	concurrently(t, []peer{python, node}, peerName, func(t *testing.T, p peer) {
		server := p.start(t)
		type scenario struct {
			name string
			run  func(*testing.T, string)
		}
		scenarios := []scenario{
			{"MessageWriterBinary", func(t *testing.T, u string) { messageWriter(t, u, binaryData) }},
			{"MessageWriterText", func(t *testing.T, u string) { messageWriter(t, u, textData) }},
			{"MessageWriterText4Byte", func(t *testing.T, u string) { messageWriter(t, u, text4Data) }},
			{"NetConn", netConnCopy},
			{"MessageWriterInterrupted", writerInterrupted},
		}
		concurrently(t, scenarios, func(s scenario) string { return s.name }, func(t *testing.T, s scenario) {
			s.run(t, server)
		})
	})
}

// dialThrough dials the server through a proxy of its own; the socket is
// closed at the test's end, and ctx bounds the test's blocking calls.
func dialThrough(t *testing.T, server string, cfg websocket.Config) (*websocket.WebSocket, *chaos.Proxy, context.Context) {
	t.Helper()
	p, u := proxied(t, server)
	ctx, cancel := context.WithTimeout(context.Background(), watchdog)
	t.Cleanup(cancel)
	ws, err := websocket.Dial(ctx, u, &cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws, p, ctx
}

// What a stream carries.
type streamKind int

const (
	binaryData streamKind = iota
	textData              // text of 1- to 3-byte characters
	text4Data             // text with 4-byte characters too
)

// streamData is n bytes to stream: for text, lines of mixed characters,
// so that pieces of odd sizes split characters.
func streamData(n int, kind streamKind) []byte {
	if kind == binaryData {
		// Random bytes, numbered every 1000, which do not compress.
		var b bytes.Buffer
		for i := 0; b.Len() < n; i++ {
			b.Write(numbered(i, 1000))
		}
		return b.Bytes()[:n]
	}
	line := "line %d: aé€\n"
	if kind == text4Data {
		line = "line %d: aé€😀\n"
	}
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, line, i)
	}
	s := b.String()[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return []byte(s)
}

// messageWriter: 3 MiB written in pieces of 10007 bytes (text pieces
// split characters, which the writer holds back to keep each frame whole
// UTF-8), with a backlog bound of 256 KiB, so that Write waits for the
// loop to write; the server reassembles the fragments and echoes one
// message, which must be what was written.
func messageWriter(t *testing.T, server string, kind streamKind) {
	const (
		size  = 3 << 20
		piece = 10007
	)
	binary := kind == binaryData
	ws, _, ctx := dialThrough(t, server, websocket.Config{MaxBufferedAmount: 256 << 10})
	data := streamData(size, kind)
	w, err := ws.NewMessageWriter(ctx, binary)
	if err != nil {
		t.Fatalf("NewMessageWriter: %v", err)
	}
	if err := ws.SendText("between"); !errors.Is(err, websocket.ErrWriterOpen) {
		t.Errorf("SendText while the writer's message is open: %v; want ErrWriterOpen", err)
	}
	for rest := data; len(rest) > 0; {
		p := rest[:min(piece, len(rest))]
		n, err := w.Write(p)
		if err != nil {
			t.Fatalf("Write after %d bytes: %v", len(data)-len(rest), err)
		}
		if n != len(p) {
			t.Fatalf("Write(%d bytes) = %d, nil after %d bytes; want all of them or an error", len(p), n, len(data)-len(rest))
		}
		rest = rest[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatalf("writer Close: %v", err)
	}
	if err := ws.SendText("after"); err != nil {
		t.Fatalf("SendText after the writer's Close: %v", err)
	}
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil {
		t.Fatalf("waiting for the echo: %v", err)
	}
	if m.Binary != binary || !bytes.Equal(m.Data, data) {
		t.Fatalf("echo: binary %t, %d bytes, equal %t; want binary %t, the %d bytes written", m.Binary, len(m.Data), bytes.Equal(m.Data, data), binary, len(data))
	}
	if m, err := ws.WaitForNextMessage(ctx); err != nil || m.Text() != "after" {
		t.Fatalf("next message %q, %v; want the echo of \"after\"", m.Data, err)
	}
	if st := ws.Stats(); st.MessagesOut != 2 || st.MessagesIn != 2 {
		t.Errorf("Stats %+v; want 2 messages each way", st)
	}
}

// onlyReader hides a reader's WriteTo, so that io.Copy writes in pieces
// of its buffer's size rather than in one Write.
type onlyReader struct{ io.Reader }

// netConnCopy: io.Copy of lines into a NetConn, one message per 32-KiB
// piece, then a command that makes the server close with 1000; at the
// same time, bufio reads the echoed lines back across the messages'
// boundaries, and io.Copy takes what follows up to io.EOF: nothing.
func netConnCopy(t *testing.T, server string) {
	const lines = 20000
	ws, _, ctx := dialThrough(t, server, websocket.Config{})
	conn, err := ws.NetConn(true)
	if err != nil {
		t.Fatalf("NetConn: %v", err)
	}
	var sent bytes.Buffer
	for i := range lines {
		fmt.Fprintf(&sent, "line %d of %d\n", i, lines)
	}
	copied := make(chan error, 1)
	go func() {
		n, err := io.Copy(conn, onlyReader{bytes.NewReader(sent.Bytes())})
		if err == nil && n != int64(sent.Len()) {
			err = fmt.Errorf("copied %d bytes of %d", n, sent.Len())
		}
		if err == nil {
			// Behind every piece: the server echoes them all, then
			// closes.
			err = ws.SendText("!close 1000 done")
		}
		copied <- err
	}()

	r := bufio.NewReader(conn)
	for i := range lines {
		line, err := r.ReadString('\n')
		if want := fmt.Sprintf("line %d of %d\n", i, lines); err != nil || line != want {
			t.Fatalf("line %d: %q, %v; want %q", i, line, err, want)
		}
	}
	var rest bytes.Buffer
	if n, err := io.Copy(&rest, r); err != nil || n != 0 {
		t.Errorf("io.Copy after the last line: %d bytes (%q), %v; want none, then io.EOF (nil from io.Copy)", n, rest.Bytes(), err)
	}
	if err := <-copied; err != nil {
		t.Fatalf("io.Copy into the NetConn: %v", err)
	}
	if n, err := conn.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("Read after the server's close: %d, %v; want io.EOF", n, err)
	}
	if _, err := ws.WaitForNextMessage(ctx); !errors.Is(err, websocket.ErrClosed) {
		t.Errorf("WaitForNextMessage after the close: %v; want a ClosedError", err)
	}
	if err := conn.Close(); err != nil {
		t.Errorf("Close of the closed NetConn: %v", err)
	}
}

// writerInterrupted: a MessageWriter streams, from tasks on the socket's
// loop, through a path that stalls in the middle of its message, until
// the connection takes no more: the backlog stays at its bound for
// stuckFor, across many turns of the loop, each of which would have
// written what the connection took. Then the path is reset, and passes
// again. The writer returns ErrMessageInterrupted from then on; the
// ReconnectEvent's Lost is what was queued of the message and never
// written, which BufferedAmount counts for good. The next message, by a
// new writer, comes back whole, and nothing of the interrupted one does.
func writerInterrupted(t *testing.T, server string) {
	const (
		piece    = 64 << 10
		bound    = 256 << 10
		stuckFor = 50 * time.Millisecond
	)
	ws, p, ctx := dialThrough(t, server, websocket.Config{MaxBufferedAmount: bound, Reconnect: fastRetry()})
	buf := streamData(piece, binaryData)
	var (
		w        *websocket.MessageWriter
		written  int // bytes queued by w
		stuck    int // BufferedAmount when the path is reset
		writeErr error
	)
	lost := make(chan struct{})
	ws.Loop().Post(func() {
		var err error
		if w, err = ws.NewMessageWriter(ctx, true); err != nil {
			writeErr = err
			close(lost)
			return
		}
		p.SetFault(chaos.Stall)
		var (
			tick    *websocket.Timer
			last    = -1
			lastSet time.Time
		)
		tick = ws.Loop().SetInterval(func() {
			if n := ws.BufferedAmount(); n != last {
				last, lastSet = n, time.Now()
			} else if n > bound-piece && time.Since(lastSet) >= stuckFor {
				// Full, and nothing written for stuckFor: break the
				// path under the queued frames.
				stuck = n
				tick.Stop()
				p.ResetAll()
				p.SetFault(chaos.Pass)
				close(lost)
				return
			}
			for {
				// On the loop, Write queues what fits and returns
				// ErrBufferFull rather than wait for itself.
				n, err := w.Write(buf)
				written += n
				if err != nil {
					if !errors.Is(err, websocket.ErrBufferFull) {
						tick.Stop()
						writeErr = err
						close(lost)
					}
					break
				}
			}
			last = ws.BufferedAmount()
		}, 2*time.Millisecond)
	})
	<-lost
	if writeErr != nil {
		t.Fatalf("writing through the stalled path: %v", writeErr)
	}

	var loss websocket.ReconnectEvent
	for e := range events(t, ctx, ws) {
		if re, ok := e.(websocket.ReconnectEvent); ok && loss.Target == nil {
			loss = re
		}
		if _, ok := e.(websocket.OpenEvent); ok {
			break
		}
	}
	t.Logf("%d KiB written by the writer, %d KiB queued when the path was reset; the loss: %s", written>>10, stuck>>10, reconnectString(loss))
	if loss.Attempt != 1 || loss.Err != nil || loss.Close.Code != websocket.CloseAbnormal {
		t.Errorf("the loss: %s; want attempt 1 after close 1006, no error", reconnectString(loss))
	}
	// What was queued, and the part of the frame being written that
	// went out: a frame is at most a piece. On the portable poller the
	// connection's writer goroutine plays the kernel's send buffer: it
	// may have made room just before the reset, and its buffer take
	// some of the queue after it, before its next write fails; those
	// bytes were handed to the connection, and are not counted.
	switch {
	case loss.Lost > stuck+piece:
		t.Errorf("ReconnectEvent.Lost = %d; want at most what was queued of the message, %d, and the %d bytes of the frame begun", loss.Lost, stuck, piece)
	case loss.Lost < stuck && os.Getenv("WSLOOP_POLLER") != "portable":
		t.Errorf("ReconnectEvent.Lost = %d; want at least what was queued of the message, %d: on the native poller the loop writes, and a reset connection takes nothing more", loss.Lost, stuck)
	}
	if n := ws.BufferedAmount(); n != loss.Lost {
		t.Errorf("BufferedAmount %d once open again; want Lost, %d, which it counts for good", n, loss.Lost)
	}
	if _, err := w.Write([]byte("more")); !errors.Is(err, websocket.ErrMessageInterrupted) {
		t.Errorf("Write after the loss: %v; want ErrMessageInterrupted", err)
	}
	if err := w.Close(); !errors.Is(err, websocket.ErrMessageInterrupted) {
		t.Errorf("writer Close after the loss: %v; want ErrMessageInterrupted", err)
	}

	next := streamData(1<<20, binaryData)
	w2, err := ws.NewMessageWriter(ctx, true)
	if err != nil {
		t.Fatalf("NewMessageWriter after the reconnect: %v", err)
	}
	for rest := next; len(rest) > 0; rest = rest[min(piece, len(rest)):] {
		if _, err := w2.Write(rest[:min(piece, len(rest))]); err != nil {
			t.Fatalf("Write after the reconnect: %v", err)
		}
	}
	if err := w2.Close(); err != nil {
		t.Fatalf("writer Close after the reconnect: %v", err)
	}
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil {
		t.Fatalf("waiting for the echo: %v", err)
	}
	if !m.Binary || !bytes.Equal(m.Data, next) {
		t.Fatalf("echo: %d bytes, equal %t; want the %d bytes of the message after the reconnect, alone", len(m.Data), bytes.Equal(m.Data, next), len(next))
	}
	if n := ws.BufferedAmount(); n != loss.Lost {
		t.Errorf("BufferedAmount %d once the next message came back; want Lost, %d", n, loss.Lost)
	}
}

// events yields what LowLevelReceive returns, skipping pings and pongs,
// until the loop breaks; an error fails the test.
func events(t *testing.T, ctx context.Context, ws *websocket.WebSocket) func(func(websocket.Event) bool) {
	return func(yield func(websocket.Event) bool) {
		for {
			e, err := ws.LowLevelReceive(ctx)
			if err != nil {
				t.Fatalf("LowLevelReceive: %v", err)
			}
			switch e.(type) {
			case websocket.PingEvent, websocket.PongEvent:
				continue
			}
			if !yield(e) {
				return
			}
		}
	}
}
