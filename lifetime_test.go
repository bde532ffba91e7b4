package websocket_test

// The loop's lifetime: RunContext keeps a loop with nothing to do running
// until its context ends or Stop, and a timer stopped from another
// goroutine lets Run return at once.

import (
	"context"
	"errors"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/internal/echoserver"
)

// runContextAsync runs l.RunContext(ctx) on a goroutine and returns its
// result channel.
func runContextAsync(l *websocket.EventLoop, ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() { done <- l.RunContext(ctx) }()
	return done
}

func awaitRun(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(rawFailBound):
		t.Fatalf("the loop did not return within %v", rawFailBound)
		return nil
	}
}

// A loop started with nothing registered waits; a socket made later by a
// task posted from another goroutine opens, echoes and closes on it; the
// loop goes on waiting after the socket is gone, until Stop.
func TestRunContextWaitsForLaterWork(t *testing.T) {
	srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	l := websocket.NewEventLoop()
	done := runContextAsync(l, context.Background())

	closed := make(chan websocket.CloseEvent, 1)
	l.Post(func() {
		ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: l})
		if err != nil {
			t.Error(err)
			return
		}
		ws.OnOpen = func(websocket.OpenEvent) { ws.SendText("later") }
		ws.OnMessage = func(m websocket.MessageEvent) {
			if m.Text() != "later" {
				t.Errorf("echo %q", m.Text())
			}
			ws.Close()
		}
		ws.OnClose = func(c websocket.CloseEvent) { closed <- c }
	})
	select {
	case c := <-closed:
		if !c.WasClean {
			t.Errorf("close %+v, want clean", c)
		}
	case <-time.After(rawFailBound):
		t.Fatal("the posted socket did not close")
	}
	// Nothing is left, and the loop still runs: a second task is served.
	ran := make(chan struct{})
	l.Post(func() { close(ran) })
	select {
	case <-ran:
	case err := <-done:
		t.Fatalf("RunContext returned %v with nothing left, before Stop", err)
	case <-time.After(rawFailBound):
		t.Fatal("a task posted to the idle loop did not run")
	}
	l.Stop()
	if err := awaitRun(t, done); err != nil {
		t.Errorf("RunContext after Stop = %v, want nil", err)
	}
}

func TestRunContextEndsWithItsContext(t *testing.T) {
	l := websocket.NewEventLoop()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	l.Post(func() { close(started) })
	done := runContextAsync(l, ctx)
	<-started
	cancel()
	if err := awaitRun(t, done); !errors.Is(err, context.Canceled) {
		t.Errorf("RunContext after cancel = %v, want context.Canceled", err)
	}
	// The loop can run again, and Run returns at once with nothing left.
	runLoop(t, l, time.Second)
}

// A timer stopped from another goroutine while the loop waits for it (its
// only work) lets Run return at once, not at the timer's due time.
func TestTimerStopFromOtherGoroutineEndsRun(t *testing.T) {
	l := websocket.NewEventLoop()
	timer := l.SetTimeout(func() { t.Error("the stopped timer fired") }, time.Hour)
	started := make(chan struct{})
	l.Post(func() { close(started) })
	done := make(chan error, 1)
	go func() { done <- l.Run() }()
	<-started
	if !timer.Stop() {
		t.Fatal("Stop of a pending timer reported false")
	}
	if err := awaitRun(t, done); err != nil {
		t.Fatal(err)
	}
}

// A timer stopped from another goroutine while a later one is pending: the
// loop wakes, and the later one fires on time.
func TestTimerStopFromOtherGoroutineKeepsOthers(t *testing.T) {
	l := websocket.NewEventLoop()
	first := l.SetTimeout(func() { t.Error("the stopped timer fired") }, time.Hour)
	fired := make(chan struct{})
	started := make(chan struct{})
	l.Post(func() { close(started) })
	done := make(chan error, 1)
	go func() { done <- l.Run() }()
	<-started
	l.SetTimeout(func() { close(fired) }, 10*time.Millisecond)
	first.Stop()
	select {
	case <-fired:
	case <-time.After(rawFailBound):
		t.Fatal("the remaining timer did not fire")
	}
	if err := awaitRun(t, done); err != nil {
		t.Fatal(err)
	}
}
