package main

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/wsloop/websocket"
	"github.com/wsloop/websocket/internal/echoserver"
)

// relay is what the server does with each socket's messages: send each
// back to its sender (echo), or to every socket on the loop, the sender
// included (broadcast). Its methods run on the loop, one at a time.
//
// Either way, the text messages "!close CODE [REASON]" and "!ping
// [PAYLOAD]" are commands for the sender's connection alone, in the
// grammar of the tests' echo server (internal/echoserver), so that the
// demo, connect and scripts written against one work against the other.
type relay struct {
	loop      *websocket.EventLoop
	broadcast bool
	log       *slog.Logger
}

// echoFullCode and echoFullReason close a socket whose echo finds its
// backlog full (a client that sends and does not read): dropping the
// echo would lose its data silently.
const (
	echoFullCode   = websocket.ClosePolicyViolation
	echoFullReason = "echo backlog full: the client does not read"
)

// accept is the Upgrader's Handler function: it runs on the loop before
// the socket's first event.
func (rl *relay) accept(ws *websocket.WebSocket, _ *http.Request) {
	ws.OnMessage = func(m websocket.MessageEvent) { rl.message(ws, m) }
}

func (rl *relay) message(ws *websocket.WebSocket, m websocket.MessageEvent) {
	if !m.Binary && rl.command(ws, m.Data) {
		return
	}
	if rl.broadcast {
		rl.broadcastMessage(m)
		return
	}
	var err error
	if m.Binary {
		err = ws.Send(m.Data)
	} else {
		err = ws.SendText(m.Text())
	}
	m.Release() // Send has copied it
	if errors.Is(err, websocket.ErrBufferFull) {
		rl.log.Warn("echo backlog full: closing", "ws", ws.ID(), "buffered", ws.BufferedAmount())
		ws.CloseWith(echoFullCode, echoFullReason)
	}
}

// broadcastMessage sends m to every socket of the loop without waiting
// for any: a client whose backlog is full is skipped, and told of on
// stderr. Sockets that are closing are skipped too, silently: they are
// leaving.
func (rl *relay) broadcastMessage(m websocket.MessageEvent) {
	sockets, size := rl.loop.Sockets(), len(m.Data)
	var skipped []websocket.Skipped
	if m.Binary {
		skipped = websocket.Broadcast(sockets, m.Data)
	} else {
		skipped = websocket.BroadcastText(sockets, m.Text())
	}
	m.Release()
	var slow []uint64
	for _, s := range skipped {
		if errors.Is(s.Err, websocket.ErrBufferFull) {
			slow = append(slow, s.Socket.ID())
		}
	}
	if len(slow) > 0 {
		rl.log.Warn("broadcast skipped slow clients", "ws", slow, "sockets", len(sockets), "bytes", size)
	}
}

// command carries out p when it is a command, and reports whether it
// was. A "!close" with a code the library does not send (CloseWith
// takes the codes RFC 6455 lets a client send: 1000-1003, 1007-1010,
// 3000-4999) is no command: it is logged and relayed as data, as the
// echo server relays a malformed command.
func (rl *relay) command(ws *websocket.WebSocket, p []byte) bool {
	if code, reason, ok := echoserver.ParseClose(p); ok {
		if err := ws.CloseWith(int(code), reason); err != nil {
			rl.log.Warn("!close not carried out: relayed as data", "ws", ws.ID(), "error", err)
			return false
		}
		return true
	}
	if payload, ok := echoserver.ParsePing(p); ok {
		if err := ws.Ping(payload); err != nil {
			rl.log.Warn("!ping not carried out", "ws", ws.ID(), "error", err)
		}
		return true
	}
	return false
}
