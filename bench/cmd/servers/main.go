// Servers is the server under test of the driver's server-side scenarios
// (server-idle, server-echo): one WebSocket library's echo server, written
// as that library's documentation writes one, in a process of its own so
// that its CPU time and memory are measured apart from the load client.
//
//	servers -lib wsloop -listen 127.0.0.1:0,127.0.0.2:0
//
// Every path echoes every message, text as text and binary as binary, and
// answers pings and the closing handshake as the library does. -lib picks
// the library (libs.go): wsloop, gorilla, coder, gobwas, gws.
//
// It prints one "listening ws://ADDR" line per address, then "ready", and
// answers commands read from its standard input, one a line:
//
//	count  →  count conns=N goroutines=G cpu_ns=C mallocs=M
//	mem    →  mem conns=N goroutines=G cpu_ns=C mallocs=M heap=H stack=S rss=R
//
// conns is the connections upgraded and not yet ended; cpu_ns the
// process's user+system CPU time (getrusage); mallocs the heap
// allocations so far. mem first collects garbage and hands free memory
// back to the OS (runtime.GC, debug.FreeOSMemory), so that heap (live
// bytes), stack (goroutine stacks in use) and rss (VmRSS) are what the
// connections hold. It exits when its standard input ends (the driver
// closes the pipe, or dies) or on SIGINT/SIGTERM. The soft fd limit is
// raised to the hard limit: 10 000 connections need 10 000 descriptors.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
)

// conns counts the connections upgraded and not yet ended, whatever the
// library: the driver waits for it to reach what it opened before it
// reads the memory.
var conns atomic.Int64

func main() {
	lib := flag.String("lib", "wsloop", "library of the server: "+strings.Join(libNames(), ", "))
	listen := flag.String("listen", "127.0.0.1:0", "comma-separated addresses to listen on")
	flag.Parse()

	serve, ok := libs[*lib]
	if !ok {
		fmt.Fprintf(os.Stderr, "servers: unknown -lib %q (have %s)\n", *lib, strings.Join(libNames(), ", "))
		os.Exit(2)
	}
	if err := raiseFDLimit(); err != nil {
		fmt.Fprintln(os.Stderr, "servers: raising the fd limit:", err)
	}
	var lns []net.Listener
	for _, a := range strings.Split(*listen, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		ln, err := net.Listen("tcp", a)
		if err != nil {
			fmt.Fprintln(os.Stderr, "servers:", err)
			os.Exit(1)
		}
		lns = append(lns, ln)
	}
	if len(lns) == 0 {
		fmt.Fprintln(os.Stderr, "servers: no address to listen on")
		os.Exit(2)
	}
	serve(lns)
	for _, ln := range lns {
		fmt.Printf("listening ws://%s\n", ln.Addr())
	}
	fmt.Println("ready")

	// The commands, until the driver closes the pipe. The process ends
	// with main: listeners and connections go with it, which is all a
	// benchmark server needs (the driver has closed its sockets by then).
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			switch strings.TrimSpace(sc.Text()) {
			case "count":
				fmt.Println("count " + readCounts().String())
			case "mem":
				fmt.Println("mem " + readMemory().String())
			default:
				fmt.Fprintf(os.Stderr, "servers: unknown command %q\n", sc.Text())
			}
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-done:
	case <-sig:
	}
}

func libNames() []string {
	var names []string
	for n := range libs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// raiseFDLimit raises the soft limit on open files to the hard limit.
func raiseFDLimit() error {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	return nil
}
