package websocket

import (
	"log/slog"
	"net"
	"net/http"

	"github.com/wsloop/websocket/internal/protocol"
	"github.com/wsloop/websocket/internal/upgrade"
)

// This file is the server's socket: made by an Upgrader from a hijacked
// connection, and from then on the same object as a client's, but for
// the framing direction (the core's server role) and the end of the
// closing handshake, where the server closes TCP first (RFC 6455 7.1.1).

// open makes the socket for a connection the Upgrader has answered with
// 101: Open at once, so that it may send before its loop has taken the
// connection (what it sends waits for that).
func (u *Upgrader) open(conn net.Conn, leftover []byte, hs *upgrade.Handshake, r *http.Request, blocking bool, fn func(*WebSocket, *http.Request)) *WebSocket {
	c := &u.cfg
	url := requestURL(r)
	ws := socketFor(c, url, url)
	ws.stream = c.StreamMessages && blocking
	ws.protocol = hs.Protocol
	ws.up = u
	ws.opened = true
	if blocking {
		ws.in = &inbox{max: c.MaxInboxSize, local: conn.LocalAddr(), remote: conn.RemoteAddr()}
	}
	var deflate *protocol.Deflate
	if hs.Deflate != nil {
		ws.zneg = u.negotiated(hs, int(c.compressionThreshold()))
		deflate = ws.zneg.d
	}
	ws.core = ws.newCore(deflate)
	ws.state.Store(int32(Open))
	ws.loop.add(ws)
	ws.loop.post(func() { ws.onUpgraded(conn, leftover, r, fn) }, false)
	return ws
}

// onUpgraded hands the connection to the loop's poller, then runs the
// Handler's function and fires open.
func (ws *WebSocket) onUpgraded(conn net.Conn, leftover []byte, r *http.Request, fn func(*WebSocket, *http.Request)) {
	if ws.closeFired {
		conn.Close() // dropped by Shutdown before the loop took it
		return
	}
	pc, err := ws.loop.poller.Add(conn, (*ioHandler)(ws))
	if err != nil {
		conn.Close()
		ws.fireClose(CloseEvent{Target: ws, Code: CloseAbnormal}, &ResourceError{Err: err})
		ws.maybeRelease()
		return
	}
	ws.mu.Lock()
	ws.conn = pc
	if ws.in != nil && ws.in.paused {
		pc.SetPaused(true)
	}
	if ws.core.Pending() > 0 || ws.core.CloseSent() {
		ws.markDirtyLocked() // sent, or closed, before the loop took the connection
	}
	ws.mu.Unlock()
	if ws.up.closing() {
		ws.close(CloseGoingAway, "going away")
	}
	ws.startKeepalive()
	ws.logAt(slog.LevelInfo, "open", "protocol", ws.protocol, "remote", conn.RemoteAddr().String())
	if fn != nil {
		ws.loop.protect(func() { fn(ws, r) }, true)
	}
	if ws.ReadyState() == Open {
		emit(ws, ws.OnOpen, OpenEvent{Target: ws}, false)
	}
	if len(leftover) > 0 {
		ws.counts.bytesIn.Add(uint64(len(leftover)))
		ws.onRead(leftover)
	}
}

// drop ends the socket at once, without a closing handshake: Shutdown's
// last resort. It runs on the loop.
func (ws *WebSocket) drop() {
	if !ws.closeFired {
		ws.fireClose(CloseEvent{Target: ws, Code: CloseAbnormal}, nil)
	}
	ws.closeTCP()
}

// negotiated is the Upgrader's shared settlement for the handshake's
// permessage-deflate: sockets that settled the same share its idle state.
func (u *Upgrader) negotiated(hs *upgrade.Handshake, threshold int) *negotiated {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, n := range u.deflates {
		if n.ext == hs.Extensions && n.d.ClientMaxWindowBits == hs.Deflate.ClientMaxWindowBits {
			return n
		}
	}
	n := &negotiated{ext: hs.Extensions, d: &protocol.Deflate{
		ServerNoContextTakeover: true,
		ClientNoContextTakeover: hs.Deflate.ClientNoContextTakeover,
		ServerMaxWindowBits:     hs.Deflate.ServerMaxWindowBits,
		ClientMaxWindowBits:     hs.Deflate.ClientMaxWindowBits,
		Threshold:               threshold,
		Pool:                    &u.cfg.Loop.flatePool,
	}}
	if len(u.deflates) < maxNegotiated {
		u.deflates = append(u.deflates, n)
	}
	return n
}

// requestURL is the URL the client asked for, as the socket's URL.
func requestURL(r *http.Request) string {
	scheme := "ws://"
	if r.TLS != nil {
		scheme = "wss://"
	}
	return scheme + r.Host + r.URL.RequestURI()
}
