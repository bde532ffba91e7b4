// Package bufpool recycles the byte slices that carry messages: received
// payloads handed to the user (who may give them back with
// MessageEvent.Release) and the output buffers of large sends.
//
// A message that is received or sent allocates its own size in bytes, and
// at high rates it is the collector's work on those bytes, not the
// allocation calls, that costs: in the bench recv scenario (1 KiB
// messages over loopback), a message left to the collector takes 1.2 µs
// of client CPU, a released one 0.3 µs.
//
// Buffers come in size classes a quarter of a power of two apart (64,
// 80, 96, 112, 128, 160, ...), all of them size classes of Go's allocator
// too, so a buffer is at most 25 % larger than what it holds, and a buffer
// given back is recognised by its capacity alone. The pools are sync.Pools: safe from any goroutine, and emptied by
// the garbage collector, so recycling never holds memory for long.
package bufpool

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"
)

const (
	// minShift is the smallest class, 64 bytes. Smaller buffers are
	// cheaper to allocate than to recycle, and are never pooled.
	minShift = 6
	// maxShift bounds the pooled classes at 2 MiB. A pooled buffer lives
	// until the second garbage collection after it was given back, and a
	// program that once received a huge message should not hold its
	// buffers that long; past a few MiB, the collector's cost is small
	// beside the work of receiving the message anyway. Larger buffers are
	// plain allocations, and are not taken back.
	maxShift = 21
	// classes is 64 B, then four classes per power of two up to 2 MiB.
	classes = 1 + 4*(maxShift-minShift)
)

// pools holds, per class, pointers to the first byte of free buffers of
// exactly the class's size. A pointer fits an interface without an
// allocation; a slice would not.
var pools [classes]sync.Pool

// stocked says, per class, that a buffer was given back since a Get last
// found the pool empty. A program that never releases its messages then
// pays one atomic load per Get, not a sync.Pool miss, which looks through
// every P's pool and costs more than the allocation it would save.
var stocked [classes]atomic.Bool

// class returns the index of the smallest class that holds n bytes, and
// false when n is smaller or larger than every class.
func class(n int) (int, bool) {
	if n < 1<<minShift {
		return 0, false
	}
	if n == 1<<minShift {
		return 0, true
	}
	s := bits.Len(uint(n - 1)) // 1<<(s-1) < n <= 1<<s
	if s > maxShift {
		return 0, false
	}
	// A class is a step of 1<<(s-3) bytes wide, and n needs
	// ceil(n/step) = (n-1)/step + 1 of them, 5 to 8: a shift, where a
	// division by the variable step cost a fifth of a released 1 KiB
	// message's receive time (BenchmarkReceiveReleased).
	q := (n-1)>>(s-3) + 1
	return 1 + 4*(s-1-minShift) + q - 5, true
}

// size returns the capacity of the buffers of class k.
func size(k int) int {
	if k == 0 {
		return 1 << minShift
	}
	k--
	s := minShift + 1 + k/4 // the class lies in (1<<(s-1), 1<<s]
	return (5 + k%4) << (s - 3)
}

// Get returns a buffer of length n whose capacity is n's class size, from
// the pool when one is free. Its contents are arbitrary. A length smaller
// or larger than every class gets a plain allocation of exactly n bytes.
func Get(n int) []byte {
	k, ok := class(n)
	if !ok {
		return make([]byte, n)
	}
	if stocked[k].Load() {
		if p, _ := pools[k].Get().(*byte); p != nil {
			return unsafe.Slice(p, size(k))[:n]
		}
		stocked[k].Store(false)
	}
	return make([]byte, n, size(k))
}

// Cap returns the capacity of the buffer Get(n) returns.
func Cap(n int) int {
	if k, ok := class(n); ok {
		return size(k)
	}
	return n
}

// Put gives b back for a later Get. Only a buffer whose capacity is
// exactly a class size is kept; any other is left to the collector, so
// that Put is safe to call with any slice. The caller must not use b, or
// anything sharing its array, afterwards.
func Put(b []byte) {
	c := cap(b)
	k, ok := class(c)
	if !ok || size(k) != c {
		return
	}
	pools[k].Put(unsafe.SliceData(b[:1]))
	if !stocked[k].Load() {
		stocked[k].Store(true)
	}
}
