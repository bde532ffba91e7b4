package serverside_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/chromium"
	"github.com/wsloop/websocket/test/internal/testenv"
)

// Headless Chromium as the client. Its page (testdata/page.html), served
// by the test's HTTP server, takes jobs from the test: sockets to open,
// what to send, when to close; it reports each socket's events. The same
// page served from other origins (another host name, another port) opens
// the same server's sockets, for the origin checks.

//go:embed testdata/page.html
var pageHTML []byte

// chromiumStartBound bounds the browser's start, up to its page's first
// request for a job, as test/browser's does: a loaded machine may take
// most of it.
const chromiumStartBound = 30 * time.Second

// pageEvent is an event as the page summarizes it.
type pageEvent struct {
	Type string `json:"type"`
	// open
	Protocol   string `json:"protocol"`
	Extensions string `json:"extensions"`
	// message: its size, whether it is the echo of what was sent, or
	// its text when short and not an echo.
	Binary bool   `json:"binary"`
	Size   int    `json:"size"`
	Echo   *bool  `json:"echo"`
	Text   string `json:"text"`
	// close
	Code   int    `json:"code"`
	Reason string `json:"reason"`
	Clean  bool   `json:"clean"`
}

func (e pageEvent) String() string {
	switch e.Type {
	case "open":
		return fmt.Sprintf("open(%q, %q)", e.Protocol, e.Extensions)
	case "message":
		if e.Echo != nil {
			return fmt.Sprintf("message(%d bytes, echo %v)", e.Size, *e.Echo)
		}
		return fmt.Sprintf("message(%q)", e.Text)
	case "close":
		return fmt.Sprintf("close(%d, %q, clean %v)", e.Code, e.Reason, e.Clean)
	}
	return e.Type
}

// plan is one socket the page opens: its steps, then it waits for the
// close.
type plan struct {
	URL       string   `json:"url"`
	Protocols []string `json:"protocols,omitempty"`
	Steps     []step   `json:"steps,omitempty"`
	// Sandboxed runs the socket in a sandboxed frame, of the opaque
	// origin "null": it sends "x", awaits the echo and closes with 1000
	// (Steps are not read).
	Sandboxed bool `json:"sandboxed,omitempty"`
}

// step sends a message, or closes: text; unit repeated times; pattern
// bytes of a compressible pattern; random bytes; close's arguments.
type step struct {
	Text    *string `json:"text,omitempty"`
	Unit    *string `json:"unit,omitempty"`
	Times   int     `json:"times,omitempty"`
	Pattern *int    `json:"pattern,omitempty"`
	Random  *int    `json:"random,omitempty"`
	// Echo: the page waits for the next event, an echo of the message.
	Echo bool `json:"echo,omitempty"`
	// Close holds close()'s arguments, none included: nil sends.
	Close any `json:"close,omitempty"`
}

func sendText(s string, echo bool) step { return step{Text: &s, Echo: echo} }
func sendUnits(unit string, times int) step {
	return step{Unit: &unit, Times: times, Echo: true}
}
func sendPattern(n int) step     { return step{Pattern: &n, Echo: true} }
func sendRandom(n int) step      { return step{Random: &n, Echo: true} }
func closeWith(args ...any) step { return step{Close: append([]any{}, args...)} }

// job is what the page takes from /next.
type job struct {
	ID       int    `json:"id"`
	Sessions []plan `json:"sessions,omitempty"`
	Goto     string `json:"goto,omitempty"`
	Done     bool   `json:"done,omitempty"`
}

// pageResult is what the page posts: each session's events.
type pageResult struct {
	ID    int           `json:"id"`
	Logs  [][]pageEvent `json:"logs"`
	Error string        `json:"error"`
}

// hub serves the page and its queue, on every origin the page is served
// from.
type hub struct {
	jobs    chan job
	results chan pageResult
	ready   chan struct{}
	once    sync.Once
	hits    atomic.Int64
	logs    testenv.Buffer
	lastID  int
	browser *chromium.Browser
	// broken, once set, fails the jobs that follow at once: the page
	// stopped taking them.
	broken string
}

func newHub() *hub {
	return &hub{jobs: make(chan job), results: make(chan pageResult, 1), ready: make(chan struct{})}
}

func (h *hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.hits.Add(1)
	switch r.URL.Path {
	case "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(pageHTML)
	case "/next":
		h.once.Do(func() { close(h.ready) })
		select {
		case j := <-h.jobs:
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(j)
		case <-r.Context().Done():
		}
	case "/result":
		var res pageResult
		if err := json.NewDecoder(r.Body).Decode(&res); err != nil {
			fmt.Fprintf(&h.logs, "a result that is not JSON: %v\n", err)
			return
		}
		h.results <- res
	case "/log":
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		fmt.Fprintf(&h.logs, "page: %s\n", b)
	default:
		http.NotFound(w, r)
	}
}

// run gives the page j and returns its result.
func (h *hub) run(t *testing.T, j job) pageResult {
	t.Helper()
	h.lastID++
	j.ID = h.lastID
	h.give(t, j)
	return h.result(t, j.ID)
}

// give hands j to the page.
func (h *hub) give(t *testing.T, j job) {
	t.Helper()
	if h.broken != "" {
		t.Fatalf("not run: %s", h.broken)
	}
	select {
	case h.jobs <- j:
	case <-h.browser.Exited:
		h.fail(t, "Chromium exited\n"+h.browser.Output.String())
	case <-time.After(bound):
		h.fail(t, fmt.Sprintf("the page took no job within %v", bound))
	}
}

// fail fails t and the jobs that follow.
func (h *hub) fail(t *testing.T, why string) {
	t.Helper()
	h.broken = why
	t.Fatalf("%s\npage logs:\n%s", why, h.logs.String())
}

// result waits for the page's result of the job id.
func (h *hub) result(t *testing.T, id int) pageResult {
	t.Helper()
	select {
	case res := <-h.results:
		if res.ID != id || res.Error != "" {
			t.Fatalf("the page's result %d for job %d: %s\npage logs:\n%s", res.ID, id, res.Error, h.logs.String())
		}
		return res
	case <-h.browser.Exited:
		h.fail(t, "Chromium exited\n"+h.browser.Output.String())
	case <-time.After(bound):
		h.fail(t, fmt.Sprintf("no result of job %d within %v", id, bound))
	}
	return pageResult{}
}

// browserServers is what the page talks to: server A, whose Upgraders are
// under test and which serves the page at its own origin (and, through
// the host name localhost, at another), and server B, which serves only
// the page, at a third origin.
type browserServers struct {
	hub      *hub
	a, b     *httptest.Server
	echo     *echoer
	shut     *echoer
	upShut   *websocket.Upgrader
	statuses *statuses
	// origins are the origin checks' endpoints, by name.
	origins map[string]*echoer
}

// The origin checks' endpoints and their AllowedOrigins ("b" stands for
// server B's origin, known once it runs).
var originEndpoints = []struct {
	name     string
	patterns []string
}{
	{"default", nil},
	{"localhost", []string{"http://localhost:*"}},
	{"loopback", []string{"http://127.0.0.1:*"}},
	{"b", []string{"b"}},
	{"star", []string{"*"}},
	{"other", []string{"https://*.example.org", "http://127.0.0.2:*"}},
	{"null", []string{"null"}},
}

func startBrowserServers(t *testing.T) *browserServers {
	loop := startLoop(t)
	bs := &browserServers{hub: newHub(), echo: newEchoer(), shut: newEchoer(), statuses: &statuses{}, origins: map[string]*echoer{}}
	bs.b = httptestServer(t, bs.hub)
	mux := http.NewServeMux()
	mux.Handle("/", bs.hub)
	upEcho := &websocket.Upgrader{Loop: loop, Protocols: []string{"chat.v2", "chat.v1"}}
	mux.Handle("/ws/echo", upEcho.Handler(bs.echo.handle))
	bs.upShut = &websocket.Upgrader{Loop: loop}
	mux.Handle("/ws/shut", bs.statuses.wrap(bs.upShut.Handler(bs.shut.handle)))
	for _, o := range originEndpoints {
		patterns := slices.Clone(o.patterns)
		if o.name == "b" {
			patterns = []string{bs.b.URL}
		}
		e := newEchoer()
		bs.origins[o.name] = e
		up := &websocket.Upgrader{Loop: loop, AllowedOrigins: patterns}
		mux.Handle("/ws/origin/"+o.name, bs.statuses.wrap(up.Handler(e.handle)))
	}
	bs.a = httptestServer(t, mux)
	return bs
}

// TestChromium: Chromium on pages of three origins, against Upgraders.
func TestChromium(t *testing.T) {
	t.Parallel()
	bs := startBrowserServers(t)
	h := bs.hub
	h.browser = chromium.Start(t, chromium.Page{URL: bs.a.URL + "/", Ready: h.ready, Reached: func() bool { return h.hits.Load() > 0 }, Bound: chromiumStartBound})
	t.Cleanup(func() {
		// The page stops asking before the browser is killed.
		select {
		case h.jobs <- job{Done: true}:
		case <-h.browser.Exited:
		case <-time.After(bound):
		}
	})
	echoURL := wsURL(bs.a, "/ws/echo")

	t.Run("echo", func(t *testing.T) {
		// Compressible messages of several sizes, 1 MiB of a pattern,
		// random data, each echoed; the page closes with 1000.
		steps := []step{sendText("hello ✓", true), sendPattern(4), sendText("", true)}
		sizes := []int{5, 50, 500, 5000}
		for _, n := range sizes {
			steps = append(steps, sendUnits("compressible text ✓ ", n))
		}
		steps = append(steps, sendPattern(1<<20), sendRandom(100000), closeWith(1000, "done"))
		res := h.run(t, job{Sessions: []plan{{URL: echoURL, Protocols: []string{"chat.v1", "chat.v2"}, Steps: steps}}})
		log := res.Logs[0]
		const answer = "permessage-deflate; server_no_context_takeover"
		if len(log) != 11 || log[0].Type != "open" || log[0].Protocol != "chat.v2" || log[0].Extensions != answer {
			t.Fatalf("page: %v", log)
		}
		for _, e := range log[1:10] {
			if e.Type != "message" || e.Echo == nil || !*e.Echo {
				t.Fatalf("page: %v", log)
			}
		}
		if c := log[10]; c.Type != "close" || c.Code != 1000 || c.Reason != "done" || !c.Clean {
			t.Errorf("the page's close: %v", c)
		}
		s := bs.echo.next(t)
		if ev := s.closed(t); ev.Code != 1000 || ev.Reason != "done" || !ev.WasClean || len(s.errs) > 0 {
			t.Errorf("the server's close: %+v, errors %v", ev, s.errs)
		}
		// What the server read of each message: Chromium compresses
		// every one; the compressible ones are smaller on the wire.
		wire := s.wireSizes(t)
		if len(wire) != 9 {
			t.Fatalf("the server counted %d messages, want 9", len(wire))
		}
		for i, n := range sizes {
			plain := uint64(n * len("compressible text ✓ "))
			if w := wire[3+i]; w >= plain {
				t.Errorf("%d bytes of compressible text: %d on the wire", plain, w)
			}
		}
		if w := wire[7]; w > 1<<16 {
			t.Errorf("1 MiB of a pattern: %d bytes on the wire", w)
		}
		if in, sent := s.stats.BytesIn, uint64(1<<20+100000); in >= sent {
			t.Errorf("the server read %d bytes for %d of messages", in, sent)
		}
	})

	t.Run("page closes with 4000", func(t *testing.T) {
		res := h.run(t, job{Sessions: []plan{{URL: echoURL, Steps: []step{closeWith(4000, "page bye ✓")}}}})
		if c := last(res.Logs[0]); c.Code != 4000 || c.Reason != "page bye ✓" || !c.Clean {
			t.Errorf("page: %v", res.Logs[0])
		}
		if ev := bs.echo.next(t).closed(t); ev.Code != 4000 || ev.Reason != "page bye ✓" || !ev.WasClean {
			t.Errorf("the server's close: %+v", ev)
		}
	})

	t.Run("page closes without a code", func(t *testing.T) {
		res := h.run(t, job{Sessions: []plan{{URL: echoURL, Steps: []step{closeWith()}}}})
		if c := last(res.Logs[0]); c.Code != 1005 || !c.Clean {
			t.Errorf("page: %v", res.Logs[0])
		}
		if ev := bs.echo.next(t).closed(t); ev.Code != websocket.CloseNoStatus || !ev.WasClean {
			t.Errorf("the server's close: %+v", ev)
		}
	})

	t.Run("server closes with 4001", func(t *testing.T) {
		res := h.run(t, job{Sessions: []plan{{URL: echoURL, Steps: []step{sendText("!close 4001 server bye ✓", false)}}}})
		if c := last(res.Logs[0]); len(res.Logs[0]) != 2 || c.Code != 4001 || c.Reason != "server bye ✓" || !c.Clean {
			t.Errorf("page: %v", res.Logs[0])
		}
		if ev := bs.echo.next(t).closed(t); ev.Code != 4001 || !ev.WasClean {
			t.Errorf("the server's close: %+v", ev)
		}
	})

	t.Run("no subprotocol in common", func(t *testing.T) {
		// The Upgrader answers 101 without a protocol; a browser that
		// offered some fails such a connection (WHATWG WebSockets: the
		// response's Sec-WebSocket-Protocol must name one), and the
		// server's socket sees it end.
		res := h.run(t, job{Sessions: []plan{{URL: echoURL, Protocols: []string{"chat.v3"}, Steps: []step{closeWith(1000)}}}})
		if log := res.Logs[0]; len(log) != 2 || log[0].Type != "error" || log[1].Code != 1006 || log[1].Clean {
			t.Errorf("page: %v, want error and close 1006", log)
		}
		if ev := bs.echo.next(t).closed(t); ev.Code != 1006 || ev.WasClean {
			t.Errorf("the server's close: %+v, want 1006", ev)
		}
	})

	t.Run("shutdown", func(t *testing.T) {
		// Three sockets, each echoed once; then Shutdown: 1001 to all.
		p := plan{URL: wsURL(bs.a, "/ws/shut"), Steps: []step{sendText("hi", true)}}
		h.lastID++
		id := h.lastID
		h.give(t, job{ID: id, Sessions: []plan{p, p, p}})
		var socks []*session
		for range 3 {
			s := bs.shut.next(t)
			await(t, s.first, "a socket's first message")
			socks = append(socks, s)
		}
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		defer cancel()
		if err := bs.upShut.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		res := h.result(t, id)
		for _, log := range res.Logs {
			if c := last(log); len(log) != 3 || c.Code != 1001 || c.Reason != "going away" || !c.Clean {
				t.Errorf("page: %v", log)
			}
		}
		for _, s := range socks {
			if ev := s.closed(t); ev.Code != 1001 || !ev.WasClean {
				t.Errorf("the server's close: %+v", ev)
			}
		}
		// After Shutdown: refused with 503, which the page sees as a
		// failure.
		res = h.run(t, job{Sessions: []plan{p}})
		if log := res.Logs[0]; len(log) != 2 || log[0].Type != "error" || log[1].Code != 1006 || log[1].Clean {
			t.Errorf("page, after Shutdown: %v", log)
		}
		if got := bs.statuses.of("/ws/shut"); !slices.Equal(got, []int{503}) {
			t.Errorf("statuses of /ws/shut: %v, want one 503", got)
		}
	})

	// The origin checks, from each origin: the endpoints that take it.
	host, port, _ := net.SplitHostPort(bs.a.Listener.Addr().String())
	if host != "127.0.0.1" {
		t.Fatalf("server A listens on %s", host)
	}
	for _, page := range []struct {
		origin  string
		allowed []string
		// sandboxed: the sockets are opened by a sandboxed frame in the
		// page before, whose origin is opaque.
		sandboxed bool
	}{
		{origin: bs.a.URL, allowed: []string{"default", "loopback", "star"}},
		{origin: "http://localhost:" + port, allowed: []string{"localhost", "star"}},
		{origin: bs.b.URL, allowed: []string{"loopback", "b", "star"}},
		{origin: "null", allowed: []string{"null", "star"}, sandboxed: true},
	} {
		t.Run("origin "+page.origin, func(t *testing.T) {
			if page.origin != bs.a.URL && !page.sandboxed {
				h.run(t, job{Goto: page.origin + "/"})
			}
			var plans []plan
			refused := map[string]int{}
			for _, o := range originEndpoints {
				plans = append(plans, plan{URL: wsURL(bs.a, "/ws/origin/"+o.name), Steps: []step{sendText("x", true), closeWith(1000)}, Sandboxed: page.sandboxed})
				refused[o.name] = len(bs.statuses.of("/ws/origin/" + o.name))
			}
			res := h.run(t, job{Sessions: plans})
			for i, o := range originEndpoints {
				log := res.Logs[i]
				path := "/ws/origin/" + o.name
				statuses := bs.statuses.of(path)[refused[o.name]:]
				if slices.Contains(page.allowed, o.name) {
					if len(log) != 3 || log[0].Type != "open" || last(log).Code != 1000 || !last(log).Clean || len(statuses) > 0 {
						t.Errorf("%s, allowed: page %v, refusals %v", path, log, statuses)
						continue
					}
					if s := bs.origins[o.name].next(t); s.origin != page.origin {
						t.Errorf("%s: the server's socket has Origin %q", path, s.origin)
					}
				} else if len(log) != 2 || log[0].Type != "error" || log[1].Code != 1006 || log[1].Clean || !slices.Equal(statuses, []int{403}) {
					t.Errorf("%s, refused: page %v, statuses %v; want error, close 1006 and one 403", path, log, statuses)
				}
			}
		})
	}
}

// last is a session's last event.
func last(log []pageEvent) pageEvent {
	if len(log) == 0 {
		return pageEvent{}
	}
	return log[len(log)-1]
}
