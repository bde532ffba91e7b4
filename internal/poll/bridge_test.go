package poll

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"testing"
)

// TestRecordCursor feeds a stream of records, empty ones included, to a
// recordCursor in pieces of every size: each take stops exactly at a record
// end or at the end of its piece.
func TestRecordCursor(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var stream []byte
	var ends []int
	for i := range 300 {
		n := r.IntN(600)
		if i%7 == 0 {
			n = 0
		}
		if i%50 == 0 {
			n = 16<<10 + 256
		}
		stream = append(stream, 23, 3, 3, byte(n>>8), byte(n))
		stream = append(stream, randomBytes(n, uint64(i))...)
		ends = append(ends, len(stream))
	}
	for _, most := range []int{1, 2, 3, 5, 6, 100, 4096, 1 << 20} {
		var rc recordCursor
		var got []int
		for off := 0; off < len(stream); {
			piece := stream[off:min(len(stream), off+1+r.IntN(most))]
			k := rc.take(piece)
			if k == 0 || k > len(piece) {
				t.Fatalf("take of %d bytes returned %d", len(piece), k)
			}
			off += k
			if rc.left == 0 && rc.hdr == 0 {
				got = append(got, off)
			} else if k < len(piece) {
				t.Fatalf("take stopped at %d, inside a record", off)
			}
		}
		if len(got) != len(ends) {
			t.Fatalf("pieces up to %d: %d record ends, want %d", most, len(got), len(ends))
		}
		for i := range ends {
			if got[i] != ends[i] {
				t.Fatalf("pieces up to %d: record %d ends at %d, want %d", most, i, got[i], ends[i])
			}
		}
	}
}

// TestBridgePassthrough: until a Poller takes it over, a Bridge is the
// connection it wraps.
func TestBridgePassthrough(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	br := NewBridge(a)
	if br.LocalAddr() != a.LocalAddr() || br.RemoteAddr() != a.RemoteAddr() {
		t.Fatal("addresses differ")
	}
	go b.Write([]byte("through"))
	buf := make([]byte, 7)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "through" {
		t.Fatalf("read %q, %v", buf, err)
	}
	got := make(chan []byte, 1)
	go func() {
		p, _ := io.ReadAll(b)
		got <- p
	}()
	if _, err := br.Write([]byte("back")); err != nil {
		t.Fatal(err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
	if p := <-got; !bytes.Equal(p, []byte("back")) {
		t.Fatalf("peer read %q", p)
	}
}
