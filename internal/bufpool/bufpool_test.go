package bufpool

import (
	"sync"
	"testing"
)

func TestClassesCoverEverySize(t *testing.T) {
	prev := 1<<minShift - 1
	for k := range classes {
		s := size(k)
		if s <= prev {
			t.Fatalf("class %d has size %d, not above the previous %d", k, s, prev)
		}
		if k > 0 && 4*s > 5*prev {
			t.Fatalf("class %d: %d is more than a quarter above %d", k, s, prev)
		}
		for _, n := range []int{prev + 1, (prev + 1 + s) / 2, s} {
			got, ok := class(n)
			if !ok || got != k {
				t.Fatalf("class(%d) = %d, %v; want %d", n, got, ok, k)
			}
		}
		prev = s
	}
	if prev != 1<<maxShift {
		t.Fatalf("largest class %d, want %d", prev, 1<<maxShift)
	}
	if _, ok := class(1<<maxShift + 1); ok {
		t.Fatal("a size past the largest class has a class")
	}
	if _, ok := class(1<<minShift - 1); ok {
		t.Fatal("a size below the smallest class has a class")
	}
}

func TestGetLengthAndCapacity(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 1000, 1024, 1025, 70000, 1 << 20} {
		b := Get(n)
		if len(b) != n || cap(b) != Cap(n) {
			t.Fatalf("Get(%d): len %d cap %d, want len %d cap %d", n, len(b), cap(b), n, Cap(n))
		}
		if k, ok := class(n); ok && Cap(n) != size(k) || !ok && Cap(n) != n {
			t.Fatalf("Cap(%d) = %d", n, Cap(n))
		}
		if c := cap(b); c > 64 && c > n+n/4+1 {
			t.Fatalf("Get(%d): capacity %d wastes more than a quarter", n, c)
		}
		Put(b)
	}
	huge := Get(1<<maxShift + 1)
	if len(huge) != 1<<maxShift+1 || cap(huge) != len(huge) {
		t.Fatalf("huge Get: len %d cap %d", len(huge), cap(huge))
	}
}

func TestPutThenGetReuses(t *testing.T) {
	// sync.Pool may drop what it is given (it does under the race
	// detector, at random), so look for reuse over many tries.
	reused := false
	for range 1000 {
		b := Get(1000)
		b[0] = 0x5a
		Put(b)
		c := Get(900) // the same class as 1000
		if &c[:1][0] == &b[:1][0] {
			reused = true
			break
		}
	}
	if !reused {
		t.Fatal("a buffer given back was never handed out again")
	}
}

func TestPutIgnoresForeignSlices(t *testing.T) {
	// A slice whose capacity is not a class size must never be handed
	// out: Get would rebuild it to the class size, past its end.
	odd := make([]byte, 10, 1000)
	for range 100 {
		Put(odd)
		Put(odd[1:])
		Put(nil)
		b := Get(1000)
		if cap(b) != 1024 {
			t.Fatalf("Get(1000) has capacity %d", cap(b))
		}
		if &b[:1][0] == &odd[:1][0] {
			t.Fatal("Get handed out a slice whose capacity is not a class size")
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				n := 1 + (g*997+i*31)%5000
				b := Get(n)
				for j := range b {
					b[j] = byte(g)
				}
				for j := range b {
					if b[j] != byte(g) {
						t.Errorf("buffer shared between goroutines")
						return
					}
				}
				Put(b)
			}
		}()
	}
	wg.Wait()
}

func BenchmarkGetPut1KiB(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Put(Get(1024))
	}
}

func BenchmarkMake1KiB(b *testing.B) {
	b.ReportAllocs()
	var sink []byte
	for b.Loop() {
		sink = make([]byte, 1024)
	}
	_ = sink
}
