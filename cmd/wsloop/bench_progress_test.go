package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestProgress: no bar on a writer that is not a terminal; the bar, when
// drawn, shows each phase and is erased at the end.
func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	if _, ok := newProgress(&buf).(noProgress); !ok {
		t.Error("a progress bar on a buffer, which is no terminal")
	}
	p := &progressBar{w: &buf}
	p.connecting(1, 3)
	if !strings.Contains(buf.String(), "connecting") || !strings.Contains(buf.String(), "1/3") {
		t.Errorf("connecting bar: %q", buf.String())
	}
	buf.Reset()
	p.running(2*time.Second, 10*time.Second, 41234, 0)
	p.running(3*time.Second, 10*time.Second, 41234, 2)
	if !strings.Contains(buf.String(), "running 3s/10s  41.2k echoes/s  2 errors") {
		t.Errorf("running bar: %q", buf.String())
	}
	buf.Reset()
	p.done()
	if strings.TrimSpace(strings.ReplaceAll(buf.String(), "\r", "")) != "" {
		t.Errorf("done left %q on the line", buf.String())
	}
}
