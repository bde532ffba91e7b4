package protocol

import (
	"bytes"
	"fmt"
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
	// Two pings before anything was written: each gets its own pong, as
	// in a browser.
	frames := mustDecode(t, allOutput(c))
	if len(frames) != 2 || frames[0].op != ws.OpPong || !bytes.Equal(frames[0].payload, payload) ||
		frames[1].op != ws.OpPong || len(frames[1].payload) != 0 {
		t.Fatalf("frames %+v", frames)
	}
	if c.BufferedPayload() != 0 {
		t.Fatal("pong counted as message payload")
	}
}

// Ten pings back to back (Autobahn 2.10) get ten pongs, in order.
func TestEveryPingItsPong(t *testing.T) {
	c := NewConn(Config{})
	var in []byte
	for i := range 10 {
		in = append(in, pingFrame(fmt.Sprint("ping-", i))...)
	}
	feedAll(c, in)
	frames := mustDecode(t, allOutput(c))
	if len(frames) != 10 {
		t.Fatalf("%d frames for 10 pings", len(frames))
	}
	for i, f := range frames {
		if f.op != ws.OpPong || string(f.payload) != fmt.Sprint("ping-", i) {
			t.Fatalf("frame %d: %v %q", i, f.op, f.payload)
		}
	}
}

// Past maxPongRun unwritten pongs, the answer to a newer ping replaces the
// last pong while it is unwritten and last; a pong whose writing has begun,
// or that a message follows, stays; once the output drains, every ping
// gets its pong again. At both ends, whose pongs differ in length.
func TestPongReplacedPastTheRun(t *testing.T) {
	for _, role := range roles {
		c := NewConn(Config{Server: role.server})
		ping := func(s string) { feedAll(c, wireFor(role.server, pingFrame(s))) }
		ping("first")
		c.Advance(1) // its writing has begun: it must be finished as queued
		for i := range maxPongRun - 1 {
			ping(fmt.Sprint(i))
		}
		ping("a") // the run is full: replaces the last
		ping("b") // replaces "a"
		if err := c.WriteText("msg"); err != nil {
			t.Fatal(err)
		}
		ping("c") // follows the message
		ping("d") // replaces "c"
		out := allOutput(c)
		frames := mustDecodeRole(t, role.server, append(append([]byte(nil), c.out[:1]...), out...))
		var got []string
		for _, f := range frames[maxPongRun-1:] {
			got = append(got, string(f.payload))
		}
		if want := fmt.Sprint([]string{"b", "msg", "d"}); fmt.Sprint(got) != want {
			t.Fatalf("%s: frames after the run %q, want %s", role.name, got, want)
		}
		for len(c.Output()) > 0 {
			c.Advance(len(c.Output()))
		}
		ping("x")
		ping("y")
		if frames := mustDecodeRole(t, role.server, allOutput(c)); len(frames) != 2 {
			t.Fatalf("%s: after a drain, two pings gave %d pongs", role.name, len(frames))
		}
	}
}

func TestPingFloodOutputIsBounded(t *testing.T) {
	for _, role := range roles {
		c := NewConn(Config{Server: role.server})
		ping := wireFor(role.server, pingFrame(string(bytes.Repeat([]byte{'p'}, 125))))
		for range 10000 {
			feedAll(c, ping)
		}
		if n, bound := c.Pending(), maxPongRun*(frameHeaderSize(125, !role.server)+125); n > bound {
			t.Fatalf("%s: 10000 unanswered pings left %d bytes of output, more than %d pongs' %d", role.name, n, maxPongRun, bound)
		}
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

// With ManualPong a ping is reported and left unanswered: the driver's
// program answers it with WritePong.
func TestManualPongLeavesPingsUnanswered(t *testing.T) {
	c := NewConn(Config{ManualPong: true})
	evs, err := feedAll(c, cat(pingFrame("a"), pingFrame("b")))
	if err != nil || len(evs) != 2 || evs[0].Kind != KindPing || string(evs[1].Data) != "b" {
		t.Fatalf("%v %v", eventsString(evs), err)
	}
	if out := allOutput(c); len(out) != 0 {
		t.Fatalf("queued %d bytes for pings left to the driver", len(out))
	}
	if err := c.WritePong([]byte("b")); err != nil {
		t.Fatal(err)
	}
	frames := mustDecode(t, allOutput(c))
	if len(frames) != 1 || frames[0].op != ws.OpPong || string(frames[0].payload) != "b" {
		t.Fatalf("frames %+v", frames)
	}
}
