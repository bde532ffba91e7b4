package protocol

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// endpoint is one end of a conversation between two Conns: what it queued
// and what Advance has counted written, so that BufferedPayload can be
// checked at every step.
type endpoint struct {
	c       *Conn
	queued  int
	written int
	wire    int           // bytes of frames written
	got     []sentMessage // messages received, parts joined
	part    []byte        // a Stream message's parts so far
	pongs   int
}

// sentMessage is a message as sent, or as received.
type sentMessage struct {
	binary bool
	data   []byte
}

func (m sentMessage) String() string {
	return fmt.Sprintf("binary=%v %d bytes %.24q", m.binary, len(m.data), m.data)
}

// send queues m, whole or in up to four fragments cut anywhere (inside a
// UTF-8 sequence too: only the whole message must be valid).
func (e *endpoint) send(t *testing.T, r *rand.Rand, m sentMessage) {
	t.Helper()
	var err error
	switch {
	case r.IntN(3) == 0:
		rest := m.data
		for k := r.IntN(4); k > 0 && len(rest) > 0; k-- {
			n := r.IntN(len(rest) + 1)
			if err = e.c.WriteFragment(m.binary, rest[:n], false); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		err = e.c.WriteFragment(m.binary, rest, true)
	case !m.binary && r.IntN(2) == 0:
		err = e.c.WriteText(string(m.data))
	default:
		err = e.c.WriteMessage(m.binary, m.data)
	}
	if err != nil {
		t.Fatal(err)
	}
	e.queued += len(m.data)
}

// pump moves from's output to to's input in pieces cut anywhere, the way
// a driver writes and reads them, and returns what to reported. Advance's
// counts must keep BufferedPayload exact all along.
func pump(t *testing.T, r *rand.Rand, from, to *endpoint) []Event {
	t.Helper()
	var evs []Event
	for len(from.c.Output()) > 0 {
		out := from.c.Output()
		n := 1 + r.IntN(len(out))
		if r.IntN(3) == 0 {
			n = 1 + r.IntN(min(len(out), 20))
		}
		piece := bytes.Clone(out[:n])
		from.wire += n
		from.written += from.c.Advance(n)
		if got, want := from.c.BufferedPayload(), from.queued-from.written; got != want {
			t.Fatalf("BufferedPayload %d, want %d", got, want)
		}
		e, err := feedFast(to.c, piece)
		if err != nil {
			t.Fatalf("the %v end failed: %v", to.c.server, err)
		}
		for _, ev := range e {
			switch ev.Kind {
			case KindMessage:
				to.part = append(to.part, ev.Data...)
				if !ev.More {
					to.got = append(to.got, sentMessage{ev.Binary, to.part})
					to.part = nil
				}
			case KindPong:
				to.pongs++
			}
		}
		evs = append(evs, e...)
	}
	return evs
}

// randomMessage is a text or binary message of a size from every header
// length's range, compressible (words) or not (random bytes), with
// characters of every UTF-8 length when it is text.
func randomMessage(r *rand.Rand, words *wordSource) sentMessage {
	var n int
	switch r.IntN(10) {
	case 0:
		n = []int{0, 1, 125, 126, 65535, 65536}[r.IntN(6)]
	case 1, 2:
		n = 65537 + r.IntN(100000)
	case 3, 4, 5:
		n = 126 + r.IntN(5000)
	default:
		n = r.IntN(126)
	}
	m := sentMessage{binary: r.IntN(2) == 0}
	switch {
	case r.IntN(2) == 0:
		m.data = words.words(n)
	case m.binary:
		m.data = make([]byte, n)
		for i := range m.data {
			m.data[i] = byte(r.Uint32())
		}
	default:
		runes := []rune{'a', 'é', '€', '🙂', 'Z', '\u07ff', '\uffff', '\U0010ffff'}
		for len(m.data) < n {
			m.data = utf8.AppendRune(m.data, runes[r.IntN(len(runes))])
		}
	}
	return m
}

// A client-role Conn's output is a server-role Conn's input and the other
// way round. Many messages of every header size, text and binary, whole
// and in fragments, compressed and not, with pings between, pass through
// a transport that cuts the bytes anywhere; the server echoes each, whole
// or in fragments; each end receives exactly what the other sent, in
// order, every ping gets its pong, BufferedPayload stays exact, and the
// closing handshake completes.
func TestCrossRole(t *testing.T) {
	for _, tc := range []struct {
		name    string
		deflate func() *Deflate
		stream  bool
	}{
		{"plain", nil, false},
		{"deflate", func() *Deflate { return &Deflate{Threshold: 16} }, false},
		{"deflate with 9- and 10-bit windows", func() *Deflate { return &Deflate{ClientMaxWindowBits: 9, ServerMaxWindowBits: 10} }, false},
		{"deflate without context takeover", func() *Deflate {
			return &Deflate{ClientNoContextTakeover: true, ServerNoContextTakeover: true, ClientMaxWindowBits: 8, ServerMaxWindowBits: 8}
		}, false},
		{"deflate, the server streaming", func() *Deflate { return &Deflate{} }, true},
		{"plain, the server streaming", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(11, uint64(len(tc.name))))
			words := newWordSource(12)
			ccfg, scfg := Config{}, Config{Server: true, Stream: tc.stream}
			if tc.deflate != nil {
				ccfg.Deflate, scfg.Deflate = tc.deflate(), tc.deflate()
			}
			client, server := &endpoint{c: NewConn(ccfg)}, &endpoint{c: NewConn(scfg)}
			var sent []sentMessage
			pings := 0
			rounds := 120
			if raceEnabled {
				rounds = 50 // the race detector makes each ten times slower
			}
			for range rounds {
				for range 1 + r.IntN(3) {
					m := randomMessage(r, words)
					sent = append(sent, m)
					client.send(t, r, m)
					if r.IntN(4) == 0 {
						client.c.WritePing([]byte(fmt.Sprint(pings)))
						pings++
					}
				}
				before := len(server.got)
				pump(t, r, client, server)
				for _, m := range server.got[before:] {
					server.send(t, r, m)
				}
				pump(t, r, server, client)
			}
			if len(server.got) != len(sent) || len(client.got) != len(sent) || client.pongs != pings {
				t.Fatalf("%d messages sent, %d received, %d echoed; %d pings, %d pongs", len(sent), len(server.got), len(client.got), pings, client.pongs)
			}
			for i, m := range sent {
				if server.got[i].binary != m.binary || !bytes.Equal(server.got[i].data, m.data) {
					t.Fatalf("message %d: the server got %v, want %v", i, server.got[i], m)
				}
				if client.got[i].binary != m.binary || !bytes.Equal(client.got[i].data, m.data) {
					t.Fatalf("message %d: the echo was %v, want %v", i, client.got[i], m)
				}
			}

			// Compressed messages went by, or none, as negotiated.
			if compressed := client.wire < client.written*9/10 && server.wire < server.written*9/10; compressed != (tc.deflate != nil) {
				t.Fatalf("%d bytes of messages sent in %d bytes of frames, and echoed in %d", client.written, client.wire, server.wire)
			}
			t.Logf("%d messages, %d bytes, sent in %d bytes, echoed in %d", len(sent), client.written, client.wire, server.wire)

			client.c.WriteClose(1000, "done")
			evs := pump(t, r, client, server)
			if len(evs) != 1 || evs[0].Kind != KindClose || evs[0].Code != 1000 || evs[0].Reason != "done" {
				t.Fatalf("the server got %v", eventsString(evs))
			}
			evs = pump(t, r, server, client)
			if len(evs) != 1 || evs[0].Kind != KindClose || evs[0].Code != 1000 {
				t.Fatalf("the client got %v", eventsString(evs))
			}
			for _, e := range []*endpoint{client, server} {
				if !e.c.CloseSent() || !e.c.CloseReceived() || e.c.BufferedPayload() != 0 || e.c.Failed() != nil {
					t.Fatalf("server %v: sent %v, received %v, buffered %d, %v", e.c.server, e.c.CloseSent(), e.c.CloseReceived(), e.c.BufferedPayload(), e.c.Failed())
				}
			}
		})
	}
}
