package main

import (
	"net"
	"net/http"
	"time"
)

// libs are the servers under test, by -lib name. Each starts serving on
// the listeners and returns; each counts its connections in conns.
var libs = map[string]func(lns []net.Listener){
	"wsloop":  serveWsloop,
	"gorilla": serveGorilla,
	"coder":   serveCoder,
	"gobwas":  serveGobwas,
	"gws":     serveGws,
}

// serveHTTP serves h on every listener with net/http, as the libraries
// that upgrade from an http.Handler are used. Each connection has
// net/http's goroutine until the handler returns; after the hijack, what
// runs is the library's.
func serveHTTP(lns []net.Listener, h http.Handler) {
	for _, ln := range lns {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
		go srv.Serve(ln)
	}
}
