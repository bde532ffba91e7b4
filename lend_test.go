package websocket_test

// A blocking call runs the background loop while it waits, and between
// calls nobody does (lend.go): the socket must stay alive all the same,
// and a callback on the caller's goroutine must still be told apart.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/internal/echoserver"
)

// roundTripUntilLent makes round trips until the background loop is left
// to the blocking calls after one: the state the tests below start from.
func roundTripUntilLent(t *testing.T, ctx context.Context, ws *websocket.WebSocket) {
	t.Helper()
	for i := range 200 {
		if err := ws.SendText(fmt.Sprint("rt", i)); err != nil {
			t.Fatal(err)
		}
		m, err := ws.WaitForNextMessage(ctx)
		if err != nil || m.Text() != fmt.Sprint("rt", i) {
			t.Fatalf("round trip %d: %q, %v", i, m.Text(), err)
		}
		if websocket.Lent(ws.Loop()) {
			return
		}
	}
	t.Fatal("the background loop was never left to the blocking calls in 200 round trips")
}

// dialLent dials url and makes round trips until the loop is left to the
// blocking calls; ctx ends with the test.
func dialLent(t *testing.T, url string) (*websocket.WebSocket, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rawFailBound)
	t.Cleanup(cancel)
	ws, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	roundTripUntilLent(t, ctx, ws)
	return ws, ctx
}

// Left to a program that makes no call, the loop still writes what it
// sends, answers the server's ping and keeps what arrives: the guard hands
// it back to the background goroutine.
func TestLentLoopStaysAlive(t *testing.T) {
	ponged := make(chan struct{})
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.echoUntil("ping me")
		c.write(pingFrame([]byte("p")))
		if f := c.readFrame(); f.Op != opPong || string(f.Payload) != "p" {
			c.fail("got %v, want pong(\"p\")", f)
		}
		close(ponged)
		c.write(textFrame("after"))
		if f := c.readClose(); f.Op != opClose {
			c.fail("got %v, want the close", f)
		}
		c.write(closeFrame(1000, ""))
	})
	ws, ctx := dialLent(t, srv.URL)
	// Sent while nobody runs the loop, and no call follows.
	if err := ws.SendText("ping me"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ponged:
	case <-ctx.Done():
		t.Fatal("the send made while the loop was left to the blocking calls, or the pong, never reached the server")
	}
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil || m.Text() != "after" {
		t.Errorf("WaitForNextMessage = %q, %v; want \"after\"", m.Text(), err)
	}
	if err := ws.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	srv.report(t)
}

// A callback that the loop runs on a blocking call's goroutine is still on
// the loop: a blocking call it makes returns ErrLoopRunning instead of
// waiting for itself.
func TestCallbackOnDrivingCall(t *testing.T) {
	srv, a, ctx := dialEcho(t, nil)
	defer a.Close()
	b, err := websocket.Dial(ctx, srv.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	type seen struct {
		goroutine string
		err       error
	}
	got := make(chan seen, 10)
	set := make(chan struct{})
	a.Loop().Post(func() {
		a.OnMessage = func(m websocket.MessageEvent) {
			wctx, wcancel := context.WithTimeout(context.Background(), rawFailBound)
			_, err := b.WaitForNextMessage(wctx) // b's inbox is empty
			wcancel()
			got <- seen{currentGoroutine(), err}
		}
		close(set)
	})
	<-set
	me := currentGoroutine()
	ranHere := false
	for i := 0; i < 50 && !ranHere; i++ {
		roundTripUntilLent(t, ctx, a)
		s := <-got // the handler of the last round trip
		if !errors.Is(s.err, websocket.ErrLoopRunning) {
			t.Fatalf("a blocking call from a handler = %v, want ErrLoopRunning", s.err)
		}
		for len(got) > 0 {
			<-got
		}
		// Nobody runs the loop: this call does, and the handler runs on
		// this goroutine.
		if err := a.SendText("x"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.WaitForNextMessage(ctx); err != nil {
			t.Fatal(err)
		}
		s = <-got
		if !errors.Is(s.err, websocket.ErrLoopRunning) {
			t.Fatalf("a blocking call from a handler run by a blocking call = %v, want ErrLoopRunning", s.err)
		}
		ranHere = s.goroutine == me
	}
	if !ranHere {
		t.Error("the handler never ran on the goroutine of the blocking call that ran the loop")
	}
}

// A socket whose handlers alone take what it receives (a server's, from
// Upgrader.Handler) keeps the background loop with its goroutine: it is
// never left to nobody between a program's blocking calls.
func TestHandledSocketKeepsTheLoop(t *testing.T) {
	up := &websocket.Upgrader{}
	srv := httptest.NewServer(up.Handler(func(ws *websocket.WebSocket, r *http.Request) {
		ws.OnMessage = func(m websocket.MessageEvent) { ws.SendText(m.Text()) }
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), rawFailBound)
	defer cancel()
	defer up.Shutdown(ctx)
	ws, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for i := range 200 {
		if err := ws.SendText(fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
		m, err := ws.WaitForNextMessage(ctx)
		if err != nil || m.Text() != fmt.Sprint(i) {
			t.Fatalf("round trip %d: %q, %v", i, m.Text(), err)
		}
		if websocket.Lent(ws.Loop()) {
			t.Fatalf("after round trip %d the loop, which serves the server's socket too, was left to nobody", i)
		}
	}
}

// A call that runs the loop and gives up (its context ends) hands the loop
// on: what arrives afterwards is kept, and the next call takes it.
func TestDrivingCallCancelled(t *testing.T) {
	release := make(chan struct{})
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.echoUntil("wait")
		<-release
		c.write(textFrame("late"))
		c.readClose()
		c.write(closeFrame(1000, ""))
	})
	ws, ctx := dialLent(t, srv.URL)
	if err := ws.SendText("wait"); err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(ctx, 20*time.Millisecond)
	_, err := ws.WaitForNextMessage(short)
	cancelShort()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitForNextMessage with nothing coming = %v, want DeadlineExceeded", err)
	}
	close(release)
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil || m.Text() != "late" {
		t.Errorf("WaitForNextMessage = %q, %v; want \"late\"", m.Text(), err)
	}
	ws.Close()
	srv.report(t)
}

// Many goroutines, each on its own socket of the background loop, make
// round trips with pauses, some of them giving up waits on the way: the
// loop passes between the background goroutine and the calls, and every
// echo comes back, in order, to the goroutine that sent it.
func TestLendingManyGoroutines(t *testing.T) {
	runLending(t, 6, func(ctx context.Context, url string, g int) error {
		if g >= 2 {
			// Two of them alone first: the loop passes from one call to
			// the other.
			time.Sleep(20 * time.Millisecond)
		}
		return lendingRoundTrips(ctx, url, g, 150)
	})
}

// runLending runs each on n goroutines against the echo server and fails
// the test with what they return.
func runLending(t *testing.T, n int, each func(ctx context.Context, url string, g int) error) {
	t.Helper()
	srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 4*rawFailBound)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- each(ctx, srv.URL(), g)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func lendingRoundTrips(ctx context.Context, url string, g, trips int) error {
	ws, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return err
	}
	defer ws.Close()
	r := rand.New(rand.NewPCG(uint64(g), 7))
	for i := range trips {
		want := fmt.Sprintf("g%d-%d", g, i)
		if err := ws.SendText(want); err != nil {
			return fmt.Errorf("%s: %v", want, err)
		}
		if r.IntN(4) == 0 {
			// A wait given up at once, most often before the echo.
			short, c := context.WithTimeout(ctx, time.Duration(r.IntN(50))*time.Microsecond)
			m, err := ws.WaitForNextMessage(short)
			c()
			if err == nil {
				if m.Text() != want {
					return fmt.Errorf("got %q, want %q", m.Text(), want)
				}
				continue
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("%s: short wait: %v", want, err)
			}
		}
		m, err := ws.WaitForNextMessage(ctx)
		if err != nil || m.Text() != want {
			return fmt.Errorf("got %q, %v; want %q", m.Text(), err, want)
		}
		switch r.IntN(8) {
		case 0:
			time.Sleep(time.Duration(r.IntN(3000)) * time.Microsecond) // past the guard's ticks, at times
		case 1:
			time.Sleep(time.Duration(r.IntN(300)) * time.Microsecond)
		}
	}
	return nil
}

// echoUntil echoes the client's text messages until the one that reads
// last, which it keeps.
func (c *rawConn) echoUntil(last string) {
	for {
		f := c.readFrame()
		if f.Op != opText {
			c.fail("got %v, want text", f)
		}
		if string(f.Payload) == last {
			return
		}
		c.write(textFrame(string(f.Payload)))
	}
}

// Sockets come and go on the background loop while other goroutines make
// round trips on theirs: dials and closes wait like any blocking call, the
// loop ends and starts again when it empties, and nothing is left behind
// (TestMain checks the goroutines).
func TestLendingWithDialAndCloseChurn(t *testing.T) {
	runLending(t, 4, func(ctx context.Context, url string, g int) error {
		for round := range 15 {
			if err := lendingRoundTrips(ctx, url, 100*g+round, 4); err != nil {
				return err
			}
		}
		return nil
	})
}
