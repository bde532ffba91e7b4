package compression_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/peers"
)

// modes are the negotiations every peer is checked in: its default, the
// extension off on either side, and eight modes that give each window
// size, 8 to 15 bits, once to the server and once to the client, and each
// of the four takeover combinations twice, once set by the server's
// configuration and once asked for by the client.
//
// Messages of megabytes cost a second or so each way under the race
// detector: the default mode sends random ones of 1 MiB, text and binary,
// and two of the four kinds of 4 MiB (the other two to the other peer);
// the modes with a server window of 8 bits and a client window of 8 bits
// send compressible ones of 1 MiB.
func modes(p peer) []mode {
	megabytes := []msg{
		message(false, random, 1*MiB, 0), message(true, random, 1*MiB, 1),
		message(false, compressible, 4*MiB, 2), message(true, random, 4*MiB, 3),
	}
	if p.name == node.name {
		megabytes[2], megabytes[3] = message(true, compressible, 4*MiB, 2), message(false, random, 4*MiB, 3)
	}
	ms := []mode{
		// Chromium's offer; the server compresses with 15 bits and
		// context takeover. Autobahn 12.x, 13.1.
		{name: "Default", all: true, extra: megabytes},
		// The client offers nothing: the server, configured for
		// compression, sends every message uncompressed.
		{name: "NoCompression", off: true},
		// The server declines the offer.
		{name: "ServerDeclines", server: peers.Deflate{Off: true}},
		// Both sides set each parameter; the settlement is the smaller
		// window, and both takeovers off.
		{
			name:   "BothSet",
			server: peers.Deflate{ServerNoContextTakeover: true, ServerMaxWindowBits: 11, ClientMaxWindowBits: 10},
			client: &websocket.Compression{ClientNoContextTakeover: true, ServerMaxWindowBits: 13, ClientMaxWindowBits: 12},
		},
		// The client asks for a smaller window than the server's:
		// Python settles it, Node refuses the handshake.
		{
			name:   "ClientAsksLess",
			server: peers.Deflate{ServerMaxWindowBits: 12},
			client: &websocket.Compression{ServerMaxWindowBits: 10},
		},
		// Node sends messages under 1024 bytes uncompressed, the rest
		// compressed each on its own (Python ignores the threshold).
		{name: "ServerThreshold", server: peers.Deflate{ServerNoContextTakeover: true, Threshold: 1024}},
	}
	for i := range 8 {
		s, c := 8+i, 8+(i+7)%8
		snct, cnct := (i>>1)&1 == 1, (i>>1)&2 == 2
		m := mode{}
		if i < 2 {
			// A server window of 8 bits, and a client window of 15
			// or 8, over a megabyte of compressible text and binary.
			m.extra = []msg{message(false, compressible, 1*MiB, 0), message(true, compressible, 1*MiB, 1)}
		}
		if i%2 == 0 {
			// Autobahn 13.3 to 13.6: the server's settings.
			m.name = fmt.Sprintf("ServerSets_s%d_c%d", s, c)
			m.server = peers.Deflate{ServerNoContextTakeover: snct, ClientNoContextTakeover: cnct, ServerMaxWindowBits: s, ClientMaxWindowBits: c}
		} else {
			// The client's offer.
			m.name = fmt.Sprintf("ClientAsks_s%d_c%d", s, c)
			m.client = &websocket.Compression{ServerNoContextTakeover: snct, ClientNoContextTakeover: cnct, ServerMaxWindowBits: s, ClientMaxWindowBits: c}
			if i == 5 {
				m.client.Threshold = 1500
				m.name += "_threshold1500"
			}
		}
		if snct {
			m.name += "_snct"
		}
		if cnct {
			m.name += "_cnct"
		}
		ms = append(ms, m)
	}
	return ms
}

// TestMatrix echoes messages through every peer in every mode, with the
// blocking API: the extension settled as the mode says, every message
// back byte for byte, and the bytes on the wire both ways as compression
// says they must be.
func TestMatrix(t *testing.T) {
	for _, p := range allPeers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			for _, m := range modes(p) {
				t.Run(m.name, func(t *testing.T) {
					t.Parallel()
					testMode(t, p, m)
				})
			}
		})
	}
}

func testMode(t *testing.T, p peer, m mode) {
	want := settle(p, m)
	url := p.start(t, m.server)
	if want.refused {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		ws, err := websocket.Dial(ctx, url, m.config())
		var he *websocket.HandshakeError
		if !errors.As(err, &he) || he.StatusCode != 400 {
			if err == nil {
				ws.Close()
			}
			t.Fatalf("Dial: %v (%T); want a *HandshakeError with 400: the server accepts none of the offers", err, err)
		}
		return
	}
	ws, ctx := dial(t, url, m.config())
	ext := ws.Extensions()
	checkExtensions(t, ext, want)

	// A burst: every message sent at once, then every echo, in order.
	// With context takeover the server's compression of each refers to
	// the messages before it.
	burst := append(messages(m.all), m.extra...)
	for i, msg := range burst {
		if err := msg.send(ws); err != nil {
			t.Fatalf("sending message %d, %v: %v", i, msg, err)
		}
	}
	for i, msg := range burst {
		echoed(t, ctx, ws, i, msg)
	}
	st := serverStats(t, ctx, ws)
	checkServerSettlement(t, st, ext, want)
	if st.Received.Messages != len(burst) || st.Sent.Messages != len(burst) {
		t.Errorf("the server received %d messages and sent %d; want %d each", st.Received.Messages, st.Sent.Messages, len(burst))
	}
	if want.declined {
		if st.Received.Compressed != 0 || st.Sent.Compressed != 0 {
			t.Errorf("without the extension the server counts %d messages received compressed, %d sent", st.Received.Compressed, st.Sent.Compressed)
		}
	} else if st.Received.Compressed == 0 || st.Sent.Compressed == 0 {
		t.Errorf("the server counts %d messages received compressed, %d sent; want some each way", st.Received.Compressed, st.Sent.Compressed)
	}

	// One message at a time: each one's bytes on the wire both ways.
	var out, in peers.DeflateCounts
	for i, msg := range lockstep() {
		before := ws.Stats()
		if err := msg.send(ws); err != nil {
			t.Fatalf("sending %v: %v", msg, err)
		}
		echoed(t, ctx, ws, i, msg)
		after := ws.Stats()
		n := len(msg.data)
		sent := payloadSize(after.BytesOut-before.BytesOut, true)
		got := payloadSize(after.BytesIn-before.BytesIn, false)
		out.Messages++
		out.Wire += sent
		out.Plain += n
		if sent < n {
			out.Compressed++
		}
		in.Messages++
		in.Wire += got
		in.Plain += n
		checkSent(t, m, want, msg, sent)
		checkReceived(t, m, want, msg, got)
	}
	st = serverStats(t, ctx, ws)
	// The client's measure of each message is the server's count.
	if st.Received.Messages != out.Messages || st.Received.Compressed != out.Compressed ||
		st.Received.Wire != out.Wire || st.Received.Plain != out.Plain {
		t.Errorf("the server received %+v; the client sent %+v", st.Received, out)
	}
	if st.Sent.Messages != in.Messages || st.Sent.Wire != in.Wire || st.Sent.Plain != in.Plain {
		t.Errorf("the server sent %+v; the client received %+v", st.Sent, in)
	}
	if !want.declined && out.Compressed == 0 {
		t.Errorf("the client compressed none of its messages")
	}

	if !want.declined {
		probeWindow(t, ctx, ws, want.resolved)
	}

	// Fragmented: the server's echoes in three fragments each, a
	// compressed one inflated across them, after the probes' window.
	if err := ws.SendText("!frag 3"); err != nil {
		t.Fatalf("sending !frag: %v", err)
	}
	frag := fragmented()
	for _, msg := range frag {
		if err := msg.send(ws); err != nil {
			t.Fatalf("sending %v: %v", msg, err)
		}
	}
	for i, msg := range frag {
		echoed(t, ctx, ws, i, msg)
	}
	if err := ws.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	_, err := ws.WaitForNextMessage(ctx)
	var ce *websocket.ClosedError
	if !errors.As(err, &ce) || !ce.Event.WasClean {
		t.Errorf("after Close: %v; want a clean close", err)
	}
}

// echoed waits for message i, which must be msg.
func echoed(t *testing.T, ctx context.Context, ws *websocket.WebSocket, i int, msg msg) {
	t.Helper()
	e, err := ws.WaitForNextMessage(ctx)
	if err != nil {
		t.Fatalf("waiting for the echo of message %d, %v: %v", i, msg, err)
	}
	if !msg.is(e) {
		kind := "text"
		if e.Binary {
			kind = "binary"
		}
		t.Fatalf("echo %d: %s[%d]; want %v, the same bytes", i, kind, len(e.Data), msg)
	}
	e.Release()
}

// payloadSize is the payload of a frame of size bytes, a client's (masked)
// or a server's.
func payloadSize(size uint64, masked bool) int {
	n := int(size) - 2
	if masked {
		n -= 4
	}
	switch {
	case n <= 125:
		return n
	case n-2 <= 65535:
		return n - 2
	}
	return n - 8
}

// checkSent checks what the client made of msg on the wire: sent bytes of
// payload.
func checkSent(t *testing.T, m mode, want settlement, msg msg, sent int) {
	t.Helper()
	n := len(msg.data)
	switch {
	case sent > n:
		t.Errorf("%v went out as %d bytes: more than uncompressed", msg, sent)
	case want.declined || n < m.threshold():
		if sent != n {
			t.Errorf("%v went out as %d bytes; want it uncompressed (%s, threshold %d)", msg, sent, want, m.threshold())
		}
	case msg.content == random && msg.binary:
		if sent != n {
			t.Errorf("%v went out as %d bytes; want it uncompressed: compressing it does not pay", msg, sent)
		}
	case msg.content == compressible:
		// From the threshold on (128 bytes of these lines compress to
		// under 100), compressed: under a 15-bit window, by two thirds
		// from 1000 bytes on; under a smaller one, by a third or more.
		limit := n - 1
		switch {
		case n >= 1000 && want.resolved.ClientMaxWindowBits == 15:
			limit = n / 2
		case n >= 1000:
			limit = n * 3 / 4
		}
		if sent > limit {
			t.Errorf("%v went out as %d bytes; want at most %d (client window %d bits)", msg, sent, limit, want.resolved.ClientMaxWindowBits)
		}
	}
}

// checkReceived checks what the server made of msg on the wire: got bytes
// of payload.
func checkReceived(t *testing.T, m mode, want settlement, msg msg, got int) {
	t.Helper()
	n := len(msg.data)
	switch {
	case want.declined:
		if got != n {
			t.Errorf("the echo of %v came as %d bytes; want it uncompressed", msg, got)
		}
	case msg.content == compressible && n >= 1000 && n >= m.server.Threshold:
		if got > n/2 {
			t.Errorf("the echo of %v came as %d bytes; want it compressed, at most %d", msg, got, n/2)
		}
	}
}

// probeWindow sends a random message twice, one at a time: the server's
// second copy refers back to the first, whole, with context takeover, and
// cannot without.
func probeWindow(t *testing.T, ctx context.Context, ws *websocket.WebSocket, p peers.DeflateParams) {
	t.Helper()
	msg := probe(p.ServerMaxWindowBits, 0)
	n := len(msg.data)
	var got int
	for i := range 2 {
		before := ws.Stats().BytesIn
		if err := msg.send(ws); err != nil {
			t.Fatalf("sending the probe: %v", err)
		}
		echoed(t, ctx, ws, i, msg)
		got = payloadSize(ws.Stats().BytesIn-before, false)
	}
	if p.ServerNoContextTakeover {
		if got < n {
			t.Errorf("the second copy of a probe of %d random bytes came as %d bytes: the server referred back to the first, without context takeover", n, got)
		}
	} else if got > n/8 {
		t.Errorf("the second copy of a probe of %d random bytes came as %d bytes; want at most %d: the server's context takeover (%d-bit window) refers back to the first", n, got, n/8, p.ServerMaxWindowBits)
	}
}
