package main

import (
	"bytes"
	"math"
	"os"
	"strconv"
)

// ipiCount is the machine's inter-processor interrupts so far: the
// rescheduling (RES) and function-call (CAL) lines of /proc/interrupts,
// summed over the CPUs; -1 where that file cannot be read or has neither.
// Waking a thread on another core costs one, so per operation they tell
// whether the kernel ran client and server on one core (near 0 a round
// trip) or on two (near 2): on a VM that decides round trips more than
// any library does (docs/PERFORMANCE.md, "stacked or spread"). They are
// the machine's, not this process's, so other load counts too.
func ipiCount() int64 {
	b, err := os.ReadFile("/proc/interrupts")
	if err != nil {
		return -1
	}
	var n int64
	found := false
	for line := range bytes.Lines(b) {
		f := bytes.Fields(line)
		if len(f) == 0 || (string(f[0]) != "RES:" && string(f[0]) != "CAL:") {
			continue
		}
		found = true
		for _, c := range f[1:] {
			v, err := strconv.ParseInt(string(c), 10, 64)
			if err != nil {
				break // the description after the counts
			}
			n += v
		}
	}
	if !found {
		return -1
	}
	return n
}

// ipisPerOp is NaN when the interrupts were not counted.
func (s sample) ipisPerOp() float64 {
	if s.ops == 0 || s.ipis < 0 {
		return math.NaN()
	}
	return float64(s.ipis) / float64(s.ops)
}
