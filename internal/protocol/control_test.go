package protocol

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"
)

func TestPingQueuesPong(t *testing.T) {
	c := NewConn(Config{})
	payload := bytes.Repeat([]byte{0xfe}, 125)
	in := frame(true, ws.OpPing, payload)
	evs, err := feedAll(c, cat(in, pingFrame("")))
	if err != nil || len(evs) != 2 || evs[0].Kind != KindPing || !bytes.Equal(evs[0].Data, payload) || len(evs[1].Data) != 0 {
		t.Fatalf("%v %v", eventsString(evs), err)
	}
	// The event's Data is a copy, not the input.
	in[2] = 0
	if evs[0].Data[0] != 0xfe {
		t.Fatal("ping Data aliases the input")
	}
	// Two pings before anything was written: only the latest is answered,
	// as RFC 6455 5.5.3 allows.
	frames := mustDecode(t, allOutput(c))
	if len(frames) != 1 || frames[0].op != ws.OpPong || len(frames[0].payload) != 0 {
		t.Fatalf("frames %+v", frames)
	}
	if c.BufferedPayload() != 0 {
		t.Fatal("pong counted as message payload")
	}
}

func TestPongReplacedOnlyWhileUnwrittenAndLast(t *testing.T) {
	c := NewConn(Config{})
	feedAll(c, pingFrame("one"))
	written := c.Output()[0]
	c.Advance(1) // the first pong has begun: it must be finished as queued
	feedAll(c, pingFrame("two"))
	feedAll(c, pingFrame("three")) // replaces "two"
	if err := c.WriteText("msg"); err != nil {
		t.Fatal(err)
	}
	feedAll(c, pingFrame("four")) // "three" is no longer last: "four" follows the message
	feedAll(c, pingFrame("five")) // replaces "four"
	var got []string
	for _, f := range mustDecode(t, append([]byte{written}, c.Output()...)) {
		got = append(got, string(f.payload))
	}
	want := []string{"one", "three", "msg", "five"}
	if len(got) != len(want) {
		t.Fatalf("frames %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("frames %q, want %q", got, want)
		}
	}
}

func TestPingFloodOutputIsBounded(t *testing.T) {
	c := NewConn(Config{})
	ping := pingFrame(string(bytes.Repeat([]byte{'p'}, 125)))
	for range 10000 {
		feedAll(c, ping)
	}
	if n := len(c.Output()); n > 200 {
		t.Fatalf("10000 unanswered pings left %d bytes of output", n)
	}
}

func TestPingSplitAcrossFeeds(t *testing.T) {
	c := NewConn(Config{})
	in := pingFrame("hello")
	evs, err := feed(c, in[:1], in[1:2], in[2:4], in[4:])
	if err != nil || len(evs) != 1 || string(evs[0].Data) != "hello" {
		t.Fatalf("%v %v", eventsString(evs), err)
	}
	frames := mustDecode(t, allOutput(c))
	if len(frames) != 1 || string(frames[0].payload) != "hello" {
		t.Fatalf("frames %+v", frames)
	}
}

func TestNoPongAfterCloseSent(t *testing.T) {
	c := NewConn(Config{})
	if err := c.WriteClose(1000, ""); err != nil {
		t.Fatal(err)
	}
	before := len(c.Output())
	evs, err := feedAll(c, pingFrame("x"))
	if err != nil || len(evs) != 1 || evs[0].Kind != KindPing {
		t.Fatalf("%v %v", eventsString(evs), err)
	}
	if len(c.Output()) != before {
		t.Fatal("pong queued after close")
	}
	// Data messages are still delivered while waiting for the server's close.
	evs, err = feedAll(c, textFrame("late"))
	if err != nil || len(evs) != 1 || string(evs[0].Data) != "late" {
		t.Fatalf("%v %v", eventsString(evs), err)
	}
}

func TestUnsolicitedPong(t *testing.T) {
	c := NewConn(Config{})
	evs, err := feedAll(c, cat(pongFrame("beat"), pongFrame("")))
	if err != nil || len(evs) != 2 || evs[0].Kind != KindPong || string(evs[0].Data) != "beat" || evs[1].Kind != KindPong {
		t.Fatalf("%v %v", eventsString(evs), err)
	}
	if len(c.Output()) != 0 {
		t.Fatal("pong answered")
	}
}
