package interop_test

// Sockets that keep working between the program's calls, against real
// peers: a dialed socket lives on a loop that runs in the background, so
// it answers pings, writes what was sent and reads into a bounded inbox
// while the program does something else, and its close waits for what was
// sent before it.
//
// TestDialedSocketsUseOneDescriptorEach and TestFloodPushedBack count the
// process's file descriptors and heap, so they are not parallel: they run
// first, alone (TestInterop and the other tests here are parallel, and Go
// starts parallel tests once the sequential ones are done). The others
// are parallel, so that the 30-s keepalive overlaps TestInterop.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/peers"
)

// readReport dials the report connection of a server started by
// peers.PythonSlowReader or peers.NodeFlood and decodes its one message
// into v; the server then closes with 1000.
func readReport(t *testing.T, url string, v any) {
	t.Helper()
	ws, ctx := dial(t, url+peers.ReportPath, nil)
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil {
		t.Fatalf("reading the report: %v", err)
	}
	if err := json.Unmarshal(m.Data, v); err != nil {
		t.Fatalf("report %q: %v", m.Data, err)
	}
	wantClosedError(t, ws, ctx, websocket.CloseEvent{Code: websocket.CloseNormal, WasClean: true})
}

// numbered is message i of size bytes as peers.NumberedMessage makes it.
func numbered(i, size int) msg { return binary(peers.NumberedMessage(i, size)) }

// The keepalive scenario: the server's pings come every interval, and
// their pongs may take that long; the script sends every period for
// lasting.
const (
	keepaliveInterval = time.Second
	keepalivePeriod   = 500 * time.Millisecond
	keepaliveLasting  = 30 * time.Second
)

// keepaliveURLEnv passes the keepalive server's URL to the script's
// process.
const keepaliveURLEnv = "WSLOOP_KEEPALIVE_SCRIPT_URL"

// A blocking script that sends every 500 ms and never reads keeps its
// connection to a server whose keepalive closes it (1011) when a pong is
// more than a second late: the socket's loop answers the pings while the
// program sleeps. Then every echo is there, in order, and the close is
// clean.
//
// The script (TestKeepaliveScript) runs in a process of its own, this test
// binary run again: the pongs have a deadline of a second, and this
// process, running TestInterop and the other parallel tests under the race
// detector on two cores, stalls for up to most of a second at times (a
// goroutine's 20-ms sleep was measured to overrun by 670 ms while
// TestInterop ran, the background loop doing no worse), which made the
// server give up on about one run in four. In a process of its own the
// script stays as responsive as the machine is, and this test still
// overlaps the others.
func TestKeepaliveWhileNotReading(t *testing.T) { runKeepaliveScript(t, "") }

// The same for 10 s with a script that waits for each echo, then sleeps
// 2 s, past the pong's deadline: its call runs the loop while it waits and leaves
// it to nobody when it returns, so the pings that come while the script
// sleeps are answered only because the loop's guard hands the loop back
// to its goroutine.
func TestKeepaliveBetweenRoundTrips(t *testing.T) { runKeepaliveScript(t, "roundtrip") }

// runKeepaliveScript runs TestKeepaliveScript, in mode, in a process of
// its own against a Python server that pings every second.
func runKeepaliveScript(t *testing.T, mode string) {
	t.Parallel()
	url := peers.PythonKeepalive(t, keepaliveInterval, keepaliveInterval)
	ctx, cancel := context.WithTimeout(context.Background(), keepaliveLasting+2*scenarioTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestKeepaliveScript$", "-test.count=1", "-test.v")
	// The script runs on this process's poller only: set, even empty,
	// WSLOOP_POLLER keeps leakcheck.BothPollers from running it again.
	cmd.Env = append(os.Environ(), keepaliveURLEnv+"="+url, keepaliveModeEnv+"="+mode, "WSLOOP_POLLER="+os.Getenv("WSLOOP_POLLER"))
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestKeepaliveScript")) {
		t.Fatalf("the script's process: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "runtime_test.go") {
			t.Log("script: " + strings.TrimSpace(line))
		}
	}
}

// keepaliveModeEnv passes the script's mode: empty to send without
// reading, "roundtrip" to wait for each echo.
const keepaliveModeEnv = "WSLOOP_KEEPALIVE_SCRIPT_MODE"

// TestKeepaliveScript is the script of TestKeepaliveWhileNotReading and
// TestKeepaliveBetweenRoundTrips, run in a process of its own; it is
// skipped otherwise.
func TestKeepaliveScript(t *testing.T) {
	url := os.Getenv(keepaliveURLEnv)
	if url == "" {
		t.Skip("run by TestKeepaliveWhileNotReading in a process of its own")
	}
	roundTrips := os.Getenv(keepaliveModeEnv) == "roundtrip"
	const interval = keepaliveInterval
	period, lasting := keepalivePeriod, keepaliveLasting
	if roundTrips {
		// Longer than the pong's deadline: a ping that comes just after
		// a round trip is answered by the loop, not by the next call.
		// Ten seconds hold ten pings.
		period, lasting = 2*interval, 10*time.Second
	}
	sends := int(lasting / period)
	ws, _ := dial(t, url, nil)
	start := time.Now()
	// When each ping reached the socket's loop, which answers it before
	// OnPing runs: should the server give up, the gaps tell whether the
	// pings came late or the pongs did.
	var (
		mu      sync.Mutex
		arrived []time.Duration
	)
	ws.Loop().Post(func() {
		ws.OnPing = func(websocket.PingEvent) {
			mu.Lock()
			arrived = append(arrived, time.Since(start))
			mu.Unlock()
		}
	})
	// closed fails the test with what ended the connection.
	closed := func(what string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
		defer cancel()
		var err error
		for err == nil {
			_, err = ws.LowLevelReceive(ctx)
		}
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("after %v without reading: %s; the connection ended with %v; pings reached the loop at %v",
			time.Since(start).Round(time.Millisecond), what, err, arrived)
	}
	// The dial's context runs out before the script ends; only Dial used
	// it.
	ctx, cancel := context.WithTimeout(context.Background(), lasting+scenarioTimeout)
	defer cancel()
	pings := 0
	// echo takes echo i, counting the pings before it.
	echo := func(i int) {
		t.Helper()
		for {
			e, err := ws.LowLevelReceive(ctx)
			if err != nil {
				t.Fatalf("echo %d: %v", i, err)
			}
			switch e := e.(type) {
			case websocket.PingEvent:
				pings++
				continue
			case websocket.MessageEvent:
				if want := text(fmt.Sprint("tick ", i)); !sameMessage(e, want) {
					t.Fatalf("echo %d: %v; want %v", i, describe(e), want)
				}
			default:
				t.Fatalf("echo %d: %T %v; want a message or a ping", i, e, e)
			}
			return
		}
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	for i := 0; i < sends; i++ {
		if i > 0 {
			<-tick.C // the script's sleep between sends
		}
		if got := ws.ReadyState(); got != websocket.Open {
			closed(fmt.Sprintf("readyState %v; want OPEN", got))
		}
		if err := ws.SendText(fmt.Sprint("tick ", i)); err != nil {
			closed(fmt.Sprintf("SendText: %v", err))
		}
		if roundTrips {
			echo(i)
		}
	}
	<-tick.C
	if got := ws.ReadyState(); got != websocket.Open {
		closed(fmt.Sprintf("readyState %v; want OPEN", got))
	}
	if !roundTrips {
		for i := range sends {
			echo(i)
		}
	}
	// The server pinged about once a second; had it not pinged, the test
	// would prove nothing. Half is the margin for a loaded machine.
	if want := int(lasting / interval / 2); pings < want {
		t.Errorf("%d pings from the server in %v; want at least %d", pings, lasting, want)
	}
	how := "without reading"
	if roundTrips {
		how = "each echo awaited"
	}
	t.Logf("%d messages sent over %v %s, %d pings answered meanwhile", sends, time.Since(start).Round(time.Millisecond), how, pings)
	if err := ws.CloseWith(websocket.CloseNormal, "done"); err != nil {
		t.Fatalf("CloseWith: %v", err)
	}
	wantClosedError(t, ws, ctx, websocket.CloseEvent{Code: websocket.CloseNormal, Reason: "done", WasClean: true})
}

// heapInUse returns the heap's HeapInuse once garbage is collected.
func heapInUse() uint64 {
	// Twice: sync.Pool keeps what it drops for one more collection.
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// A script that does not read while the server floods it stops the server
// (TCP pushes back once the inbox holds MaxInboxSize) rather than taking
// the flood into memory; read later, every message arrives, in order,
// once. Not parallel: it measures the heap.
func TestFloodPushedBack(t *testing.T) {
	const (
		count = 128
		size  = 256 << 10
		total = count * size // 32 MiB
		inbox = 256 << 10
		// The server reports a stall after this long without progress;
		// a client that pauses reading never makes progress again, so it
		// is only how long the test waits to see that.
		stall = 500 * time.Millisecond
		// The client's heap may grow by the inbox, a read and a message
		// being assembled; a client that took the flood would hold far
		// more than this.
		heapBound = total / 8
	)
	url := peers.NodeFlood(t, count, size, stall)
	before := heapInUse()
	ws, ctx := dial(t, url, &websocket.Config{MaxInboxSize: inbox})

	var v peers.FloodVerdict
	readReport(t, url, &v)
	during := heapInUse()
	t.Logf("server verdict %+v; client heap in use %d KiB before, %d KiB at the verdict", v, before>>10, during>>10)
	// Had the client read everything, the server would have handed all of
	// it to the kernel, and said "flushed".
	if v.State != "stalled" || v.Flushed >= total || v.BufferedAmount <= 0 {
		t.Fatalf("server verdict %+v; want stalled short of %d bytes, with some still buffered", v, total)
	}
	if during > before && during-before > heapBound {
		t.Errorf("client heap grew by %d KiB while not reading a %d-KiB flood with MaxInboxSize %d KiB; want at most %d KiB",
			(during-before)>>10, total>>10, inbox>>10, heapBound>>10)
	}

	for i := 0; i < count; i++ {
		m, err := ws.WaitForNextMessage(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if want := numbered(i, size); !sameMessage(m, want) {
			t.Fatalf("message %d: %v; want %v", i, describe(m), want)
		}
	}
	// Once every message is handed over, the server closes: nothing more
	// came, and nothing came twice.
	wantClosedError(t, ws, ctx, websocket.CloseEvent{Code: websocket.CloseNormal, Reason: "flood done", WasClean: true})
}

// A client that sends 10 MiB to a server reading 4 MiB/s and then closes
// with a CloseTimeout of 500 ms closes cleanly: the timeout restarts while
// the server takes the backlog, and the server gets every message, then
// the close frame.
func TestCloseAfterBacklog(t *testing.T) {
	t.Parallel()
	const (
		rate         = 4 << 20
		count        = 40
		size         = 256 << 10
		closeTimeout = 500 * time.Millisecond
		reason       = "backlog sent"
	)
	wantRecord := peers.SlowReadRecord{Messages: count, Bytes: count * size, Code: websocket.CloseNormal, Reason: reason}
	// The server answers the close frame with its own code and reason.
	wantClose := websocket.CloseEvent{Code: websocket.CloseNormal, Reason: reason, WasClean: true}

	t.Run("Blocking", func(t *testing.T) {
		t.Parallel()
		url := peers.PythonSlowReader(t, rate)
		// The rate is of bytes on the wire: compression would shrink the
		// backlog the test needs.
		ws, ctx := dial(t, url, &websocket.Config{CloseTimeout: closeTimeout, NoCompression: true})
		for i := 0; i < count; i++ {
			if err := send(ws, numbered(i, size)); err != nil {
				t.Fatalf("sending message %d: %v", i, err)
			}
		}
		start := time.Now()
		backlog := ws.BufferedAmount()
		if err := ws.CloseWith(websocket.CloseNormal, reason); err != nil {
			t.Fatalf("CloseWith: %v", err)
		}
		took := time.Since(start)
		t.Logf("BufferedAmount %d at CloseWith, which returned after %v", backlog, took.Round(time.Millisecond))
		// Most of the backlog was still to be read at that rate: a close
		// over this soon did not wait for it.
		if took <= closeTimeout {
			t.Errorf("CloseWith returned after %v, within the CloseTimeout; the server reads %d bytes in %v",
				took, count*size, time.Duration(count*size)*time.Second/rate)
		}
		wantClosedError(t, ws, ctx, wantClose)
		var got peers.SlowReadRecord
		readReport(t, url, &got)
		if got != wantRecord {
			t.Errorf("the server's record %+v; want %+v", got, wantRecord)
		}
	})

	t.Run("Loop", func(t *testing.T) {
		t.Parallel()
		url := peers.PythonSlowReader(t, rate)
		// As above: the backlog is of bytes on the wire.
		s := newLoopSocket(t, url, websocket.Config{CloseTimeout: closeTimeout, NoCompression: true})
		s.ws.OnOpen = func(websocket.OpenEvent) {
			for i := 0; i < count; i++ {
				if err := send(s.ws, numbered(i, size)); err != nil {
					s.fail("sending message %d: %v", i, err)
					return
				}
			}
			if err := s.ws.CloseWith(websocket.CloseNormal, reason); err != nil {
				s.fail("CloseWith: %v", err)
			}
		}
		s.ws.OnMessage = func(e websocket.MessageEvent) {
			s.fail("message from a server that sends none: %v", describe(e))
		}
		start := time.Now()
		s.run()
		t.Logf("the close event came after %v", time.Since(start).Round(time.Millisecond))
		s.wantClose(wantClose)
		var got peers.SlowReadRecord
		readReport(t, url, &got)
		if got != wantRecord {
			t.Errorf("the server's record %+v; want %+v", got, wantRecord)
		}
	})
}

// openDescriptors counts the process's open file descriptors.
func openDescriptors(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("counting descriptors: %v", err)
	}
	return len(entries)
}

// 100 dialed sockets on the background loop hold 100 file descriptors,
// and the loop two more (epoll and its wake-up eventfd); closed, they give
// them all back, and so does the loop once it has ended. Not parallel: it
// counts the process's descriptors.
func TestDialedSocketsUseOneDescriptorEach(t *testing.T) {
	const sockets = 100
	url := peers.NodeEcho(t)
	before := openDescriptors(t)
	all := make([]*websocket.WebSocket, sockets)
	var ctx context.Context
	for i := range all {
		all[i], ctx = dial(t, url, nil)
	}
	open := openDescriptors(t)
	t.Logf("%d descriptors before, %d with %d sockets open", before, open, sockets)
	if grew := open - before; grew < sockets || grew > sockets+2 {
		t.Errorf("%d dialed sockets added %d descriptors; want %d, and at most 2 more for the background loop", sockets, grew, sockets)
	}
	// They are live sockets, each its own.
	for i, ws := range all {
		if err := ws.SendText(fmt.Sprint("socket ", i)); err != nil {
			t.Fatalf("socket %d: SendText: %v", i, err)
		}
	}
	for i, ws := range all {
		m, err := ws.WaitForNextMessage(ctx)
		if want := text(fmt.Sprint("socket ", i)); err != nil || !sameMessage(m, want) {
			t.Fatalf("socket %d: %v, %v; want the echo %v", i, describe(m), err, want)
		}
	}
	for _, ws := range all {
		ws.Close() // returns once the socket is gone from its loop
	}
	closed := openDescriptors(t)
	if closed > before+2 {
		t.Errorf("%d descriptors once the %d sockets were closed, from %d before; want at most the background loop's 2 more",
			closed, sockets, before)
	}
	// The background loop ends once it holds no socket; nothing tells when,
	// so look until it has.
	deadline := time.Now().Add(5 * time.Second)
	for closed > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		closed = openDescriptors(t)
	}
	if closed > before {
		t.Errorf("%d descriptors 5 s after the %d sockets were closed, from %d before: the background loop kept its own", closed, sockets, before)
	}
}

// A blocking script's sends are written while it waits: 64 MiB sent in
// one go with no call to the library after it reach the Node echo server,
// and come back, with nothing left buffered. It waits on an OnMessage
// handler, which runs on the socket's loop, not on a blocking call, so
// only the background loop could have done the writing and reading. (One
// peer only: under the race detector the client spends seconds of CPU on
// the 64 MiB, and the peer does not matter to what is checked.)
func TestSendsFlushedWhileIdle(t *testing.T) {
	t.Parallel()
	const (
		count = 64
		size  = 1 << 20
		total = count * size
		// Room for the whole flood both ways: the script sends it all
		// before reading anything.
		room = total + total/4
	)
	ws, ctx := dial(t, peers.NodeEcho(t), &websocket.Config{MaxBufferedAmount: room, MaxInboxSize: room})

	// The handler is set on the socket's loop, before anything is sent.
	echoed := make(chan struct{})
	set := make(chan struct{})
	ws.Loop().Post(func() {
		n := 0
		ws.OnMessage = func(websocket.MessageEvent) {
			if n++; n == count {
				close(echoed)
			}
		}
		close(set)
	})
	<-set

	buf := make([]byte, size)
	for i := 0; i < count; i++ {
		copy(buf, peers.NumberedMessage(i, size))
		if err := ws.Send(buf); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	t.Logf("BufferedAmount right after the sends: %d", ws.BufferedAmount())
	select {
	case <-echoed:
	case <-ctx.Done():
		t.Fatalf("not every echo came back within %v; BufferedAmount %d, readyState %v",
			scenarioTimeout, ws.BufferedAmount(), ws.ReadyState())
	}
	if n := ws.BufferedAmount(); n != 0 {
		t.Errorf("BufferedAmount once every echo came back = %d; want 0", n)
	}
	for i := 0; i < count; i++ {
		m, err := ws.WaitForNextMessage(ctx)
		if err != nil {
			t.Fatalf("echo %d: %v", i, err)
		}
		if want := numbered(i, size); !sameMessage(m, want) {
			t.Fatalf("echo %d: %v; want %v", i, describe(m), want)
		}
	}
	if err := ws.CloseWith(websocket.CloseNormal, ""); err != nil {
		t.Fatalf("CloseWith: %v", err)
	}
	want := websocket.CloseEvent{Code: websocket.CloseNormal, WasClean: true}
	wantClosedError(t, ws, ctx, want)
}
