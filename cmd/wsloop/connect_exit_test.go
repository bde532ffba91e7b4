package main

import (
	"strings"
	"testing"
	"time"
)

// TestConnectExitCodes: each way a run can end, and its exit code, as
// the usage text documents them.
func TestConnectExitCodes(t *testing.T) {
	t.Parallel()
	echo := startEcho(t).URL()
	for _, tc := range []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stderr string
	}{
		{"end of input", []string{echo}, "hi\n", 0, `closed: code=1000 reason="" wasClean=true`},
		{"server closes", []string{echo}, "!close 1011 oops\n", 0, `closed: code=1011 reason="oops" wasClean=true`},
		{"server vanishes", []string{vanishingServer(t)}, "hi\n", exitAbnormal, `closed: code=1006 reason="" wasClean=false`},
		{"server silent", []string{"-ping-interval", "50ms", silentAfterUpgrade(t)}, "", exitAbnormal, "keepalive"},
		{"handshake refused", []string{refusingServer(t)}, "hi\n", exitFailure, "403"},
		{"unreachable", []string{deadURL(t)}, "hi\n", exitFailure, "connection refused"},
		{"handshake timeout", []string{"--handshake-timeout", "100ms", silentServer(t)}, "hi\n", exitFailure, "closed: code=1006"},
		{"no URL", nil, "", exitUsage, "want one URL"},
		{"two URLs", []string{echo, echo}, "", exitUsage, "want one URL"},
		{"unknown flag", []string{"-nope", echo}, "", exitUsage, "flag provided but not defined: -nope"},
		{"bad URL", []string{"ftp://127.0.0.1/"}, "", exitUsage, "SyntaxError"},
		{"bad header", []string{"-H", "no colon", echo}, "", exitUsage, `want "Name: value"`},
		{"reserved header", []string{"-H", "Sec-WebSocket-Key: x", echo}, "", exitUsage, "set by the handshake itself"},
		{"both encodings", []string{"-hex", "-base64", echo}, "", exitUsage, "exclude each other"},
		{"bad wait", []string{"-wait", "never", echo}, "", exitUsage, `"forever"`},
		{"wait in seconds", []string{"-w", "0.05", echo}, "hi\n", 0, "wasClean=true"},
		{"negative count", []string{"-count", "-1", echo}, "", exitUsage, "negative"},
		{"missing cacert", []string{"-cacert", "/nonexistent.pem", echo}, "", exitUsage, "-cacert"},
		{"help", []string{"-h"}, "", 0, "Exit status:"},
		{"help, two dashes", []string{"--help"}, "", 0, "Exit status:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			code, stdout, stderr := runConnect(t, tc.stdin, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
			// The whole usage text for -h, a hint after a mistake.
			help := len(tc.args) == 1 && strings.TrimLeft(tc.args[0], "-") == "help" || len(tc.args) == 1 && tc.args[0] == "-h"
			if long := strings.Contains(stderr, "Exit status:"); long != help {
				t.Errorf("the usage text shown: %t\n%s", long, stderr)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}
