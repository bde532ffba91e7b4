package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsloop/websocket"
	"github.com/wsloop/websocket/internal/echoserver"
)

func startEcho(t *testing.T, protocols ...string) *echoserver.Server {
	t.Helper()
	srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{Protocols: protocols, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// TestConnectEchoesLines checks the whole round: every line comes back,
// even the last ones, sent just before the end of input, and the end of
// input closes cleanly.
func TestConnectEchoesLines(t *testing.T) {
	srv := startEcho(t, "chat")
	in := "hello\nwindows line\r\n\nnot UTF-8 \xff\nlast line without newline"
	var stdout, stderr bytes.Buffer
	code := connect(context.Background(), srv.URL(), websocket.Config{Protocols: []string{"other", "chat"}}, strings.NewReader(in), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit code %d, want 0\nstderr:\n%s", code, stderr.String())
	}
	wantOut := "hello\nwindows line\n\nlast line without newline\n"
	if stdout.String() != wantOut {
		t.Errorf("stdout = %q, want %q", stdout.String(), wantOut)
	}
	for _, want := range []string{
		"connected to " + srv.URL() + " (protocol chat)\n",
		"skipped a line that is not valid UTF-8\n",
		"closed: code=1000 reason=\"\" wasClean=true\n",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// TestConnectServerCloses checks that a close the server starts ends the
// run as cleanly as one the input ends.
func TestConnectServerCloses(t *testing.T) {
	srv := startEcho(t)
	var stdout, stderr bytes.Buffer
	code := connect(context.Background(), srv.URL(), websocket.Config{}, strings.NewReader("one\n!close 4001 bye\n"), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit code %d, want 0\nstderr:\n%s", code, stderr.String())
	}
	if stdout.String() != "one\n" {
		t.Errorf("stdout = %q, want %q", stdout.String(), "one\n")
	}
	if want := "closed: code=4001 reason=\"bye\" wasClean=true\n"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
}

// TestConnectInterrupted checks that cancelling the context, as SIGINT
// does, closes normally while input is still open.
func TestConnectInterrupted(t *testing.T) {
	srv := startEcho(t)
	inR, inW := io.Pipe()
	t.Cleanup(func() { inW.Close() })
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- connect(ctx, srv.URL(), websocket.Config{}, inR, outW, &stderr)
		outW.Close()
	}()

	// Interrupt only once an echo shows the connection is up and working.
	if _, err := io.WriteString(inW, "ping me\n"); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(outR)
	if !lines.Scan() || lines.Text() != "ping me" {
		t.Fatalf("first line = %q (%v), want the echo", lines.Text(), lines.Err())
	}
	cancel()
	go io.Copy(io.Discard, outR)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d, want 0\nstderr:\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("connect did not return after the interrupt")
	}
	if want := "closed: code=1000 reason=\"\" wasClean=true\n"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
}

func TestConnectFailures(t *testing.T) {
	// A listener closed at once leaves a loopback port nobody listens on.
	srv := startEcho(t)
	url := srv.URL()
	srv.Close()

	for _, tc := range []struct {
		name, url string
		code      int
		stderr    string
	}{
		{"refused", url, 1, "closed: code=1006 reason=\"\" wasClean=false\n"},
		{"bad URL", "ftp://127.0.0.1/", exitUsage, "SyntaxError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := connect(context.Background(), tc.url, websocket.Config{}, strings.NewReader("never sent\n"), &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

func TestPrintMessage(t *testing.T) {
	var out bytes.Buffer
	printMessage(&out, websocket.MessageEvent{Data: []byte("héllo")})
	printMessage(&out, websocket.MessageEvent{Data: []byte{0, 1, 0xfe, 0xff}, Binary: true})
	printMessage(&out, websocket.MessageEvent{Binary: true})
	want := "héllo\n[binary 4 bytes] 0001feff\n[binary 0 bytes] \n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

// TestConnectPingInterval: -ping-interval finds a server that went
// silent after its handshake, and the run fails.
func TestConnectPingInterval(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := ws.Upgrade(c); err != nil {
			return
		}
		io.Copy(io.Discard, c) // reads, never answers
	}()
	stdin, w := io.Pipe() // input that never ends
	defer w.Close()
	var stdout, stderr bytes.Buffer
	code := connectCommand(context.Background(), []string{"-ping-interval", "50ms", "ws://" + ln.Addr().String() + "/"}, stdin, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "keepalive") || !strings.Contains(stderr.String(), "code=1006") {
		t.Fatalf("exit code %d\nstderr:\n%s", code, stderr.String())
	}
}
