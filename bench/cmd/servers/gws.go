package main

import (
	"net"

	"github.com/lxzan/gws"
)

// lxzan/gws: its own server (gws.NewServer, RunListener on each
// listener), event-driven: each connection's ReadLoop goroutine calls
// OnMessage, which writes the echo, as its README's handler does.
// Default options.
func serveGws(lns []net.Listener) {
	srv := gws.NewServer(gwsEcho{}, nil)
	for _, ln := range lns {
		go srv.RunListener(ln)
	}
}

type gwsEcho struct{ gws.BuiltinEventHandler }

func (gwsEcho) OnOpen(*gws.Conn) { conns.Add(1) }

func (gwsEcho) OnClose(*gws.Conn, error) { conns.Add(-1) }

func (gwsEcho) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	c.WriteMessage(m.Opcode, m.Bytes())
}
