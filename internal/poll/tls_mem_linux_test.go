package poll

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// TestTLSServerProcess is the echo server of TestTLSIdleMemory, run in a
// child process so that its connections do not count in the client's
// memory: it prints its certificate and its TLS and TCP addresses, then
// serves until its standard input closes.
func TestTLSServerProcess(t *testing.T) {
	if os.Getenv("WSLOOP_TLS_SERVER") != "1" {
		t.Skip("the child process of TestTLSIdleMemory")
	}
	cfg := serverConfig()
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := plain.Accept()
			if err != nil {
				return
			}
			go echo(c)
		}
	}()
	fmt.Printf("%s %s %s\n", hex.EncodeToString(cfg.Certificates[0].Certificate[0]), l.Addr(), plain.Addr())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go echo(c)
	}
}

// TestTLSIdleMemory measures what an idle wss connection costs the client,
// served by the Native through a Bridge and by goroutines: heap and stacks
// and RSS, over 2000 connections to a server in another process, each
// idle after one round trip of a small message, or of a large one (which
// grows crypto/tls's record buffer). Set WSLOOP_MEASURE_IDLE=1 to run it;
// the numbers are logged.
func TestTLSIdleMemory(t *testing.T) {
	if os.Getenv("WSLOOP_MEASURE_IDLE") != "1" {
		t.Skip("set WSLOOP_MEASURE_IDLE=1 to measure")
	}
	const conns = 2000
	cmd := exec.Command(os.Args[0], "-test.run=^TestTLSServerProcess$")
	cmd.Env = append(os.Environ(), "WSLOOP_TLS_SERVER=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(line)
	if len(fields) != 3 {
		t.Fatalf("server said %q", line)
	}
	certHex, addr, plainAddr := fields[0], fields[1], fields[2]
	der, _ := hex.DecodeString(certHex)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)

	cases := append(tlsCases[:len(tlsCases):len(tlsCases)], struct {
		name   string
		new    func() (Poller, error)
		bridge bool
	}{"epoll-tcp (ws://)", func() (Poller, error) { return NewNative() }, false})
	for _, msg := range []int{64, 256 << 10} {
		for _, tc := range cases {
			plain := tc.name == "epoll-tcp (ws://)"
			t.Run(fmt.Sprintf("%s/%d", tc.name, msg), func(t *testing.T) {
				p, err := tc.new()
				if err != nil {
					t.Fatal(err)
				}
				heap0, rss0, g0 := memNow()
				h := &counter{}
				cs := make([]Conn, conns)
				buf := make([]byte, msg)
				for i := range cs {
					var client net.Conn
					if plain {
						if client, err = net.Dial("tcp", plainAddr); err != nil {
							t.Fatal(err)
						}
					} else {
						nc, err := net.Dial("tcp", addr)
						if err != nil {
							t.Fatal(err)
						}
						under := nc
						if tc.bridge {
							under = NewBridge(nc)
						}
						tc := tls.Client(under, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
						if err := tc.Handshake(); err != nil {
							t.Fatal(err)
						}
						client = tc
					}
					if cs[i], err = p.Add(client, h); err != nil {
						t.Fatal(err)
					}
					for off := 0; off < msg; {
						n, err := cs[i].Write(buf[off:])
						if err != nil {
							t.Fatal(err)
						}
						if off += n; off < msg {
							p.Wait(time.Millisecond)
						}
					}
					for h.n < msg {
						p.Wait(time.Second)
					}
					h.n = 0
				}
				p.Wait(0)
				heap1, rss1, g1 := memNow()
				t.Logf("%-17s %6d-byte echo: %6.0f B/conn heap+stacks, %6.0f B/conn RSS, %.2f goroutines/conn",
					tc.name, msg, float64(heap1-heap0)/conns, float64(rss1-rss0)/conns, float64(g1-g0)/conns)
				for _, c := range cs {
					c.Close()
				}
				p.Close()
				runtime.KeepAlive(cs)
			})
		}
	}
}

// memNow returns the heap and stack memory in use and the resident set
// size, after a collection, and the number of goroutines.
func memNow() (heap, rss int64, goroutines int) {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	var size, resident int64
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		fmt.Sscan(string(b), &size, &resident)
	}
	return int64(m.HeapInuse + m.StackInuse), resident * int64(os.Getpagesize()), runtime.NumGoroutine()
}
