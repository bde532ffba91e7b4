package main

import (
	"context"
	"net"
	"net/http"

	coder "github.com/coder/websocket"
)

// coder/websocket: Accept (compression off), then Read and Write in the
// handler's goroutine: a goroutine per connection, blocked in Read while
// idle.
func serveCoder(lns []net.Listener) {
	opts := &coder.AcceptOptions{CompressionMode: coder.CompressionDisabled}
	serveHTTP(lns, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := coder.Accept(w, r, opts)
		if err != nil {
			return // answered with the error
		}
		conns.Add(1)
		defer conns.Add(-1)
		defer c.CloseNow()
		ctx := context.Background()
		for {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return // a close frame was answered inside Read
			}
			if err := c.Write(ctx, typ, p); err != nil {
				return
			}
		}
	}))
}
