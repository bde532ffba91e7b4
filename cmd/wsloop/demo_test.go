package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// TestDemo pins the demo's whole output: it is the README's first command,
// and its lines are the event order a browser would show.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := demo(context.Background(), &out); err != nil {
		t.Fatalf("demo: %v\noutput:\n%s", err, out.String())
	}
	port := regexp.MustCompile(`127\.0\.0\.1:\d+`)
	got := strings.Split(strings.TrimSuffix(port.ReplaceAllString(out.String(), "127.0.0.1:PORT"), "\n"), "\n")
	want := []string{
		`server  ws://127.0.0.1:PORT/ protocols=demo.v1`,
		`new     url=ws://127.0.0.1:PORT/ readyState=CONNECTING bufferedAmount=0`,
		`open    protocol=demo.v1 readyState=OPEN bufferedAmount=0`,
		`send    text "hello, wsloop" readyState=OPEN bufferedAmount=13`,
		`send    binary 6 bytes readyState=OPEN bufferedAmount=19`,
		`ping    "are you there?" readyState=OPEN bufferedAmount=19`,
		`message text "hello, wsloop" readyState=OPEN bufferedAmount=0`,
		`message binary 6 bytes [de ad be ef 00 01] readyState=OPEN bufferedAmount=0`,
		`pong    "are you there?" readyState=OPEN bufferedAmount=0`,
		`timer   SetTimeout(20ms) to ask the server to close`,
		`send    text "!close 4000 demo done" readyState=OPEN bufferedAmount=21`,
		`close   code=4000 reason="demo done" wasClean=true readyState=CLOSED bufferedAmount=0`,
		`done    the events came in the expected order`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got: %s\nwant: %s", i+1, got[i], want[i])
		}
	}
}

// TestDemoInterrupted checks that an interrupt ends the demo with a failure
// instead of a hang or a false success.
func TestDemoInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	if err := demo(ctx, &out); err == nil {
		t.Fatalf("demo succeeded after an interrupt\noutput:\n%s", out.String())
	}
}
