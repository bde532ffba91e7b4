package main

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/wsloop/websocket/bench/internal/payload"
)

// The pushed stream inflates to the messages in turn, the steady batch
// repeated, as a client reads it: with the server's context taken over
// (the window carried from message to message), without, and with a
// window under 15 bits; each message's compressed frame is smaller than
// the message.
func TestPushBatches(t *testing.T) {
	for _, p := range []wsflate.Parameters{
		{},
		{ServerNoContextTakeover: true},
		{ServerMaxWindowBits: 9},
	} {
		for _, size := range []int{1024, 70000} {
			t.Run(fmt.Sprintf("%+v/%d", p, size), func(t *testing.T) {
				k := min(max((64<<10+size-1)/size, 2), 1024)
				msgs := make([][]byte, k)
				for i := range msgs {
					msgs[i] = payload.Text(size, uint64(i+1))
				}
				first, steady, firstPayload, steadyPayload, err := pushBatches(msgs, newZconn(p, true))
				if err != nil {
					t.Fatal(err)
				}
				if (first != nil) != (p == wsflate.Parameters{}) || len(steady) == 0 || steadyPayload == 0 || steadyPayload%int64(k*size) != 0 {
					t.Fatalf("first %d bytes (%d payload), steady %d bytes (%d payload)", len(first), firstPayload, len(steady), steadyPayload)
				}
				stream := append(append(append(append([]byte(nil), first...), steady...), steady...), steady...)
				// The client's side: a window carried over unless
				// server_no_context_takeover.
				client := &zconn{p: wsflate.Parameters{ClientNoContextTakeover: p.ServerNoContextTakeover}}
				var got int
				for len(stream) > 0 {
					h, err := ws.ReadHeader(bytes.NewReader(stream))
					if err != nil {
						t.Fatal(err)
					}
					hs := 2
					switch {
					case h.Length > 0xffff:
						hs = 10
					case h.Length > 125:
						hs = 4
					}
					zp := stream[hs : hs+int(h.Length)]
					stream = stream[hs+int(h.Length):]
					if !h.Rsv1() || !h.Fin || len(zp) >= size {
						t.Fatalf("message %d: rsv1 %v, %d bytes for %d", got, h.Rsv1(), len(zp), size)
					}
					out, err := client.inflate(nil, zp)
					if err != nil {
						t.Fatalf("message %d: %v", got, err)
					}
					if !bytes.Equal(out, msgs[got%k]) {
						t.Fatalf("message %d inflates to something else", got)
					}
					got++
				}
			})
		}
	}
}

// The answer to an offer confirms what the client asked for, and no
// client_max_window_bits.
func TestNegotiate(t *testing.T) {
	type answer struct {
		ok bool
		p  wsflate.Parameters
	}
	for offer, want := range map[string]answer{
		"permessage-deflate; client_max_window_bits":                                 {true, wsflate.Parameters{}},
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover": {true, wsflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
		"permessage-deflate; server_max_window_bits=9; client_max_window_bits=10":    {true, wsflate.Parameters{ServerMaxWindowBits: 9}},
		"permessage-deflate; server_max_window_bits=99, permessage-deflate":          {true, wsflate.Parameters{}},
		"x-webkit-deflate-frame": {},
	} {
		offers, ok := httphead.ParseOptions([]byte(offer), nil)
		if !ok {
			t.Fatalf("%q does not parse", offer)
		}
		var n zNegotiation
		var got answer
		for _, o := range offers {
			a, err := n.negotiate(o)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Name) > 0 {
				if got.ok {
					t.Fatalf("%q: accepted twice", offer)
				}
				got.ok = true
				if err := got.p.Parse(a); err != nil {
					t.Fatal(err)
				}
			}
		}
		if got != want {
			t.Errorf("%q: answered %+v, want %+v", offer, got, want)
		}
	}
}
