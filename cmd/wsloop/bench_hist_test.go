package main

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestHistogramBuckets: the buckets tile the values without gap or
// overlap, each at most 1/64 of its values wide.
func TestHistogramBuckets(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	values := []uint64{0, 1, 63, 64, 65, 127, 128, 129, 1000, 1 << 20, 1<<63 - 1}
	for range 2000 {
		values = append(values, rng.Uint64N(1<<uint(rng.IntN(63)+1)))
	}
	for _, v := range values {
		i := bucketOf(v)
		lo, hi := bucketBounds(i)
		if v < lo || v > hi {
			t.Fatalf("%d in bucket %d [%d, %d]", v, i, lo, hi)
		}
		if lo >= histSub && (hi-lo+1)*histSub > lo {
			t.Fatalf("bucket %d [%d, %d] wider than 1/%d of its values", i, lo, hi, histSub)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i || (hi < 1<<63-1 && bucketOf(hi+1) != i+1) {
			t.Fatalf("bucket %d [%d, %d] does not tile: %d, %d, %d", i, lo, hi, bucketOf(lo), bucketOf(hi), bucketOf(hi+1))
		}
	}
	if i := bucketOf(1<<63 - 1); i >= histBuckets {
		t.Fatalf("the largest duration falls in bucket %d of %d", i, histBuckets)
	}
}

// TestHistogramQuantiles: percentiles of a known spread, within the
// buckets' precision, non-decreasing, and never past the maximum.
func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.9, 900 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {0.999, 999 * time.Microsecond}} {
		got := h.quantile(tc.q)
		if got < tc.want || float64(got) > float64(tc.want)*(1+1.0/histSub) {
			t.Errorf("p%v = %v, want %v to 1/%d above", tc.q*100, got, tc.want, histSub)
		}
	}
	if h.quantile(1) != time.Millisecond || h.max != time.Millisecond || h.min != time.Microsecond {
		t.Errorf("max %v (quantile 1: %v), min %v; want 1ms, 1µs", h.max, h.quantile(1), h.min)
	}
	if m := h.mean(); m != 500500*time.Nanosecond {
		t.Errorf("mean %v, want 500.5µs", m)
	}
	prev := time.Duration(0)
	for q := 0.0; q <= 1; q += 0.001 {
		got := h.quantile(q)
		if got < prev || got > h.max {
			t.Fatalf("quantile(%v) = %v after %v, max %v", q, got, prev, h.max)
		}
		prev = got
	}

	// Merged halves are the whole.
	var a, b histogram
	for i := 1; i <= 1000; i++ {
		if i%2 == 0 {
			a.record(time.Duration(i) * time.Microsecond)
		} else {
			b.record(time.Duration(i) * time.Microsecond)
		}
	}
	var m histogram
	m.merge(&a)
	m.merge(&b)
	m.merge(&histogram{})
	if m.counts != h.counts || m.n != h.n || m.min != h.min || m.max != h.max || m.sum != h.sum {
		t.Error("merging two halves differs from recording the whole")
	}
}

// TestHistogramRows: the rows shown run on the 1-2-5 scale from the
// smallest sample's row to the largest's and hold every sample.
func TestHistogramRows(t *testing.T) {
	var h histogram
	for _, d := range []time.Duration{70 * time.Microsecond, 150 * time.Microsecond, 199 * time.Microsecond, 3 * time.Millisecond} {
		h.record(d)
	}
	want := []histRow{
		{50 * time.Microsecond, 100 * time.Microsecond, 1},
		{100 * time.Microsecond, 200 * time.Microsecond, 2},
		{200 * time.Microsecond, 500 * time.Microsecond, 0},
		{500 * time.Microsecond, time.Millisecond, 0},
		{time.Millisecond, 2 * time.Millisecond, 0},
		{2 * time.Millisecond, 5 * time.Millisecond, 1},
	}
	got := h.rows()
	if len(got) != len(want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: %v, want %v", i, got[i], want[i])
		}
	}
	var out bytes.Buffer
	writeHistogram(&out, &h)
	for _, line := range []string{"   50µs - 100µs  ####################                      1   25.0%", "  100µs - 200µs  ########################################  2   50.0%", "      2ms - 5ms  "} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("no %q in:\n%s", line, out.String())
		}
	}
}
