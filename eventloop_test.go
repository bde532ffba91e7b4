package websocket_test

import (
	"errors"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
)

// runLoop runs l on the test goroutine and fails the test if it has not
// returned within limit.
func runLoop(t *testing.T, l *websocket.EventLoop, limit time.Duration) {
	t.Helper()
	expired := make(chan struct{})
	watchdog := time.AfterFunc(limit, func() { close(expired); l.Stop() })
	defer watchdog.Stop()
	if err := l.Run(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	select {
	case <-expired:
		t.Fatalf("Run did not return within %v", limit)
	default:
	}
}

func TestRunReturnsWhenEmpty(t *testing.T) {
	runLoop(t, websocket.NewEventLoop(), time.Second)
}

func TestPostRunsInOrderOnLoop(t *testing.T) {
	l := websocket.NewEventLoop()
	var got []int // touched only by callbacks: -race proves they never overlap
	done := make(chan struct{})
	go func() {
		for i := range 100 {
			l.Post(func() { got = append(got, i) })
		}
		close(done)
	}()
	<-done
	runLoop(t, l, 5*time.Second)
	if len(got) != 100 {
		t.Fatalf("ran %d tasks, want 100", len(got))
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("task %d ran at position %d", v, i)
		}
	}
}

func TestPostFromTaskRunsNextTurn(t *testing.T) {
	l := websocket.NewEventLoop()
	var order []string
	l.Post(func() {
		l.Post(func() { order = append(order, "inner") })
		order = append(order, "outer")
	})
	l.Post(func() { order = append(order, "second") })
	runLoop(t, l, time.Second)
	want := []string{"outer", "second", "inner"}
	if len(order) != 3 || order[0] != want[0] || order[1] != want[1] || order[2] != want[2] {
		t.Fatalf("order %v, want %v", order, want)
	}
}

func TestTimersFireInDueOrder(t *testing.T) {
	l := websocket.NewEventLoop()
	var order []int
	for _, d := range []int{30, 10, 20, 0} {
		l.SetTimeout(func() { order = append(order, d) }, time.Duration(d)*time.Millisecond)
	}
	runLoop(t, l, 5*time.Second)
	want := []int{0, 10, 20, 30}
	for i := range want {
		if i >= len(order) || order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
}

func TestTimerStopCancels(t *testing.T) {
	l := websocket.NewEventLoop()
	fired := false
	tm := l.SetTimeout(func() { fired = true }, time.Hour)
	if !tm.Stop() {
		t.Fatal("Stop of a pending timer reported false")
	}
	if tm.Stop() {
		t.Fatal("second Stop reported true")
	}
	runLoop(t, l, time.Second) // a stopped timer does not keep the loop alive
	if fired {
		t.Fatal("stopped timer fired")
	}
}

func TestIntervalStopsFromItsCallback(t *testing.T) {
	l := websocket.NewEventLoop()
	n := 0
	var iv *websocket.Timer
	iv = l.SetInterval(func() {
		n++
		if n == 5 {
			iv.Stop()
		}
	}, time.Millisecond)
	runLoop(t, l, 5*time.Second)
	if n != 5 {
		t.Fatalf("interval ran %d times, want 5", n)
	}
}

func TestStopFromOtherGoroutineAndResume(t *testing.T) {
	l := websocket.NewEventLoop()
	ticks := 0
	started := make(chan struct{})
	iv := l.SetInterval(func() {
		ticks++
		if ticks == 1 {
			close(started)
		}
	}, time.Millisecond)
	go func() {
		<-started
		l.Stop()
	}()
	runLoop(t, l, 5*time.Second) // returns although the interval is alive
	before := ticks
	l.Post(func() { iv.Stop() })
	runLoop(t, l, 5*time.Second) // the loop resumes and ends once the interval is stopped
	if before < 1 || ticks < before {
		t.Fatalf("ticks before=%d after=%d", before, ticks)
	}
}

func TestStopBeforeRunIsNotLost(t *testing.T) {
	l := websocket.NewEventLoop()
	iv := l.SetInterval(func() {}, time.Hour)
	defer iv.Stop()
	l.Stop()
	runLoop(t, l, time.Second)
}

func TestRunTwiceConcurrentlyFails(t *testing.T) {
	l := websocket.NewEventLoop()
	result := make(chan error, 1)
	iv := l.SetInterval(func() {}, time.Hour)
	l.Post(func() {
		go func() { result <- l.Run() }()
		// The second Run answers at once; wait for it on the loop itself so
		// the first Run is certainly in progress.
		if err := <-result; !errors.Is(err, websocket.ErrLoopRunning) {
			t.Errorf("second Run: %v, want ErrLoopRunning", err)
		}
		iv.Stop()
	})
	runLoop(t, l, 5*time.Second)
}

func TestPanicInCallbackIsReportedAndLoopGoesOn(t *testing.T) {
	l := websocket.NewEventLoop()
	var reported []any
	l.OnPanic = func(v any, stack []byte) {
		if len(stack) == 0 {
			t.Error("no stack")
		}
		reported = append(reported, v)
	}
	ran := false
	l.Post(func() { panic("task") })
	l.SetTimeout(func() { panic("timer") }, 0)
	l.SetTimeout(func() { ran = true }, time.Millisecond)
	runLoop(t, l, 5*time.Second)
	if len(reported) != 2 || reported[0] != "task" || reported[1] != "timer" {
		t.Fatalf("reported %v", reported)
	}
	if !ran {
		t.Fatal("the loop stopped running callbacks after a panic")
	}
}

func TestPanicInOnPanicDoesNotKillLoop(t *testing.T) {
	l := websocket.NewEventLoop()
	l.OnPanic = func(any, []byte) { panic("again") }
	ran := false
	l.Post(func() { panic("first") })
	l.Post(func() { ran = true })
	runLoop(t, l, 5*time.Second)
	if !ran {
		t.Fatal("loop stopped")
	}
}
