package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/wsloop/websocket/internal/echoserver"
)

func serveCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wsloop serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "TCP `address` to listen on")
	protocols := fs.String("protocols", "", "comma-separated `list` of subprotocols the server accepts")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: wsloop serve [-addr 127.0.0.1:8080] [-protocols a,b]")
		fmt.Fprintln(stderr, "\nRuns the embedded echo server until SIGINT or SIGTERM.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return exitUsage
	}
	if err := serve(ctx, *addr, splitList(*protocols), stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "wsloop serve:", err)
		return 1
	}
	return 0
}

// serve runs the echo server on addr until ctx is done, printing its URL to
// stdout once it listens (so a script can read it) and its log to stderr.
func serve(ctx context.Context, addr string, protocols []string, stdout, stderr io.Writer) error {
	logger := log.New(stderr, "", log.LstdFlags)
	srv, err := echoserver.Listen(addr, echoserver.Options{Protocols: protocols, Logf: logger.Printf})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, srv.URL())
	if len(protocols) > 0 {
		logger.Printf("subprotocols: %s", strings.Join(protocols, ", "))
	}
	<-ctx.Done()
	logger.Printf("shutting down")
	return srv.Close()
}

// splitList splits a comma-separated flag value, dropping empty items so
// that "" means none and "a,,b" means a and b.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
