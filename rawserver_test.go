package websocket_test

// A misbehaving raw-socket WebSocket server for tests, and a client harness
// that records the client's events.
//
// The server listens on 127.0.0.1:0, accepts one connection per script, reads
// the HTTP upgrade request itself and then runs the test's script with full
// byte-level control of what goes on the wire: any status line and headers
// (a correct or a wrong Sec-WebSocket-Accept), raw frame bytes (any FIN, RSV,
// opcode, mask bit and length encoding, including lengths no valid frame
// has), writes split one byte at a time or coalesced, a TCP reset, a silent
// peer, a half-close. Everything the script sees of the client (the request,
// every frame the client sent, whether the client ended its side of TCP)
// goes into a connReport that the test receives over a channel once the
// script has returned; the script never touches the *testing.T.
//
// The client harness runs each socket on its own EventLoop in the test
// goroutine, records every event with the socket's ReadyState at that time,
// fails the test if Run does not return within rawFailBound, and checks that
// no goroutine the library started outlives the socket.

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsloop/websocket"
)

const (
	// rawFailBound bounds every wait of a test: loop.Run returning, a
	// script finishing. It only ever decides a failure, never an ordering.
	rawFailBound = 10 * time.Second
	// rawConnDeadline is the deadline of every server-side connection, so
	// that a script waiting for a client that misbehaves cannot hang.
	rawConnDeadline = 8 * time.Second
	// websocketGUID is RFC 6455's magic string for Sec-WebSocket-Accept.
	websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
)

// Opcodes, RFC 6455 section 5.2.
const (
	opCont   byte = 0x0
	opText   byte = 0x1
	opBinary byte = 0x2
	opClose  byte = 0x8
	opPing   byte = 0x9
	opPong   byte = 0xA
)

// RSV bits as they sit in frameSpec.Rsv.
const (
	rsv1 byte = 4
	rsv2 byte = 2
	rsv3 byte = 1
)

// ---------------------------------------------------------------------------
// Server frames.

// frameSpec is one frame at the byte level. Len and Enc let a test announce
// a length that differs from the payload it sends, or encode it
// non-minimally or with the top bit set.
type frameSpec struct {
	Fin  bool
	Rsv  byte // three bits: rsv1 | rsv2 | rsv3
	Op   byte
	Mask bool    // set the mask bit and mask the payload, as a server must not
	Key  [4]byte // masking key when Mask
	// Enc is the length encoding: 0 for the minimal one, else 7, 16 or 64.
	Enc int
	// Len, when HasLen, is the announced payload length; otherwise the
	// length of Payload is announced.
	Len     uint64
	HasLen  bool
	Payload []byte
}

func (f frameSpec) bytes() []byte {
	b0 := f.Op&0x0f | (f.Rsv&7)<<4
	if f.Fin {
		b0 |= 0x80
	}
	n := uint64(len(f.Payload))
	if f.HasLen {
		n = f.Len
	}
	enc := f.Enc
	if enc == 0 {
		switch {
		case n <= 125:
			enc = 7
		case n <= 0xffff:
			enc = 16
		default:
			enc = 64
		}
	}
	var maskBit byte
	if f.Mask {
		maskBit = 0x80
	}
	out := []byte{b0}
	switch enc {
	case 7:
		out = append(out, maskBit|byte(n))
	case 16:
		out = append(out, maskBit|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	case 64:
		out = append(out, maskBit|127)
		out = binary.BigEndian.AppendUint64(out, n)
	default:
		panic(fmt.Sprintf("frameSpec: bad length encoding %d", enc))
	}
	p := bytes.Clone(f.Payload)
	if f.Mask {
		out = append(out, f.Key[:]...)
		for i := range p {
			p[i] ^= f.Key[i%4]
		}
	}
	return append(out, p...)
}

// frag is a data frame (or continuation) with the given FIN bit.
func frag(op byte, fin bool, payload string) []byte {
	return frameSpec{Fin: fin, Op: op, Payload: []byte(payload)}.bytes()
}

func textFrame(s string) []byte     { return frag(opText, true, s) }
func binaryFrame(p []byte) []byte   { return frameSpec{Fin: true, Op: opBinary, Payload: p}.bytes() }
func pingFrame(p []byte) []byte     { return frameSpec{Fin: true, Op: opPing, Payload: p}.bytes() }
func pongFrame(p []byte) []byte     { return frameSpec{Fin: true, Op: opPong, Payload: p}.bytes() }
func closeRawFrame(p []byte) []byte { return frameSpec{Fin: true, Op: opClose, Payload: p}.bytes() }

// closeFrame is a close frame carrying code and reason.
func closeFrame(code uint16, reason string) []byte {
	return closeRawFrame(append(binary.BigEndian.AppendUint16(nil, code), reason...))
}

// cat joins byte slices, to build one coalesced write.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// ---------------------------------------------------------------------------
// Client frames as the server reads them.

// wireFrame is one frame the client sent, unmasked.
type wireFrame struct {
	Fin     bool
	Rsv     byte
	Op      byte
	Masked  bool
	Payload []byte
}

// closeCode returns the close frame's code and reason; code is -1 for an
// empty payload.
func (f wireFrame) closeCode() (code int, reason string) {
	if len(f.Payload) < 2 {
		return -1, ""
	}
	return int(binary.BigEndian.Uint16(f.Payload)), string(f.Payload[2:])
}

func (f wireFrame) String() string {
	name := map[byte]string{opCont: "cont", opText: "text", opBinary: "binary", opClose: "close", opPing: "ping", opPong: "pong"}[f.Op]
	if name == "" {
		name = fmt.Sprintf("op%#x", f.Op)
	}
	if f.Op == opClose {
		code, reason := f.closeCode()
		if code < 0 {
			return fmt.Sprintf("close(empty, %d bytes)", len(f.Payload))
		}
		return fmt.Sprintf("close(%d %q)", code, reason)
	}
	if len(f.Payload) > 40 {
		return fmt.Sprintf("%s(%d bytes)", name, len(f.Payload))
	}
	return fmt.Sprintf("%s(%q)", name, f.Payload)
}

// ---------------------------------------------------------------------------
// The server.

// connReport is what one server connection observed of the client.
type connReport struct {
	Req    *http.Request
	Frames []wireFrame // every frame the client sent, in order
	EOF    bool        // the client ended its side of TCP (read returned EOF)
	Errs   []string    // the script's failures: unexpected input, I/O errors
}

// rawConn is the server side of one connection, handed to a script.
type rawConn struct {
	nc  *net.TCPConn
	br  *bufio.Reader
	req *http.Request
	rep *connReport
}

// rawServer accepts one connection per script and runs each script on its
// connection.
type rawServer struct {
	URL     string // ws://127.0.0.1:port/
	Addr    string // 127.0.0.1:port
	ln      net.Listener
	reports chan *connReport
	served  chan struct{}
}

// startRawServer starts a server that runs scripts[i] on the i-th accepted
// connection. The listener is closed when the test ends.
func startRawServer(t *testing.T, scripts ...func(c *rawConn)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &rawServer{
		URL:     "ws://" + ln.Addr().String() + "/",
		Addr:    ln.Addr().String(),
		ln:      ln,
		reports: make(chan *connReport, len(scripts)),
		served:  make(chan struct{}),
	}
	go s.serve(scripts)
	t.Cleanup(func() {
		ln.Close()
		select {
		case <-s.served:
		case <-time.After(rawFailBound):
			t.Errorf("raw server: accept loop did not end")
		}
	})
	return s
}

func (s *rawServer) serve(scripts []func(c *rawConn)) {
	defer close(s.served)
	for _, sc := range scripts {
		nc, err := s.ln.Accept()
		if err != nil {
			return // listener closed: the test reports the missing connection
		}
		go s.run(nc.(*net.TCPConn), sc)
	}
}

func (s *rawServer) run(nc *net.TCPConn, script func(c *rawConn)) {
	c := &rawConn{nc: nc, br: bufio.NewReader(nc), rep: &connReport{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if v := recover(); v != nil {
				c.rep.Errs = append(c.rep.Errs, fmt.Sprintf("script panicked: %v", v))
			}
		}()
		nc.SetDeadline(time.Now().Add(rawConnDeadline))
		req, err := http.ReadRequest(c.br)
		if err != nil {
			c.fail("reading the upgrade request: %v", err)
		}
		c.req, c.rep.Req = req, req
		script(c)
	}()
	<-done
	nc.Close()
	s.reports <- c.rep
}

// report waits for the next finished connection's report and fails the test
// with the script's errors.
func (s *rawServer) report(t *testing.T) *connReport {
	t.Helper()
	select {
	case rep := <-s.reports:
		for _, e := range rep.Errs {
			t.Errorf("raw server: %s", e)
		}
		return rep
	case <-time.After(rawFailBound):
		t.Fatalf("raw server: no connection finished within %v", rawFailBound)
		return nil
	}
}

// fail records a script failure and ends the script (its connection is then
// closed and its report sent).
func (c *rawConn) fail(format string, args ...any) {
	c.rep.Errs = append(c.rep.Errs, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

// acceptFor computes Sec-WebSocket-Accept for a Sec-WebSocket-Key, RFC 6455
// section 4.2.2.
func acceptFor(key string) string {
	h := sha1.Sum([]byte(key + websocketGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// acceptValue is the correct Sec-WebSocket-Accept for this request.
func (c *rawConn) acceptValue() string {
	return acceptFor(c.req.Header.Get("Sec-WebSocket-Key"))
}

// response101 is a correct 101 response with extra header lines ("Name:
// value") added.
func (c *rawConn) response101(extra ...string) []byte {
	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	b.WriteString("Upgrade: websocket\r\n")
	b.WriteString("Connection: Upgrade\r\n")
	b.WriteString("Sec-WebSocket-Accept: " + c.acceptValue() + "\r\n")
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// accept completes the opening handshake.
func (c *rawConn) accept(extra ...string) { c.write(c.response101(extra...)) }

// write writes all parts in one Write call.
func (c *rawConn) write(parts ...[]byte) {
	if _, err := c.nc.Write(cat(parts...)); err != nil {
		c.fail("write: %v", err)
	}
}

// writeBytewise writes all parts one byte per Write call.
func (c *rawConn) writeBytewise(parts ...[]byte) {
	for _, b := range cat(parts...) {
		if _, err := c.nc.Write([]byte{b}); err != nil {
			c.fail("write: %v", err)
		}
	}
}

// readFrameOrEOF reads the client's next frame; eof reports a clean end of
// the client's output before any byte of a frame. Every frame read is
// recorded, and one without the mask bit is a failure.
func (c *rawConn) readFrameOrEOF() (f wireFrame, eof bool) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:1]); err != nil {
		if err == io.EOF {
			c.rep.EOF = true
			return f, true
		}
		c.fail("reading a frame: %v", err)
	}
	if _, err := io.ReadFull(c.br, h[1:]); err != nil {
		c.fail("reading a frame header: %v", err)
	}
	f.Fin = h[0]&0x80 != 0
	f.Rsv = (h[0] >> 4) & 7
	f.Op = h[0] & 0x0f
	f.Masked = h[1]&0x80 != 0
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			c.fail("reading a 16-bit length: %v", err)
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			c.fail("reading a 64-bit length: %v", err)
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 1<<24 {
		c.fail("client frame announces %d bytes", n)
	}
	var key [4]byte
	if f.Masked {
		if _, err := io.ReadFull(c.br, key[:]); err != nil {
			c.fail("reading a masking key: %v", err)
		}
	}
	f.Payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, f.Payload); err != nil {
		c.fail("reading a %d-byte payload: %v", n, err)
	}
	if f.Masked {
		for i := range f.Payload {
			f.Payload[i] ^= key[i%4]
		}
	} else {
		c.rep.Errs = append(c.rep.Errs, fmt.Sprintf("client frame %v without the mask bit", f))
	}
	c.rep.Frames = append(c.rep.Frames, f)
	return f, false
}

// readFrame reads the client's next frame; EOF is a failure.
func (c *rawConn) readFrame() wireFrame {
	f, eof := c.readFrameOrEOF()
	if eof {
		c.fail("EOF where a client frame was expected")
	}
	return f
}

// readClose reads the client's next frame, which must be a close frame.
func (c *rawConn) readClose() wireFrame {
	f := c.readFrame()
	if f.Op != opClose {
		c.fail("expected the client's close frame, got %v", f)
	}
	return f
}

// expectEOF waits (up to the connection's deadline) for the client to end
// its output, with no frame before it.
func (c *rawConn) expectEOF() {
	if f, eof := c.readFrameOrEOF(); !eof {
		c.fail("expected EOF from the client, got %v", f)
	}
}

// expectEOFWithin is expectEOF, failing unless the EOF comes within d.
func (c *rawConn) expectEOFWithin(d time.Duration) {
	c.nc.SetReadDeadline(time.Now().Add(d))
	c.expectEOF()
	c.nc.SetReadDeadline(time.Now().Add(rawConnDeadline))
}

// drainUntilEOF reads (and records) frames until the client ends its
// output.
func (c *rawConn) drainUntilEOF() {
	for {
		if _, eof := c.readFrameOrEOF(); eof {
			return
		}
	}
}

// closeTCP closes the connection normally (FIN).
func (c *rawConn) closeTCP() { c.nc.Close() }

// closeWrite half-closes the connection: the client sees EOF, the server can
// still read.
func (c *rawConn) closeWrite() {
	if err := c.nc.CloseWrite(); err != nil {
		c.fail("CloseWrite: %v", err)
	}
}

// reset aborts the connection with a TCP RST.
func (c *rawConn) reset() {
	c.nc.SetLinger(0)
	c.nc.Close()
}

// finish is the server's side of a clean, server-initiated closing
// handshake: send close(code, reason), read the client's close frame, close
// TCP.
func (c *rawConn) finish(code uint16, reason string) {
	c.write(closeFrame(code, reason))
	c.readClose()
	c.closeTCP()
}

// answerClose is the server's side of a client-initiated closing handshake:
// read the client's close frame, answer with close(code, reason), close TCP.
func (c *rawConn) answerClose(code uint16, reason string) {
	c.readClose()
	c.write(closeFrame(code, reason))
	c.closeTCP()
}

// checkOnlyClose asserts that the client sent exactly one frame, a close
// frame with the code wantCode (-1: empty payload), whose reason is valid
// UTF-8 that fits a control frame.
func checkOnlyClose(t *testing.T, rep *connReport, wantCode int) {
	t.Helper()
	if len(rep.Frames) != 1 || rep.Frames[0].Op != opClose {
		t.Fatalf("client sent %v, want exactly one close frame with code %d", rep.Frames, wantCode)
	}
	checkCloseFrame(t, rep.Frames[0], wantCode)
}

// checkCloseFrame asserts f is a close frame with wantCode (-1: empty
// payload).
func checkCloseFrame(t *testing.T, f wireFrame, wantCode int) {
	t.Helper()
	if f.Op != opClose || !f.Fin || f.Rsv != 0 {
		t.Errorf("client frame %v (fin=%t rsv=%d), want a final close frame without RSV bits", f, f.Fin, f.Rsv)
	}
	code, reason := f.closeCode()
	if code != wantCode {
		t.Errorf("client sent %v, want close code %d", f, wantCode)
	}
	if wantCode == -1 && len(f.Payload) != 0 {
		t.Errorf("client's close frame has a %d-byte payload, want an empty one", len(f.Payload))
	}
	if len(f.Payload) > 125 || !utf8.ValidString(reason) {
		t.Errorf("client's close frame is malformed: %d bytes, reason %q", len(f.Payload), reason)
	}
}

// ---------------------------------------------------------------------------
// The client harness.

// traceClient is one socket on its own loop, with its events recorded.
type traceClient struct {
	t    *testing.T
	Loop *websocket.EventLoop
	WS   *websocket.WebSocket

	// Trace has one line per event: type, ReadyState, and the event's
	// fields (see describeEvent).
	Trace    []string
	Errors   []error
	Closes   []websocket.CloseEvent
	Messages []websocket.MessageEvent
	Elapsed  time.Duration // how long Run ran

	// QuietPings counts ping events in Pings instead of recording them, for
	// floods.
	QuietPings bool
	Pings      int

	// Hooks, called on the loop after the event is recorded.
	OnOpen    func(ws *websocket.WebSocket)
	OnMessage func(ws *websocket.WebSocket, m websocket.MessageEvent)
	OnPing    func(ws *websocket.WebSocket, p websocket.PingEvent)
	OnPong    func(ws *websocket.WebSocket, p websocket.PongEvent)
	OnError   func(ws *websocket.WebSocket, e websocket.ErrorEvent)
	OnClose   func(ws *websocket.WebSocket, c websocket.CloseEvent)

	Reconnects  []websocket.ReconnectEvent
	OnReconnect func(ws *websocket.WebSocket, r websocket.ReconnectEvent)

	before map[string]bool // goroutines that existed before the socket
}

// newTraceClient creates a socket for url with cfg on a loop of its own
// (cfg.Loop, or a new one when it is nil) and records its events. The
// socket starts connecting at once; its events fire during run.
func newTraceClient(t *testing.T, url string, cfg *websocket.Config) *traceClient {
	t.Helper()
	var c websocket.Config
	if cfg != nil {
		c = *cfg
	}
	if c.Loop == nil {
		c.Loop = websocket.NewEventLoop()
	}
	tc := &traceClient{t: t, Loop: c.Loop, before: goroutineIDs()}
	c.Loop.OnPanic = func(v any, stack []byte) {
		t.Errorf("panic in a callback: %v\n%s", v, stack)
	}
	ws, err := websocket.NewWithConfig(url, &c)
	if err != nil {
		t.Fatalf("NewWithConfig(%q): %v", url, err)
	}
	tc.WS = ws
	ws.OnOpen = func(e websocket.OpenEvent) {
		tc.record(e)
		if tc.OnOpen != nil {
			tc.OnOpen(ws)
		}
	}
	ws.OnMessage = func(m websocket.MessageEvent) {
		tc.record(m)
		tc.Messages = append(tc.Messages, m)
		if tc.OnMessage != nil {
			tc.OnMessage(ws, m)
		}
	}
	ws.OnPing = func(p websocket.PingEvent) {
		tc.Pings++
		if !tc.QuietPings {
			tc.record(p)
		}
		if tc.OnPing != nil {
			tc.OnPing(ws, p)
		}
	}
	ws.OnPong = func(p websocket.PongEvent) {
		tc.record(p)
		if tc.OnPong != nil {
			tc.OnPong(ws, p)
		}
	}
	ws.OnError = func(e websocket.ErrorEvent) {
		tc.record(e)
		tc.Errors = append(tc.Errors, e.Err)
		if tc.OnError != nil {
			tc.OnError(ws, e)
		}
	}
	ws.OnClose = func(e websocket.CloseEvent) {
		tc.record(e)
		tc.Closes = append(tc.Closes, e)
		if tc.OnClose != nil {
			tc.OnClose(ws, e)
		}
	}
	ws.OnReconnect = func(e websocket.ReconnectEvent) {
		tc.record(e)
		tc.Reconnects = append(tc.Reconnects, e)
		if tc.OnReconnect != nil {
			tc.OnReconnect(ws, e)
		}
	}
	return tc
}

func (tc *traceClient) record(e websocket.Event) {
	tc.Trace = append(tc.Trace, describeEvent(e, tc.WS.ReadyState()))
}

// run runs the loop on the test goroutine until it returns, which it must
// do once the socket is gone, within rawFailBound; then it checks that no
// goroutine of the library is left.
func (tc *traceClient) run() {
	t := tc.t
	t.Helper()
	var fired atomic.Bool
	watchdog := time.AfterFunc(rawFailBound, func() {
		fired.Store(true)
		tc.Loop.Stop()
	})
	start := time.Now()
	err := tc.Loop.Run()
	tc.Elapsed = time.Since(start)
	watchdog.Stop()
	if fired.Load() {
		t.Fatalf("loop.Run did not return within %v (the socket was not released); trace so far:\n%s",
			rawFailBound, strings.Join(tc.Trace, "\n"))
	}
	if err != nil {
		t.Fatalf("loop.Run: %v", err)
	}
	if left := tc.leftGoroutines(3 * time.Second); left != "" {
		t.Errorf("goroutines of the library outlive the socket:\n%s", left)
	}
}

// expectTrace asserts the recorded trace is exactly want.
func (tc *traceClient) expectTrace(want ...string) {
	tc.t.Helper()
	if !equalStrings(tc.Trace, want) {
		tc.t.Errorf("event trace:\n\t%s\nwant:\n\t%s", strings.Join(tc.Trace, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// describeEvent renders an event and the ReadyState when it fired.
func describeEvent(e websocket.Event, st websocket.ReadyState) string {
	switch e := e.(type) {
	case websocket.OpenEvent:
		return "open " + st.String()
	case websocket.MessageEvent:
		kind := "text"
		if e.Binary {
			kind = "binary"
		}
		if len(e.Data) > 64 {
			return fmt.Sprintf("message %s %s len=%d", st, kind, len(e.Data))
		}
		return fmt.Sprintf("message %s %s %q", st, kind, e.Data)
	case websocket.PingEvent:
		return fmt.Sprintf("ping %s %s", st, describePayload(e.Data))
	case websocket.PongEvent:
		return fmt.Sprintf("pong %s %s", st, describePayload(e.Data))
	case websocket.ErrorEvent:
		return fmt.Sprintf("error %s %s", st, describeErr(e.Err))
	case websocket.CloseEvent:
		return fmt.Sprintf("close %s %d %q clean=%t", st, e.Code, e.Reason, e.WasClean)
	case websocket.ReconnectEvent:
		return fmt.Sprintf("reconnect %s attempt=%d after close %d %s", st, e.Attempt, e.Close.Code, describeErr(e.Err))
	}
	return fmt.Sprintf("%s %s (unknown event %T)", e.Type(), st, e)
}

func describePayload(p []byte) string {
	if len(p) > 64 {
		return fmt.Sprintf("len=%d", len(p))
	}
	return fmt.Sprintf("%q", p)
}

// describeErr names an ErrorEvent's error by its exported type.
func describeErr(err error) string {
	var pe *websocket.ProtocolError
	var he *websocket.HandshakeError
	var ce *websocket.ConnectError
	var ke *websocket.KeepaliveError
	switch {
	case errors.As(err, &ke) && ke.PingUnanswered:
		return "KeepaliveError(ping)"
	case errors.As(err, &ke):
		return "KeepaliveError(idle)"

	case errors.As(err, &pe):
		return fmt.Sprintf("ProtocolError(%d)", pe.Code)
	case errors.As(err, &he):
		return "HandshakeError"
	case errors.As(err, &ce):
		return "ConnectError"
	case errors.Is(err, websocket.ErrClosedWhileConnecting):
		return "ErrClosedWhileConnecting"
	case err == nil:
		return "<nil>"
	}
	return fmt.Sprintf("%T(%v)", err, err)
}

// Common traces.
const (
	traceOpen        = "open OPEN"
	traceAbnormal    = `close CLOSED 1006 "" clean=false`
	traceCleanNormal = `close CLOSED 1000 "" clean=true`
)

// failTrace is the trace of an open socket failed for a protocol violation
// with close code code.
func failTrace(code int) []string {
	return []string{traceOpen, fmt.Sprintf("error CLOSED ProtocolError(%d)", code), traceAbnormal}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// goroutineIDs returns the ids of the goroutines running now.
func goroutineIDs() map[string]bool {
	ids := map[string]bool{}
	for _, g := range goroutineStacks() {
		ids[goroutineID(g)] = true
	}
	return ids
}

func goroutineStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(string(buf[:n]), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

func goroutineID(stack string) string {
	head, _, _ := strings.Cut(stack, " [")
	return head
}

// leftGoroutines waits up to limit for the goroutines the library started
// since the socket was created to end (their exit is asynchronous to Run's
// return) and returns the stacks of those still running.
func (tc *traceClient) leftGoroutines(limit time.Duration) string {
	return libGoroutinesSince(tc.before, limit)
}

// libGoroutinesSince waits up to limit for the library's goroutines that
// are not in before to end, and returns the stacks of those still running.
func libGoroutinesSince(before map[string]bool, limit time.Duration) string {
	deadline := time.Now().Add(limit)
	for {
		var left []string
		for _, g := range goroutineStacks() {
			if before[goroutineID(g)] {
				continue
			}
			if strings.Contains(g, "github.com/wsloop/websocket.") || strings.Contains(g, "github.com/wsloop/websocket/") {
				left = append(left, g)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return strings.Join(left, "\n\n")
		}
		time.Sleep(5 * time.Millisecond) // polling for goroutine exit, not synchronising
	}
}

// TestRawServerAcceptKey checks the helper against RFC 6455's own example.
func TestRawServerAcceptKey(t *testing.T) {
	if got := acceptFor("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("acceptFor = %q", got)
	}
}

// TestRawServerFrameEncoding checks the frame builder's byte layout.
func TestRawServerFrameEncoding(t *testing.T) {
	cases := []struct {
		f    frameSpec
		want []byte
	}{
		{frameSpec{Fin: true, Op: opText, Payload: []byte("hi")}, []byte{0x81, 2, 'h', 'i'}},
		{frameSpec{Op: opCont, Rsv: rsv1 | rsv3}, []byte{0x50, 0}},
		{frameSpec{Fin: true, Op: opBinary, Enc: 16, Payload: []byte{7}}, []byte{0x82, 126, 0, 1, 7}},
		{frameSpec{Fin: true, Op: opBinary, Enc: 64, HasLen: true, Len: 1 << 63}, []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}},
		{frameSpec{Fin: true, Op: opText, Mask: true, Key: [4]byte{1, 2, 3, 4}, Payload: []byte("ab")}, []byte{0x81, 0x82, 1, 2, 3, 4, 'a' ^ 1, 'b' ^ 2}},
	}
	for _, c := range cases {
		if got := c.f.bytes(); !bytes.Equal(got, c.want) {
			t.Errorf("%+v: % x, want % x", c.f, got, c.want)
		}
	}
}
