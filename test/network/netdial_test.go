package network

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/peers"
)

// NetDial supplies the connection: here a Unix socket, which the loop
// serves on goroutines (it polls only TCP), for a URL whose host names
// nothing.
func TestNetDialUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "echo.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	peers.GorillaEchoOn(t, ln)
	var addrs []string
	cfg := &websocket.Config{NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		addrs = append(addrs, network+" "+addr)
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	both(t, "ws://echo.invalid/chat", cfg, wantOK)
	if len(addrs) != 2 || addrs[0] != "tcp echo.invalid:80" {
		t.Errorf("NetDial was called with %q", addrs)
	}
}

// NetDial's error is the dial's, as a *ConnectError; so is a NetDial that
// returns no connection and no error.
func TestNetDialError(t *testing.T) {
	refused := errors.New("no route for this test")
	both(t, "ws://127.0.0.1:1/", &websocket.Config{NetDial: func(context.Context, string, string) (net.Conn, error) {
		return nil, refused
	}}, func(t *testing.T, err error) {
		var ce *websocket.ConnectError
		if !errors.As(err, &ce) || !errors.Is(err, refused) {
			t.Errorf("error %v (%T), want a *ConnectError wrapping NetDial's", err, err)
		}
	})
	both(t, "ws://127.0.0.1:1/", &websocket.Config{NetDial: func(context.Context, string, string) (net.Conn, error) {
		return nil, nil
	}}, func(t *testing.T, err error) {
		var ce *websocket.ConnectError
		if !errors.As(err, &ce) {
			t.Errorf("error %v (%T), want a *ConnectError", err, err)
		}
	})
}
