// Package loops_test runs several event loops in one process against a
// real peer in another: what one loop does must not hold up the others.
// Its tests run alone in their process, as the test module's packages
// do: another test's goroutines would wake the runtime's sysmon and hide
// what TestBusyLoopStarvesNone looks for.
package loops_test

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/leakcheck"
	"github.com/wsloop/websocket/test/internal/peers"
)

func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }

// TestBusyLoopStarvesNone runs two event loops on two Ps, each with its
// sockets doing round trips against a real echo server in another
// process, and bounds the longest time either loop goes without a
// message once they are under way. A loop's system calls skip the
// runtime's bookkeeping, so nothing of this process woke the runtime's
// sysmon once it had fallen into its deep sleep (at a moment when both
// loops were parked); without sysmon, a loop parked while the other was
// busy went unwoken with its echoes waiting: the longest gap of a run was
// 316–553 ms in six runs, against 13–21 ms with the poller's heartbeat
// (internal/poll: Native.heartbeat). The bound sits between the two.
func TestBusyLoopStarvesNone(t *testing.T) {
	const (
		loops  = 2
		conns  = 200
		rounds = 300
		warmup = 5
		bound  = 200 * time.Millisecond
	)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	url := peers.NodeEcho(t)
	var wg sync.WaitGroup
	gaps := make([]time.Duration, loops)
	errs := make([]error, loops)
	for l := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gaps[l], errs[l] = roundTrips(url, conns, rounds, warmup)
		}()
	}
	wg.Wait()
	for l := range loops {
		if errs[l] != nil {
			t.Fatalf("loop %d: %v", l, errs[l])
		}
		t.Logf("loop %d: longest time without a message %v", l, gaps[l])
		if gaps[l] > bound {
			t.Errorf("loop %d went %v without a message; want at most %v", l, gaps[l], bound)
		}
	}
}

// roundTrips opens n sockets on a loop of its own and runs it until each
// has made rounds round trips, one message at a time; it returns the
// longest gap between two messages the loop received after every socket's
// warmup-th round trip.
func roundTrips(url string, n, rounds, warmup int) (time.Duration, error) {
	loop := websocket.NewEventLoop()
	var (
		open, finished, warm int
		done                 = make([]int, n)
		last                 time.Time
		gap                  time.Duration
		fail                 error
	)
	socks := make([]*websocket.WebSocket, n)
	guard := loop.SetTimeout(func() {
		fail = fmt.Errorf("%d of %d sockets done after 60 s", finished, n)
		for _, s := range socks {
			s.Close()
		}
	}, 60*time.Second)
	for i := range socks {
		ws, err := websocket.NewWithConfig(url, &websocket.Config{Loop: loop})
		if err != nil {
			return 0, err
		}
		socks[i] = ws
		ws.OnOpen = func(websocket.OpenEvent) {
			if open++; open == n {
				for _, s := range socks {
					s.SendText("round trip")
				}
			}
		}
		ws.OnMessage = func(e websocket.MessageEvent) {
			now := time.Now()
			if warm == n && now.Sub(last) > gap {
				gap = now.Sub(last)
			}
			last = now
			if done[i]++; done[i] == warmup {
				warm++
			}
			if done[i] < rounds {
				ws.SendText("round trip")
				return
			}
			if finished++; finished == n {
				guard.Stop()
				for _, s := range socks {
					s.Close()
				}
			}
		}
		ws.OnError = func(e websocket.ErrorEvent) {
			if fail == nil {
				fail = fmt.Errorf("socket %d: %w", i, e.Err)
			}
		}
	}
	if err := loop.Run(); err != nil {
		return 0, err
	}
	return gap, fail
}
