package websocket

import (
	"runtime"
	"strconv"
)

// goroutineID returns the calling goroutine's number, parsed from its stack
// header ("goroutine 42 [running]:"). Go hides it on purpose; the loop
// records its runner's, and a blocking call that would wait compares it
// (EventLoop.onLoop) to tell a callback calling back into its own loop,
// which must fail rather than deadlock, from any other goroutine.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = b[len("goroutine "):]
	for i, c := range b {
		if c == ' ' {
			b = b[:i]
			break
		}
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
