package testenv

import (
	"fmt"
	"testing"
)

// outcome records how unavailable ended a test instead of ending the real
// one.
type outcome struct {
	testing.TB
	skipped, failed string
}

func (o *outcome) Helper() {}

func (o *outcome) Skip(args ...any) { o.skipped = fmt.Sprint(args...) }

func (o *outcome) Fatalf(format string, args ...any) { o.failed = fmt.Sprintf(format, args...) }

func TestUnavailable(t *testing.T) {
	for _, tc := range []struct {
		env      string
		wantSkip bool
	}{
		{
			env:      "",
			wantSkip: true,
		},
		{
			env:      "optional",
			wantSkip: true,
		},
		{
			env:      "required",
			wantSkip: false,
		},
	} {
		t.Run(fmt.Sprintf("%s=%q", RequiredEnv, tc.env), func(t *testing.T) {
			t.Setenv(RequiredEnv, tc.env)
			o := &outcome{TB: t}
			Unavailable(o, "peer missing")
			if got := o.skipped != ""; got != tc.wantSkip || (o.failed != "") == tc.wantSkip {
				t.Fatalf(
					"skipped %q, failed %q; want skip %v",
					o.skipped, o.failed, tc.wantSkip,
				)
			}
		})
	}
}
