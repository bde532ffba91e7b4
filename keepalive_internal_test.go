package websocket

import (
	"math/rand/v2"
	"testing"
	"time"
)

// The verdict on a socket's silence, on a clock the test sets.
func TestKeepaliveVerdict(t *testing.T) {
	const s = time.Second
	for _, tt := range []struct {
		name           string
		k              keepalive
		now            time.Duration
		want           int
		pingAtAfter    time.Duration
		wantNextAfterK time.Duration
	}{
		{"busy: received within the interval", keepalive{interval: 10 * s, pongTimeout: 5 * s, lastRecv: 100 * s}, 109 * s, kaAlive, 0, 110 * s},
		{"silent for the interval", keepalive{interval: 10 * s, pongTimeout: 5 * s, lastRecv: 100 * s}, 110 * s, kaPing, 0, 110 * s},
		{"ping outstanding, within the timeout", keepalive{interval: 10 * s, pongTimeout: 5 * s, lastRecv: 100 * s, pingAt: 110 * s}, 114 * s, kaAlive, 110 * s, 115 * s},
		{"ping unanswered", keepalive{interval: 10 * s, pongTimeout: 5 * s, lastRecv: 100 * s, pingAt: 110 * s}, 115 * s, kaDead, 110 * s, 115 * s},
		{"ping answered by any byte", keepalive{interval: 10 * s, pongTimeout: 5 * s, lastRecv: 112 * s, pingAt: 110 * s}, 116 * s, kaAlive, 0, 122 * s},
		{"idle timeout without pings", keepalive{idle: 30 * s, lastRecv: 100 * s}, 130 * s, kaDead, 0, 130 * s},
		{"idle not yet", keepalive{idle: 30 * s, lastRecv: 100 * s}, 129 * s, kaAlive, 0, 130 * s},
		{"idle sooner than the pong", keepalive{interval: 10 * s, pongTimeout: 30 * s, idle: 15 * s, lastRecv: 100 * s, pingAt: 110 * s}, 115 * s, kaDead, 110 * s, 115 * s},
		// A PongTimeout longer than the interval: look again an interval
		// after the ping, when the pong may have opened the next one...
		{"long pong timeout, answered", keepalive{interval: 10 * s, pongTimeout: 30 * s, lastRecv: 111 * s, pingAt: 110 * s}, 112 * s, kaAlive, 0, 121 * s},
		{"long pong timeout, waiting", keepalive{interval: 10 * s, pongTimeout: 30 * s, lastRecv: 100 * s, pingAt: 110 * s}, 112 * s, kaAlive, 110 * s, 120 * s},
		// ...and, unanswered then, at its timeout, not again at once.
		{"long pong timeout, unanswered at the interval", keepalive{interval: 10 * s, pongTimeout: 30 * s, lastRecv: 100 * s, pingAt: 110 * s}, 120 * s, kaAlive, 110 * s, 140 * s},
	} {
		k := tt.k
		if got := k.verdict(tt.now); got != tt.want || k.pingAt != tt.pingAtAfter {
			t.Errorf("%s: verdict %d pingAt %v, want %d and %v", tt.name, got, k.pingAt, tt.want, tt.pingAtAfter)
		}
		if got := k.next(tt.now); got != tt.wantNextAfterK {
			t.Errorf("%s: next %v, want %v", tt.name, got, tt.wantNextAfterK)
		}
	}
}

// The keepalive heap keeps its order and every socket's index through
// pushes, fixes and removals.
func TestKeepaliveHeap(t *testing.T) {
	l := NewEventLoop()
	r := rand.New(rand.NewPCG(1, 2))
	var socks []*WebSocket
	for range 500 {
		ws := &WebSocket{ka: &keepalive{index: -1, due: time.Duration(r.IntN(1000))}}
		socks = append(socks, ws)
		l.kaPush(ws)
	}
	check := func() {
		t.Helper()
		for i, ws := range l.kaHeap {
			if int(ws.ka.index) != i {
				t.Fatalf("entry %d has index %d", i, ws.ka.index)
			}
			if i > 0 && l.kaHeap[(i-1)/2].ka.due > ws.ka.due {
				t.Fatalf("entry %d is due before its parent", i)
			}
		}
	}
	check()
	for i, ws := range socks {
		switch i % 3 {
		case 0:
			l.kaRemove(int(ws.ka.index))
			if ws.ka.index != -1 {
				t.Fatal("removed entry keeps an index")
			}
		default:
			ws.ka.due = time.Duration(r.IntN(1000))
			l.kaFix(int(ws.ka.index))
		}
		check()
	}
	last := time.Duration(-1)
	for len(l.kaHeap) > 0 {
		if d := l.kaHeap[0].ka.due; d < last {
			t.Fatalf("popped %v after %v", d, last)
		} else {
			last = d
		}
		l.kaRemove(0)
		check()
	}
	if l.kaHeap != nil {
		t.Error("an emptied heap keeps its array")
	}
}
