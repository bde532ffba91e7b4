package serverside_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
)

// bound bounds every wait of the suite: reaching it is a failure, never a
// way to let something happen. Each exchange ends on an event; the margin
// is for a loaded 2-core machine under the race detector.
const bound = 20 * time.Second

// startLoop runs an event loop for a server's sockets until the test ends;
// a panic in a callback fails the test.
func startLoop(t *testing.T) *websocket.EventLoop {
	t.Helper()
	loop := websocket.NewEventLoop()
	loop.OnPanic = func(v any, stack []byte) { t.Errorf("panic in a server callback: %v\n%s", v, stack) }
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan error, 1)
	go func() { ended <- loop.RunContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-ended
	})
	return loop
}

// turn waits for a turn of loop: a task posted now runs after the task
// running, and after the I/O the loop had been told of.
func turn(t testing.TB, loop *websocket.EventLoop) {
	t.Helper()
	turned := make(chan struct{})
	loop.Post(func() { close(turned) })
	await(t, turned, "a turn of the server's loop")
}

// httptestServer serves h until the test ends.
func httptestServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// wsURL is the ws:// URL of path on srv.
func wsURL(srv *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + path
}

// await waits for ch to be closed or to yield, failing t after bound.
func await[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(bound)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("%s: nothing within %v", what, bound)
	}
	var zero T
	return zero
}

// statuses records the HTTP status of every response an Upgrader wrote
// instead of upgrading (a 101 is written on the hijacked connection, and
// is not seen here), by path.
type statuses struct {
	mu sync.Mutex
	m  map[string][]int
}

// wrap records h's refusals.
func (s *statuses) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&statusWriter{ResponseWriter: w, path: r.URL.Path, s: s}, r)
	})
}

// of is the statuses written for path so far.
func (s *statuses) of(path string) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.m[path]...)
}

type statusWriter struct {
	http.ResponseWriter
	path string
	s    *statuses
}

func (w *statusWriter) WriteHeader(code int) {
	w.s.mu.Lock()
	if w.s.m == nil {
		w.s.m = map[string][]int{}
	}
	w.s.m[w.path] = append(w.s.m[w.path], code)
	w.s.mu.Unlock()
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets the Upgrader's http.ResponseController reach the Hijacker.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// echoer is an Upgrader.Handler function that echoes every message with
// its type and keeps a record of each socket. Text commands, as the peers'
// servers take them: "!close CODE [REASON]" closes with CODE and REASON
// (a refused code is answered with "!refused ERROR"), "!ping [PAYLOAD]"
// sends a ping and, once its pong arrives, "pong:PAYLOAD".
type echoer struct {
	sessions chan *session
}

func newEchoer() *echoer { return &echoer{sessions: make(chan *session, 1024)} }

// session is a server socket's record. The loop writes it; the test reads
// what the loop wrote before first or done is closed.
type session struct {
	ws *websocket.WebSocket
	// offer is the request's Sec-WebSocket-Extensions, origin its Origin.
	offer, origin string
	// first is closed at the first message, once its reply is queued.
	first chan struct{}
	// wire is each message's bytes on the wire: what BytesIn grew by
	// since the message before (control frames between them included).
	wire   []uint64
	lastIn uint64
	// done is closed after the close event: closeEv, errs and stats (as
	// of the close) are then set.
	done    chan struct{}
	closeEv websocket.CloseEvent
	errs    []error
	stats   websocket.Stats
}

var closeCommand = regexp.MustCompile(`^!close (\d{1,5})(?: (.*))?$`)

func (e *echoer) handle(ws *websocket.WebSocket, r *http.Request) {
	s := &session{ws: ws, offer: strings.Join(r.Header.Values("Sec-WebSocket-Extensions"), ", "), origin: r.Header.Get("Origin"),
		first: make(chan struct{}), done: make(chan struct{})}
	s.lastIn = ws.Stats().BytesIn
	pings := map[string]bool{}
	ws.OnMessage = func(m websocket.MessageEvent) {
		in := ws.Stats().BytesIn
		s.wire = append(s.wire, in-s.lastIn)
		s.lastIn = in
		if len(s.wire) == 1 {
			// After the reply is queued: a test that acts on first (a
			// Shutdown from its own goroutine) must find the echo ahead
			// of its close, or the page gets no message.
			defer close(s.first)
		}
		text := ""
		if !m.Binary && len(m.Data) < 200 {
			text = m.Text()
		}
		switch {
		case closeCommand.MatchString(text):
			c := closeCommand.FindStringSubmatch(text)
			code, _ := strconv.Atoi(c[1])
			if err := ws.CloseWith(code, c[2]); err != nil {
				ws.SendText("!refused " + err.Error())
			}
		case strings.HasPrefix(text, "!ping"):
			p := strings.TrimPrefix(strings.TrimPrefix(text, "!ping"), " ")
			pings[p] = true
			ws.Ping([]byte(p))
		case m.Binary:
			ws.Send(m.Data)
		default:
			ws.SendText(m.Text())
		}
	}
	ws.OnPong = func(p websocket.PongEvent) {
		if pings[string(p.Data)] {
			delete(pings, string(p.Data))
			ws.SendText("pong:" + string(p.Data))
		}
	}
	ws.OnError = func(ev websocket.ErrorEvent) { s.errs = append(s.errs, ev.Err) }
	ws.OnClose = func(ev websocket.CloseEvent) {
		s.closeEv, s.stats = ev, ws.Stats()
		close(s.done)
	}
	e.sessions <- s
}

// next is the next socket the echoer got.
func (e *echoer) next(t testing.TB) *session {
	t.Helper()
	return await(t, e.sessions, "the server's next socket")
}

// wireSizes is a copy of s.wire, taken on the socket's loop.
func (s *session) wireSizes(t testing.TB) []uint64 {
	t.Helper()
	ch := make(chan []uint64, 1)
	s.ws.Loop().Post(func() { ch <- slices.Clone(s.wire) })
	return await(t, ch, "the server loop's answer")
}

// closed waits for the socket's close event and returns it.
func (s *session) closed(t testing.TB) websocket.CloseEvent {
	t.Helper()
	await(t, s.done, "the server socket's close event")
	return s.closeEv
}
