package protocol

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"
)

// With Stream, a message comes out in parts as its bytes arrive, each
// read's worth, the last with More unset; UTF-8 and the size limit still
// hold over the whole message.
func TestStreamParts(t *testing.T) {
	c := NewConn(Config{Stream: true, MaxMessageSize: 10})
	in := cat(frame(false, ws.OpText, []byte("héll")), pingFrame("p"), frame(true, ws.OpContinuation, []byte("o!")), textFrame("whole"))
	var evs []Event
	for _, chunk := range [][]byte{in[:4], in[4:9], in[9:]} {
		e, err := feed(c, chunk)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e...)
	}
	var got []string
	for _, e := range evs {
		s := e.Kind.String() + ":" + string(e.Data)
		if e.More {
			s += "+"
		}
		got = append(got, s)
	}
	// The first read ends inside é: each part holds what arrived.
	want := []string{"message:h\xc3+", "message:\xa9ll+", "ping:p", "message:o!", "message:whole"}
	if len(got) != len(want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("events %q, want %q", got, want)
		}
	}
	if a := string(evs[0].Data) + string(evs[1].Data); a != "héll" {
		t.Fatalf("parts %q", a)
	}
	// Over the limit across parts: 1009 once the total would pass 10.
	c = NewConn(Config{Stream: true, MaxMessageSize: 10})
	_, err := feed(c, cat(frame(false, ws.OpBinary, bytes.Repeat([]byte{1}, 6)), frame(true, ws.OpContinuation, bytes.Repeat([]byte{1}, 5))))
	checkFailed(t, c, err, 1009)
	// Invalid UTF-8 fails, even after parts were handed on.
	c = NewConn(Config{Stream: true})
	_, err = feed(c, frame(false, ws.OpText, []byte("ok")), frame(true, ws.OpContinuation, []byte{0xff}))
	checkFailed(t, c, err, 1007)
}
