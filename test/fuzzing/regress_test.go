package fuzzing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
)

// Handshake responses the fuzzer turned up, kept as plain tests so that
// each failure says what is wrong. Their inputs are also in the seed
// corpus of FuzzHandshake.

// A status line whose code is not three digits is not a 101, however it
// adds up: "0:1" reads as 101 to a parser that takes any byte 0x30-0x3F
// for a digit (':' as 10). RFC 6455 4.1: a client receiving a status other
// than 101 does not open the connection.
func TestHandshakeStatusCodeNotDigits(t *testing.T) {
	for _, status := range []string{"0:1 Switching Protocols", "09; Switching Protocols", "0:1 ", "1O1 Switching Protocols"} {
		t.Run(status, func(t *testing.T) {
			srv := startHandshakeServer(t)
			resp := []byte("HTTP/1.1 " + status + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n\r\n")
			_, done := srv.answerNext(resp, true)
			ctx, cancel := context.WithTimeout(context.Background(), hangBound)
			defer cancel()
			ws, err := websocket.Dial(ctx, srv.url, &websocket.Config{HandshakeTimeout: time.Second, CloseTimeout: 20 * time.Millisecond})
			if err == nil {
				ws.Close()
				<-done
				t.Fatalf("Dial opened the connection on the status line %q", "HTTP/1.1 "+status)
			}
			<-done
			var he *websocket.HandshakeError
			if !errors.As(err, &he) {
				t.Fatalf("Dial: %v (%T); want a *websocket.HandshakeError", err, err)
			}
		})
	}
}
