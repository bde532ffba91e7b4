//go:build unix

package websocket_test

import (
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
)

// A signal handler's goroutine is where a program stops its loop on
// SIGINT or SIGTERM; SIGUSR1, which a test may send itself, stands in for
// them. Windows has no kill(2) to send one with.
func TestStopFromSignalHandler(t *testing.T) {
	l := websocket.NewEventLoop()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	defer signal.Stop(sig)
	go func() {
		<-sig
		l.Stop()
	}()
	iv := l.SetInterval(func() {}, time.Hour)
	defer iv.Stop()
	l.Post(func() { syscall.Kill(os.Getpid(), syscall.SIGUSR1) })
	runLoop(t, l, 5*time.Second)
}
