package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// shutdownTimeout bounds the shutdown after SIGINT or SIGTERM: long
// enough for every client's closing handshake (each is bounded by the
// default CloseTimeout, 5 s), short enough that a process manager's
// patience, often 10 to 30 s, is not tried.
const shutdownTimeout = 8 * time.Second

const serveUsage = `usage: wsloop serve [-addr 127.0.0.1:8080] [-broadcast] [-origin PATTERN]... [-protocol P]... [-no-compression] [-ping-interval D]

Runs a WebSocket server on the library's Upgrader until SIGINT or SIGTERM,
then closes every connection with 1001 (going away), waits for the closing
handshakes and exits 0.

It sends each message back to its sender, or with -broadcast to every
connected client, the sender included; a client whose backlog is full is
skipped and named on stderr. The text messages "!close CODE [REASON]" and
"!ping [PAYLOAD]" close the sender's connection with CODE (one of 1000-1003,
1007-1010, 3000-4999) or ping it.

Browsers may connect from the server's own origin only, unless -origin
allows others. It prints its URL on stdout once it listens, then logs to
stderr.
`

func serveCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wsloop serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts serverOptions
	addr := fs.String("addr", "127.0.0.1:8080", "TCP `address` to listen on; loopback unless given another (\":8080\" listens on every interface)")
	fs.BoolVar(&opts.Broadcast, "broadcast", false, "send each message to every connected client instead of back to its sender")
	fs.Var((*stringsFlag)(&opts.Origins), "origin", "allow browser pages of origins matching `PATTERN` (https://*.example.org, http://localhost:*, * for all); repeat for several")
	fs.Var((*stringsFlag)(&opts.Protocols), "protocol", "a subprotocol `P` the server speaks; repeat for several, in order of preference")
	fs.BoolVar(&opts.NoCompression, "no-compression", false, "decline permessage-deflate")
	fs.DurationVar(&opts.PingInterval, "ping-interval", 0, "ping a client after this `duration` without a byte from it, and drop it when nothing comes back within it (0: never)")
	fs.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	opts.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	if err := serve(ctx, *addr, opts, stdout); err != nil {
		fmt.Fprintln(stderr, "wsloop serve:", err)
		return 1
	}
	return 0
}

// serve runs the server on addr until ctx is done, then shuts it down.
// It prints the server's URL to stdout once it listens, so that a script
// can read it; opts.Logger gets the rest.
func serve(ctx context.Context, addr string, opts serverOptions, stdout io.Writer) error {
	srv, err := startServer(addr, opts)
	if err != nil {
		return err
	}
	mode := "echo"
	if opts.Broadcast {
		mode = "broadcast"
	}
	var origins any = opts.Origins
	if len(opts.Origins) == 0 {
		origins = "the server's own"
	}
	fmt.Fprintln(stdout, srv.URL())
	opts.Logger.Info("listening on "+srv.URL(), "mode", mode, "protocols", opts.Protocols, "origins", origins)

	<-ctx.Done()
	opts.Logger.Info("shutting down", "sockets", len(srv.loop.Sockets()))
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.shutdown(sctx); err != nil {
		// The clients that did not finish their closing handshake in
		// time were dropped: the server has stopped all the same.
		opts.Logger.Warn("shutdown cut short", "error", err)
	}
	opts.Logger.Info("stopped")
	return nil
}
