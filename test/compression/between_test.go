package compression_test

import (
	"testing"

	"github.com/wsloop/websocket/test/internal/peers"
)

// TestUncompressedBetween has Node's server, with context takeover,
// send every other echo uncompressed (ws's compress: false): the
// compressed ones refer back across the uncompressed ones, to the
// previous compressed message, whose bytes the client must have kept
// in its window, and the uncompressed ones must stay out of it (RFC 7692
// 7.2.3.2: the window holds what the server compressed). A message x,
// the same each time, alternates with messages y, new each time; x comes
// compressed, to a few bytes once the server refers back to its previous
// copy, and y uncompressed. Python's websockets compresses every message
// once the extension is settled, so only Node runs it.
func TestUncompressedBetween(t *testing.T) {
	for _, bits := range []int{10, 15} {
		t.Run(map[int]string{10: "Window10", 15: "Window15"}[bits], func(t *testing.T) {
			t.Parallel()
			ws, ctx := dial(t, peers.NodeDeflate(t, peers.Deflate{ServerMaxWindowBits: bits}), nil)
			if err := ws.SendText("!plain 2"); err != nil {
				t.Fatalf("sending !plain: %v", err)
			}
			// Random bytes, x's from the first probe, the y's from the
			// second.
			probes := theCorpus().probes
			x := msg{binary: true, content: random, data: probes[:400]}
			for i := range 10 {
				y := msg{binary: true, content: random, data: probes[64*KiB+i*300:][:300]}
				for j, msg := range []msg{x, y} {
					before := ws.Stats().BytesIn
					if err := msg.send(ws); err != nil {
						t.Fatalf("sending: %v", err)
					}
					echoed(t, ctx, ws, 2*i+j, msg)
					got := payloadSize(ws.Stats().BytesIn-before, false)
					switch {
					case j == 1 && got != len(msg.data):
						t.Errorf("echo %d, y: %d bytes on the wire; want %d, uncompressed", 2*i+j, got, len(msg.data))
					case j == 0 && i > 0 && got > len(msg.data)/8:
						t.Errorf("echo %d, x again: %d bytes on the wire; want at most %d, referring back to its previous copy", 2*i+j, got, len(msg.data)/8)
					}
				}
			}
		})
	}
}
