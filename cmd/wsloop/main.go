// Command wsloop shows the wsloop WebSocket library at work and helps try
// it out by hand.
//
// Usage:
//
//	wsloop demo
//	wsloop serve [-addr 127.0.0.1:8080] [-broadcast] [-origin PATTERN]... [-protocol P]... [-no-compression] [-ping-interval D]
//	wsloop connect [-H 'NAME: VALUE']... [-s P]... [-origin O] [-proxy URL] [-cacert FILE] [-k] [-handshake-timeout D] [-ping-interval D] [-w D] [-count N] [-x MSG]... [-b] [-hex|-base64] [-json] URL
//	wsloop bench [-n 100] [-loops N] [-size 64] [-rate R] [-duration 10s] [-binary] [-json] [-allow-remote] URL
//
// demo starts a server on 127.0.0.1 and walks one client through a whole
// connection, printing every event; serve runs a server on the library's
// Upgrader (echo, or broadcast to every client) until SIGINT or SIGTERM;
// connect sends each line of standard input as a message and prints what
// comes back, with a prompt and line editing at a terminal (exit status 0
// for a clean close, 1 when it could not open, 2 for a wrong command line,
// 3 for an abnormal close); bench loads an echo server on this machine
// with many sockets and reports throughput and latency.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: wsloop <command> [flags] [arguments]

Commands:
  demo                        run a client against a server of its own, printing each event
  serve [-addr ADDR] [-broadcast] [-origin PATTERN]... [-protocol P]...
        [-no-compression] [-ping-interval D]
                              run an echo (or broadcast) server until SIGINT or SIGTERM
  connect [-H 'NAME: VALUE']... [-s P]... [-origin O] [-proxy URL] [-cacert FILE]
        [-k] [-handshake-timeout D] [-ping-interval D] [-w D] [-count N]
        [-x MSG]... [-b] [-hex|-base64] [-json] URL
                              send stdin lines as messages, print what comes back;
                              a prompt with line editing at a terminal; exit 0 on a
                              clean close, 1 when it cannot open, 3 on an abnormal close
  bench [-n 100] [-loops N] [-size 64] [-rate R] [-duration 10s] [-binary] [-json]
        [-allow-remote] URL
                              load an echo server on this machine: messages/s, latency

Run "wsloop <command> -h" for a command's flags.
`

// exitUsage is the exit code for a command line that cannot be run, as the
// flag package uses.
const exitUsage = 2

func main() {
	// The first SIGINT or SIGTERM cancels ctx, which each command turns
	// into its own orderly end (a closing handshake, a server shutdown);
	// only after that do signals kill the process as usual.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // a second signal during the orderly end kills
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run picks the command named by args[0] and returns the process's exit
// code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "demo":
		return demoCommand(ctx, args[1:], stdout, stderr)
	case "serve":
		return serveCommand(ctx, args[1:], stdout, stderr)
	case "connect":
		return connectCommand(ctx, args[1:], stdin, stdout, stderr)
	case "bench":
		return benchCommand(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stderr, usage)
		return 0 // asked for
	default:
		fmt.Fprintf(stderr, "wsloop: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}
