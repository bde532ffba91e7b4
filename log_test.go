package websocket_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/wsloop/websocket"
)

// lockedBuffer is a bytes.Buffer for a logger written from the loop and
// the dial's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// The logger hears the socket's life, each line with its id and URL, and
// never a credential: not the URL's, not the Authorization answering the
// server's challenge.
func TestLoggerTellsTheLifeWithoutCredentials(t *testing.T) {
	srv := startRawServer(t,
		func(c *rawConn) {
			c.write([]byte("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"r\"\r\nContent-Length: 0\r\n\r\n"))
		},
		func(c *rawConn) {
			if c.req.Header.Get("Authorization") == "" {
				c.fail("no credentials after the challenge")
			}
			c.accept()
			c.finish(websocket.CloseGoingAway, "restart")
		},
		func(c *rawConn) {
			c.accept()
			c.answerClose(websocket.CloseNormal, "")
		})
	var out lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	url := strings.Replace(srv.URL, "ws://", "ws://alice:s3cret@", 1)
	tc := newTraceClient(t, url, &websocket.Config{Logger: logger, Reconnect: fastRetry()})
	tc.OnOpen = func(ws *websocket.WebSocket) {
		if len(tc.Reconnects) > 0 {
			ws.Close()
		}
	}
	tc.run()
	for range 3 {
		srv.report(t)
	}
	text := out.b.String()
	for _, secret := range []string{"s3cret", "alice", base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))} {
		if strings.Contains(text, secret) {
			t.Errorf("the log holds %q:\n%s", secret, text)
		}
	}
	var msgs []string
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if rec["ws"] != float64(tc.WS.ID()) || rec["url"] != srv.URL {
			t.Errorf("line without the socket's id and URL: %s", line)
		}
		msgs = append(msgs, rec["msg"].(string))
	}
	want := []string{
		"connecting", "connected", "answering the server's authentication challenge", "connected", "open",
		"the server closes", "connection lost: reconnecting",
		"connected", "open", "closing", "closed",
	}
	if strings.Join(msgs, "|") != strings.Join(want, "|") {
		t.Errorf("log lines:\n\t%s\nwant:\n\t%s", strings.Join(msgs, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// Stats counts messages and wire bytes each way.
func TestStats(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(textFrame("a"), textFrame("bb"), textFrame("ccc"))
		c.readFrame()
		c.readFrame()
		c.finish(websocket.CloseNormal, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnMessage = func(ws *websocket.WebSocket, m websocket.MessageEvent) {
		switch m.Text() {
		case "a":
			ws.SendText("x")
		case "ccc":
			ws.SendText("yy")
		}
	}
	tc.run()
	srv.report(t)
	// In: three text frames (2-byte headers) and the close (2+2 bytes).
	// Out: two masked frames (6-byte headers) and the close echo (6+2).
	want := websocket.Stats{MessagesIn: 3, BytesIn: 3 + 4 + 5 + 4, MessagesOut: 2, BytesOut: 7 + 8 + 8}
	if got := tc.WS.Stats(); got != want {
		t.Errorf("Stats %+v, want %+v", got, want)
	}
}
