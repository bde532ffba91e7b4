package main

import (
	"testing"
	"time"
)

// TestFormats: the figures of the report, three significant digits in
// the unit that suits them.
func TestFormats(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{812, "812ns"}, {12345, "12.3µs"}, {1200 * time.Microsecond, "1.20ms"}, {3410 * time.Millisecond, "3.41s"}, {90 * time.Second, "90.0s"}} {
		if got := fmtDur(tc.d); got != tc.want {
			t.Errorf("fmtDur(%d) = %q, want %q", tc.d, got, tc.want)
		}
	}
	for _, tc := range []struct {
		v    float64
		want string
	}{{0, "0"}, {0.5, "0.5"}, {812, "812"}, {41234, "41.2k"}, {1.234e6, "1.23M"}, {2.05e9, "2.05G"}} {
		if got := siNumber(tc.v); got != tc.want {
			t.Errorf("siNumber(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
