package peers_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/wsloop/websocket/test/internal/peers"
)

// The client processes against a gorilla server that does what a server
// under test does with them: echoes, fragmented echoes, a ping asked for
// and reported, and a close asked for, so that a client bug is not
// mistaken for a bug of the server under test.
func TestClients(t *testing.T) {
	for _, c := range []struct {
		name  string
		start func(testing.TB, string, peers.ClientOptions) *peers.Client
	}{{"Node", peers.NodeClient}, {"Python", peers.PythonClient}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			done := make(chan error, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				up := websocket.Upgrader{Subprotocols: []string{"p2"}, EnableCompression: true}
				conn, err := up.Upgrade(w, r, nil)
				if err != nil {
					done <- err
					return
				}
				defer conn.Close()
				done <- driveClient(conn)
			}))
			defer srv.Close()
			cl := c.start(t, "ws"+strings.TrimPrefix(srv.URL, "http"), peers.ClientOptions{Protocols: []string{"p1", "p2"}})
			if e := cl.Next(t, ioTimeout); e.Event != "open" || e.Protocol != "p2" || e.Extensions != "permessage-deflate; server_no_context_takeover; client_no_context_takeover" || e.Params == nil {
				t.Fatalf("first event %+v, want open with p2 and gorilla's permessage-deflate", e)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if e := cl.Next(t, ioTimeout); e.Event != "close" || e.Code != 4000 || e.Reason != "" || !e.Clean {
				// gorilla answers with the code alone.
				t.Fatalf("event %+v, want a clean close 4000 without a reason", e)
			}
		})
	}
}

// driveClient has the client echo, ping and close, and checks each step.
func driveClient(conn *websocket.Conn) error {
	expect := func(typ int, want string) error {
		mt, p, err := conn.ReadMessage()
		if err != nil {
			return err
		}
		if mt != typ || string(p) != want {
			return fmt.Errorf("got message type %d %q, want %d %q", mt, p, typ, want)
		}
		return nil
	}
	steps := []struct {
		typ        int
		send, want string
	}{
		{websocket.TextMessage, "héllo", "héllo"},
		{websocket.BinaryMessage, "\x00\x01\xff", "\x00\x01\xff"},
		{websocket.TextMessage, "!frag 3", ""},
		{websocket.TextMessage, strings.Repeat("€", 100), strings.Repeat("€", 100)},
		{websocket.TextMessage, "!ping p", "pong:p"},
	}
	for _, s := range steps {
		if err := conn.WriteMessage(s.typ, []byte(s.send)); err != nil {
			return err
		}
		if s.want != "" {
			if err := expect(s.typ, s.want); err != nil {
				return err
			}
		}
	}
	conn.WriteMessage(websocket.TextMessage, []byte("!close 4000 bye ✓"))
	_, _, err := conn.ReadMessage()
	if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != 4000 || ce.Text != "bye ✓" {
		return err
	}
	return nil
}
