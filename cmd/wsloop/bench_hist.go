package main

import (
	"math"
	"math/bits"
	"time"
)

// histSubBits sets the histogram's precision: each power of two is cut
// into 1<<histSubBits buckets, so a bucket is at most 1/64 (1.6 %) of its
// values wide. That is finer than a latency measured through a kernel
// and a scheduler can be trusted to, and the whole table is a few tens of
// KiB however long the run.
const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	histBuckets = (64 - histSubBits) * histSub
)

// histogram counts durations in log-linear buckets, as HDR histograms
// do: a percentile of millions of samples without keeping them. Each
// loop keeps its own, touched only by its goroutine, and they are merged
// once the loops are done.
type histogram struct {
	counts   [histBuckets]uint64
	n        uint64
	sum      float64 // nanoseconds, for the mean
	min, max time.Duration
}

// bucketOf is v's bucket: values under histSub have one each; above,
// the bucket holds the values that share v's top histSubBits+1 bits.
func bucketOf(v uint64) int {
	if v < histSub {
		return int(v)
	}
	e := bits.Len64(v) - histSubBits - 1
	return e*histSub + int(v>>e)
}

// bucketBounds is the range of values bucket i holds, both ends included.
func bucketBounds(i int) (lo, hi uint64) {
	if i < histSub {
		return uint64(i), uint64(i)
	}
	e := i/histSub - 1
	m := uint64(i - e*histSub)
	return m << e, (m+1)<<e - 1
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0 // a clock cannot run backwards here, but a bucket index must not be negative
	}
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.counts[bucketOf(uint64(d))]++
	h.n++
	h.sum += float64(d)
}

func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
}

// quantile is the duration at or under which a fraction q of the samples
// lie: the upper end of the bucket holding the sample of that rank, but
// never past the largest sample. So it is monotonic in q, and q = 1 is
// the exact maximum.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketBounds(i)
			return min(time.Duration(hi), h.max)
		}
	}
	return h.max
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// histRow is one line of the histogram shown to people: the samples from
// From up to, not including, To.
type histRow struct {
	From, To time.Duration
	Count    uint64
}

// rows groups the buckets into rows on the 1-2-5 scale (100µs, 200µs,
// 500µs, 1ms, ...), whose bounds read at a glance, from the row of the
// smallest sample to the row of the largest. A bucket goes to the row of
// its lower end: it straddles a row's bound by at most its 1.6 %.
func (h *histogram) rows() []histRow {
	if h.n == 0 {
		return nil
	}
	var rows []histRow
	from := scaleFloor(h.min)
	for from <= h.max {
		to := scaleNext(from)
		rows = append(rows, histRow{From: from, To: to})
		from = to
	}
	r := 0
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		lo, _ := bucketBounds(i)
		for r < len(rows)-1 && time.Duration(lo) >= rows[r].To {
			r++
		}
		rows[r].Count += c
	}
	return rows
}

// scaleFloor is the largest value of the 1-2-5 scale (1ns, 2ns, 5ns,
// 10ns, ...) not over d.
func scaleFloor(d time.Duration) time.Duration {
	v := time.Duration(1)
	for {
		next := scaleNext(v)
		if next > d {
			return v
		}
		v = next
	}
}

// scaleNext is the value of the 1-2-5 scale after v, which is on it.
func scaleNext(v time.Duration) time.Duration {
	decade := time.Duration(1)
	for decade*10 <= v {
		decade *= 10
	}
	switch v / decade {
	case 1:
		return 2 * decade
	case 2:
		return 5 * decade
	default:
		return 10 * decade
	}
}
