package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/wsloop/websocket"
)

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"-h"},
		{"frobnicate"},
		{"demo", "extra"},
		{"demo", "-h"},
		{"serve", "-nope"},
		{"connect"},
		{"connect", "-h"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
		if code != exitUsage {
			t.Errorf("wsloop %q: exit code %d, want %d", args, code, exitUsage)
		}
		if !strings.Contains(stderr.String(), "usage: wsloop") {
			t.Errorf("wsloop %q: no usage text on stderr:\n%s", args, stderr.String())
		}
	}
}

func TestSplitList(t *testing.T) {
	for in, want := range map[string]string{
		"":          "",
		"a":         "a",
		"a,b":       "a|b",
		" a, ,b ,":  "a|b",
		"demo.v1,x": "demo.v1|x",
	} {
		if got := strings.Join(splitList(in), "|"); got != want {
			t.Errorf("splitList(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestServe runs the serve command end to end: it prints its URL, echoes
// through connect, and stops when its context ends, as on SIGINT.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-addr", "127.0.0.1:0", "-protocols", "x,y"}, nil, outW, &stderr)
		outW.Close()
	}()
	url, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the URL: %v", err)
	}
	url = strings.TrimSpace(url)
	if !strings.HasPrefix(url, "ws://127.0.0.1:") {
		t.Fatalf("serve printed %q, want a ws://127.0.0.1 URL", url)
	}

	var stdout, cstderr bytes.Buffer
	if code := connect(context.Background(), url, websocket.Config{Protocols: []string{"y"}}, strings.NewReader("echo?\n"), &stdout, &cstderr); code != 0 {
		t.Fatalf("connect: exit code %d\n%s", code, cstderr.String())
	}
	if stdout.String() != "echo?\n" {
		t.Errorf("connect printed %q, want the echo", stdout.String())
	}
	if !strings.Contains(cstderr.String(), "(protocol y)") {
		t.Errorf("the server did not select protocol y:\n%s", cstderr.String())
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve: exit code %d\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop when its context ended")
	}
}
