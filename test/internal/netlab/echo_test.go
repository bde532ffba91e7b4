package netlab

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// ioTimeout bounds every exchange of the tests with a proxy or through it,
// generously, for a loaded machine.
const ioTimeout = 15 * time.Second

// echo serves a TCP echo on a listener of the lab and returns its port.
// The server and its connections end at t's cleanup.
func echo(t *testing.T, l *Lab) int {
	t.Helper()
	ln := l.Listen(t)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Go(func() {
				io.Copy(c, c)
				c.Close()
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// roundTrip checks that what is written to c comes back, as through the
// echo server, and closes c.
func roundTrip(t *testing.T, c net.Conn) {
	t.Helper()
	defer c.Close()
	c.SetDeadline(time.Now().Add(ioTimeout))
	msg := []byte("through the looking glass\n")
	if _, err := c.Write(msg); err != nil {
		t.Fatalf("writing through the proxy: %v", err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("reading through the proxy: %v", err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo returned %q, want %q", got, msg)
	}
}

// hostPort joins host and port.
func hostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// connect asks the HTTP proxy at proxy to tunnel to target, with a
// Proxy-Authorization header for auth unless it is nil, and returns the
// proxy's status code and, when it is 200, the tunnel.
func connect(t *testing.T, proxy, target string, auth *Auth) (int, net.Conn) {
	t.Helper()
	c, err := net.DialTimeout("tcp", proxy, ioTimeout)
	if err != nil {
		t.Fatalf("dialing the proxy: %v", err)
	}
	c.SetDeadline(time.Now().Add(ioTimeout))
	req := "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n"
	if auth != nil {
		req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(auth.User+":"+auth.Pass)) + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		c.Close()
		t.Fatalf("writing CONNECT: %v", err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		c.Close()
		t.Fatalf("reading the answer to CONNECT: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		c.Close()
		return resp.StatusCode, nil
	}
	// The echo server speaks only when spoken to: nothing may follow
	// the proxy's head yet.
	if br.Buffered() > 0 {
		c.Close()
		t.Fatalf("%d bytes after the proxy's 200", br.Buffered())
	}
	c.SetDeadline(time.Time{})
	return resp.StatusCode, c
}
