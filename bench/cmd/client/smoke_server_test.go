package main

import (
	"bytes"
	"os"
	"testing"
	"time"
)

// TestSmokeServerSide runs server-idle and server-echo against every
// server under test at tiny sizes (20 connections, a few messages): it
// proves the servers, their reports and the load work, not how fast they
// are.
func TestSmokeServerSide(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the servers")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs Linux /proc")
	}
	bin, cleanup, err := buildPkg(serversPkg, "")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	phaseTimeout = 10 * time.Second
	dialWindow = 8
	addrs := loopbackAddrs(2)
	msg := bytes.Repeat([]byte("s"), 100)

	for _, lib := range serverLibs {
		t.Run(lib, func(t *testing.T) {
			s, err := serverIdleRun(bin, lib, addrs, 20, msg)
			if err != nil {
				t.Fatalf("server-idle: %v", err)
			}
			if s.handshake <= 0 || s.cpuHS <= 0 || s.cpuRT <= 0 || s.allocsRT <= 0 {
				t.Errorf("server-idle: %.0f handshakes/s, server CPU %v a handshake and %v and %.1f allocs a round trip", s.handshake, s.cpuHS, s.cpuRT, s.allocsRT)
			}
			// Each library's way shows: wsloop's idle sockets have no
			// goroutine, every peer's has its reader.
			if wantNone := lib == "wsloop"; wantNone != (s.gorAfter < 0.5) {
				t.Errorf("server-idle: %.2f goroutines a connection", s.gorAfter)
			}

			e, err := serverEchoRun(bin, lib, addrs, 20, msg, 100*time.Millisecond)
			if err != nil {
				t.Fatalf("server-echo: %v", err)
			}
			if e.ops < 20 || e.hist.n != e.ops || e.hist.percentile(50) <= 0 {
				t.Errorf("server-echo: %d echoes, %d latencies, p50 %v", e.ops, e.hist.n, e.hist.percentile(50))
			}
			if e.serverCPU <= 0 || e.serverMal <= 0 || e.bytes != e.ops*int64(len(msg)) {
				t.Errorf("server-echo: server CPU %v, %d allocations, %d bytes for %d echoes", e.serverCPU, e.serverMal, e.bytes, e.ops)
			}
		})
	}
}

func TestServerReport(t *testing.T) {
	r, err := parseServerReport("mem conns=3 goroutines=7 cpu_ns=1500 mallocs=42 heap=4096 stack=8192 rss=65536")
	if err != nil {
		t.Fatal(err)
	}
	want := serverReport{conns: 3, goroutines: 7, cpu: 1500, mallocs: 42, heap: 4096, stack: 8192, rss: 65536}
	if r != want {
		t.Errorf("got %+v, want %+v", r, want)
	}
	if _, err := parseServerReport("count conns=x"); err == nil {
		t.Error("a value that is not a number was taken")
	}
	if sizes, err := parseSizes("1024, 32"); err != nil || len(sizes) != 2 || sizes[1] != 32 {
		t.Errorf("parseSizes: %v %v", sizes, err)
	}
}
