package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

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

// wantLines fails t unless text holds each of lines.
func wantLines(t *testing.T, what, text string, lines ...string) {
	t.Helper()
	for _, want := range lines {
		if !strings.Contains(text, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, text)
		}
	}
}

// TestConnectEchoesLines checks the whole round, with the default wait:
// every line comes back, even the last ones, sent just before the end of
// input, and the end of input closes cleanly. On a pipe, stdout holds the
// messages and nothing else: no prompt.
func TestConnectEchoesLines(t *testing.T) {
	t.Parallel()
	srv := startEcho(t, "chat")
	in := "hello\nwindows line\r\n\nnot UTF-8 \xff\nlast line without newline"
	code, stdout, stderr := runConnect(t, in, "-s", "other", "--protocol", "chat", srv.URL())
	if code != 0 {
		t.Fatalf("exit code %d, want 0\nstderr:\n%s", code, stderr)
	}
	if want := "hello\nwindows line\n\nlast line without newline\n"; stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	wantLines(t, "stderr", stderr,
		"connected to "+srv.URL()+" (protocol chat)\n",
		"skipped a line: not valid UTF-8",
		"closed: code=1000 reason=\"\" wasClean=true\n",
	)
}

// TestConnectServerCloses: a close the server starts ends the run as
// cleanly as one the input ends.
func TestConnectServerCloses(t *testing.T) {
	t.Parallel()
	srv := startEcho(t)
	code, stdout, stderr := runConnect(t, "one\n!close 4001 bye\n", srv.URL())
	if code != 0 {
		t.Fatalf("exit code %d, want 0\nstderr:\n%s", code, stderr)
	}
	if stdout != "one\n" {
		t.Errorf("stdout = %q, want %q", stdout, "one\n")
	}
	wantLines(t, "stderr", stderr, "closed: code=4001 reason=\"bye\" wasClean=true\n")
}

// connectPiped runs connect with input and output on pipes, for a test
// that writes a line, reads the output, and goes on: input that has not
// ended. The returned channel gives the exit code.
func connectPiped(t *testing.T, ctx context.Context, args ...string) (in io.WriteCloser, out *bufio.Scanner, stderr *logLines, done <-chan int) {
	t.Helper()
	inR, inW := io.Pipe()
	t.Cleanup(func() { inW.Close() })
	outR, outW := io.Pipe()
	stderr = newLogLines()
	codes := make(chan int, 1)
	go func() {
		codes <- run(ctx, append([]string{"connect"}, args...), inR, outW, stderr)
		outW.Close()
	}()
	t.Cleanup(func() { go io.Copy(io.Discard, outR) })
	return inW, bufio.NewScanner(outR), stderr, codes
}

// exitCode waits for connect's exit code.
func exitCode(t *testing.T, done <-chan int, stderr *logLines) int {
	t.Helper()
	select {
	case code := <-done:
		return code
	case <-time.After(waitTimeout):
		t.Fatalf("connect did not return within %v\nstderr:\n%s", waitTimeout, stderr)
		return -1
	}
}

// TestConnectInterrupted: cancelling the context, as SIGINT does, closes
// normally at once while input is still open.
func TestConnectInterrupted(t *testing.T) {
	t.Parallel()
	srv := startEcho(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in, out, stderr, done := connectPiped(t, ctx, srv.URL())

	// Interrupt only once an echo shows the connection is up and working.
	io.WriteString(in, "ping me\n")
	if !out.Scan() || out.Text() != "ping me" {
		t.Fatalf("first line = %q (%v), want the echo", out.Text(), out.Err())
	}
	cancel()
	if code := exitCode(t, done, stderr); code != 0 {
		t.Fatalf("exit code %d, want 0\nstderr:\n%s", code, stderr)
	}
	wantLines(t, "stderr", stderr.String(), "closed: code=1000 reason=\"\" wasClean=true\n")
}

// TestConnectCount: -count ends the run after that many messages, though
// the input goes on.
func TestConnectCount(t *testing.T) {
	t.Parallel()
	srv := startEcho(t)
	in, out, stderr, done := connectPiped(t, context.Background(), "--count", "2", srv.URL())
	io.WriteString(in, "one\ntwo\nthree\n")
	var got []string
	for out.Scan() {
		got = append(got, out.Text())
	}
	if code := exitCode(t, done, stderr); code != 0 {
		t.Fatalf("exit code %d, want 0\nstderr:\n%s", code, stderr)
	}
	if strings.Join(got, ",") != "one,two" {
		t.Errorf("printed %q, want one and two", got)
	}
}

// TestConnectExecute: -x sends its messages without reading stdin, and
// ends after as many replies, or with -count after that many.
func TestConnectExecute(t *testing.T) {
	t.Parallel()
	srv := startEcho(t)
	for _, tc := range []struct {
		args []string
		out  string
	}{
		{[]string{"-x", "hello"}, "hello\n"},
		{[]string{"--execute", "a", "-x", "b"}, "a\nb\n"},
		// A command has no reply: the wait ends the run.
		{[]string{"-x", "!ping p", "-x", "after"}, "after\n"},
		{[]string{"-x", "!ping p", "-x", "after", "--count", "1"}, "after\n"},
		// With the URL first, as wscat has it.
		{[]string{srv.URL(), "-x", "url first"}, "url first\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			args := tc.args
			if args[0] != srv.URL() {
				args = append(args, srv.URL())
			}
			var out, errOut bytes.Buffer
			code := run(context.Background(), append([]string{"connect"}, args...), unreadable{t}, &out, &errOut)
			if code != 0 || out.String() != tc.out {
				t.Fatalf("exit code %d, stdout %q; want 0, %q\nstderr:\n%s", code, out.String(), tc.out, errOut.String())
			}
		})
	}
}

// unreadable is a stdin that fails the test when it is read.
type unreadable struct{ t *testing.T }

func (u unreadable) Read([]byte) (int, error) {
	u.t.Error("stdin was read")
	return 0, io.EOF
}

// TestConnectWaitForever: with -wait forever the end of input sends no
// ping, and the run lasts until the server closes.
func TestConnectWaitForever(t *testing.T) {
	t.Parallel()
	srv := startEcho(t)
	code, stdout, stderr := runConnect(t, "one\n!close 4002 later\n", "--json", "-w", "forever", srv.URL())
	if code != 0 {
		t.Fatalf("exit code %d, want 0\nstderr:\n%s", code, stderr)
	}
	if strings.Contains(stdout, `"pong"`) || !strings.Contains(stdout, `"code":4002`) {
		t.Errorf("want no pong and the server's close:\n%s", stdout)
	}
}

// TestConnectBinary: -binary sends lines as binary messages, decoded
// from -hex or -base64, and binary messages print in that encoding, or
// marked in hex without one.
func TestConnectBinary(t *testing.T) {
	t.Parallel()
	srv := startEcho(t)
	for _, tc := range []struct {
		args          []string
		in, out, warn string
	}{
		{[]string{"-b"}, "hi\n", "[binary 2 bytes] 6869\n", ""},
		{[]string{"-binary", "-hex"}, "00ff10\n\nzz\n", "00ff10\n\n", "skipped a line: not hex"},
		{[]string{"--binary", "--base64"}, "AP8Q\n%%%\n", "AP8Q\n", "skipped a line: not base64"},
		// -hex alone: text goes out as text, binary prints in hex.
		{[]string{"--hex"}, "text\n", "text\n", ""},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runConnect(t, tc.in, append(tc.args, "-w", "0", srv.URL())...)
			if code != 0 || stdout != tc.out {
				t.Fatalf("exit code %d, stdout %q; want 0, %q\nstderr:\n%s", code, stdout, tc.out, stderr)
			}
			wantLines(t, "stderr", stderr, tc.warn)
		})
	}
}

// TestConnectLargeInput: input much larger than the send backlog's bound
// all arrives and comes back, in order; reading waits while the backlog
// is full.
func TestConnectLargeInput(t *testing.T) {
	t.Parallel()
	srv := startEcho(t)
	var in strings.Builder
	line := strings.Repeat("x", 4<<10)
	const lines = 800 // 3.2 MiB
	for i := range lines {
		fmt.Fprintf(&in, "%d %s\n", i, line)
	}
	code, stdout, stderr := runConnect(t, in.String(), "-w", "0", srv.URL())
	if code != 0 {
		t.Fatalf("exit code %d\nstderr:\n%s", code, stderr)
	}
	if stdout != in.String() {
		t.Fatalf("stdout differs from the input: %d bytes, want %d", len(stdout), in.Len())
	}
}
