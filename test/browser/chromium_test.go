package browser_test

import (
	"testing"
	"time"

	"github.com/wsloop/websocket/test/internal/chromium"
	"github.com/wsloop/websocket/test/internal/testenv"
)

// startBound bounds the browser's start, up to the page's first request
// for a scenario.
const startBound = 30 * time.Second

// browser is the running Chromium.
type browser struct {
	out    *testenv.Buffer
	exited <-chan struct{}
	// broken, once set, fails the remaining scenarios at once: the page
	// stopped taking them.
	broken string
}

// startChromium opens the page in a headless Chromium with a fresh profile
// and waits until the page asks for its first scenario; t.Cleanup kills
// the browser and every process it started. A launch that dies of a
// signal before any request reached the server (Debian's Chromium
// sometimes does, about one launch in 30 on this project's 2-core machine
// under load) is made again, up to three in all (chromium.Start).
func startChromium(t *testing.T, srv *server) *browser {
	t.Helper()
	b := chromium.Start(t, chromium.Page{URL: "http://" + srv.host + "/", Ready: srv.ready, Reached: srv.requested, Bound: startBound})
	return &browser{out: b.Output, exited: b.Exited}
}
