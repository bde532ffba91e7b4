package peers_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wsloop/websocket/test/internal/peers"
)

// readReport reads the one JSON text message of a report connection into v,
// then the close 1000 that follows it.
func readReport(t *testing.T, url string, v any) {
	t.Helper()
	c := dial(t, url+peers.ReportPath)
	p, err := wsutil.ReadServerText(c)
	if err != nil {
		t.Fatalf("reading the report: %v", err)
	}
	if err := json.Unmarshal(p, v); err != nil {
		t.Fatalf("report %q: %v", p, err)
	}
	var closed wsutil.ClosedError
	if _, err := wsutil.ReadServerText(c); !errors.As(err, &closed) || closed.Code != ws.StatusNormalClosure {
		t.Errorf("after the report: %v; want a close 1000", err)
	}
}

// A client that does not answer the keepalive's pings is closed with 1011
// once the ping timeout has passed; one that does keeps being echoed.
func TestPythonKeepalive(t *testing.T) {
	t.Parallel()
	t.Run("Unanswered", func(t *testing.T) {
		t.Parallel()
		c := dial(t, peers.PythonKeepalive(t, 200*time.Millisecond, 200*time.Millisecond))
		pings := 0
		for {
			// readControl leaves pings unanswered.
			h, p, err := readControl(c)
			if err != nil {
				t.Fatalf("after %d pings: %v; want a close 1011", pings, err)
			}
			if h.OpCode == ws.OpPing {
				pings++
				continue
			}
			if h.OpCode != ws.OpClose {
				t.Fatalf("%v frame; want pings, then a close 1011", h.OpCode)
			}
			code, reason := ws.ParseCloseFrameData(p)
			if pings == 0 || code != ws.StatusInternalServerError {
				t.Fatalf("close %d %q after %d pings; want a close 1011 after a ping", code, reason, pings)
			}
			return
		}
	})
	t.Run("Answered", func(t *testing.T) {
		t.Parallel()
		c := dial(t, peers.PythonKeepalive(t, 100*time.Millisecond, time.Second))
		start := time.Now()
		// ReadServerText answers the pings that come before the echo.
		for i := 0; time.Since(start) < 500*time.Millisecond; i++ {
			want := fmt.Sprint("m", i)
			if err := wsutil.WriteClientBinary(c, []byte(want)); err != nil {
				t.Fatalf("writing: %v", err)
			}
			p, op, err := wsutil.ReadServerData(c)
			if err != nil || op != ws.OpBinary || string(p) != want {
				t.Fatalf("read %v %q, %v; want binary %q", op, p, err, want)
			}
		}
	})
}

// The slow reader reads every message, checks it, takes at least as long
// as its rate says, and reports the close frame that came after them.
func TestPythonSlowReader(t *testing.T) {
	t.Parallel()
	const (
		rate     = 1 << 20
		size     = 64 << 10
		messages = 4
	)
	t.Run("Record", func(t *testing.T) {
		t.Parallel()
		url := peers.PythonSlowReader(t, rate)
		c := dial(t, url)
		start := time.Now()
		for i := 0; i < messages; i++ {
			if err := wsutil.WriteClientBinary(c, peers.NumberedMessage(i, size)); err != nil {
				t.Fatalf("writing message %d: %v", i, err)
			}
		}
		closeAndAwait(t, c, 1000, "bye")
		// websockets waits for the client to end TCP before it ends the
		// connection, and the record with it.
		c.Close()
		var got peers.SlowReadRecord
		readReport(t, url, &got)
		want := peers.SlowReadRecord{Messages: messages, Bytes: messages * size, Code: 1000, Reason: "bye"}
		if got != want {
			t.Errorf("record %+v; want %+v", got, want)
		}
		if elapsed, least := time.Since(start), time.Duration(messages*size)*time.Second/rate; elapsed < least {
			t.Errorf("read %d bytes in %v; at %d bytes/s it takes at least %v", messages*size, elapsed, rate, least)
		}
	})
	t.Run("WrongMessage", func(t *testing.T) {
		t.Parallel()
		url := peers.PythonSlowReader(t, rate)
		c := dial(t, url)
		for _, p := range [][]byte{peers.NumberedMessage(0, 100), peers.NumberedMessage(7, 100)} {
			if err := wsutil.WriteClientBinary(c, p); err != nil {
				t.Fatalf("writing: %v", err)
			}
		}
		// No close frame: TCP just ends.
		c.Close()
		var got peers.SlowReadRecord
		readReport(t, url, &got)
		want := peers.SlowReadRecord{Messages: 2, Bytes: 200, Error: "message 1 carries index 7", Code: 1006}
		if got != want {
			t.Errorf("record %+v; want %+v", got, want)
		}
	})
}

// closeAndAwait sends a close frame and reads up to the server's.
func closeAndAwait(t *testing.T, c *conn, code ws.StatusCode, reason string) {
	t.Helper()
	if err := ws.WriteFrame(c, ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(code, reason)))); err != nil {
		t.Fatalf("writing the close frame: %v", err)
	}
	for {
		h, _, err := readControl(c)
		if err != nil {
			t.Fatalf("awaiting the server's close frame: %v", err)
		}
		if h.OpCode == ws.OpClose {
			return
		}
	}
}

// readControl reads one frame, which must be a control frame (at most 125
// bytes of payload), and answers nothing.
func readControl(c *conn) (ws.Header, []byte, error) {
	h, err := ws.ReadHeader(c)
	if err != nil {
		return h, nil, err
	}
	if !h.OpCode.IsControl() || h.Length > 125 {
		return h, nil, fmt.Errorf("%v frame of %d bytes; want a control frame", h.OpCode, h.Length)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(c, p); err != nil {
		return h, nil, err
	}
	return h, p, nil
}

// The flood stalls while its client does not read, and says so; read, it
// delivers every message in order, then closes. A flood that fits in the
// kernel's buffers is reported flushed.
func TestNodeFlood(t *testing.T) {
	t.Parallel()
	t.Run("Stalled", func(t *testing.T) {
		t.Parallel()
		const count, size = 64, 256 << 10
		url := peers.NodeFlood(t, count, size, 300*time.Millisecond)
		c := dial(t, url)
		var v peers.FloodVerdict
		readReport(t, url, &v)
		if v.State != "stalled" || v.Total != count*size || v.Flushed >= v.Total || v.BufferedAmount <= 0 {
			t.Fatalf("verdict %+v; want stalled short of %d bytes with some still buffered", v, count*size)
		}
		for i := 0; i < count; i++ {
			p, op, err := wsutil.ReadServerData(c)
			if want := peers.NumberedMessage(i, size); err != nil || op != ws.OpBinary || string(p) != string(want) {
				t.Fatalf("message %d: %v of %d bytes, %v; want binary message %d of %d bytes", i, op, len(p), err, i, size)
			}
		}
		_, _, err := wsutil.ReadServerData(c)
		var closed wsutil.ClosedError
		if !errors.As(err, &closed) || closed.Code != 1000 || closed.Reason != "flood done" {
			t.Fatalf("after the flood: %v; want close 1000 %q", err, "flood done")
		}
		if n, err := c.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
			t.Fatalf("after the closing handshake: read %d bytes, %v; want EOF", n, err)
		}
	})
	t.Run("Flushed", func(t *testing.T) {
		t.Parallel()
		const count, size = 4, 1 << 10
		url := peers.NodeFlood(t, count, size, 300*time.Millisecond)
		dial(t, url)
		var v peers.FloodVerdict
		readReport(t, url, &v)
		if want := (peers.FloodVerdict{State: "flushed", Flushed: count * size, Total: count * size}); v != want {
			t.Fatalf("verdict %+v; want %+v", v, want)
		}
	})
}
