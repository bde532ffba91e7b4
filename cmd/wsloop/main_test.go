package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestUsage: a command line that cannot run shows the usage and exits 2;
// -h asks for the usage and exits 0, as the flag package has it.
func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{nil, exitUsage},
		{[]string{"-h"}, 0},
		{[]string{"help"}, 0},
		{[]string{"frobnicate"}, exitUsage},
		{[]string{"demo", "extra"}, exitUsage},
		{[]string{"demo", "-h"}, 0},
		{[]string{"serve", "-nope"}, exitUsage},
		{[]string{"serve", "extra"}, exitUsage},
		{[]string{"serve", "-h"}, 0},
		{[]string{"connect"}, exitUsage},
		{[]string{"connect", "-h"}, 0},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tc.args, strings.NewReader(""), &stdout, &stderr)
		if code != tc.code {
			t.Errorf("wsloop %q: exit code %d, want %d", tc.args, code, tc.code)
		}
		if !strings.Contains(stderr.String(), "usage: wsloop") {
			t.Errorf("wsloop %q: no usage text on stderr:\n%s", tc.args, stderr.String())
		}
	}
}
