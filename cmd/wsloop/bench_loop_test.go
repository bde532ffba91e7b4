package main

import (
	"testing"
	"time"
)

// TestStampQueue: first in, first out, and with a few always in flight
// (never empty, as at a rate) the array stays the size of those few
// however many pass through.
func TestStampQueue(t *testing.T) {
	var q stampQueue
	next, want := time.Duration(0), time.Duration(0)
	push := func() { q.push(next); next++ }
	pop := func() {
		if got := q.pop(); got != want {
			t.Fatalf("popped %d, want %d", got, want)
		}
		want++
	}
	push()
	push()
	push()
	for i := range 100000 {
		push()
		if i%2 == 0 {
			push()
			pop()
		}
		pop()
	}
	if q.len() != 3 || cap(q.s) > 16 {
		t.Errorf("%d in flight in an array of %d after 150000 stamps", q.len(), cap(q.s))
	}
	if q.clear() != 3 || q.len() != 0 {
		t.Fatal("clear did not empty the queue")
	}
}
