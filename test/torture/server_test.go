package torture_test

// The raw-frame server: it completes the opening handshake itself and then
// hands the TCP connection to the test's script, which writes whatever
// bytes it likes (frames no library would produce, headers split anywhere)
// and reads back the frames the client sends, unmasked and checked.

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
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

// frame encodes a server frame: unmasked, with the shortest length form.
func frame(fin bool, op byte, payload []byte) []byte {
	return appendFrame(nil, fin, op, payload)
}

func appendFrame(b []byte, fin bool, op byte, payload []byte) []byte {
	b = appendHeader(b, fin, op, uint64(len(payload)), 0)
	return append(b, payload...)
}

// appendHeader appends a server frame header announcing n payload bytes,
// in the length form enc (7, 16 or 64 bits; 0 for the shortest), whatever
// n is: the torture cases announce lengths they never send.
func appendHeader(b []byte, fin bool, op byte, n uint64, enc int) []byte {
	b0 := op & 0x0f
	if fin {
		b0 |= 0x80
	}
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
	switch enc {
	case 7:
		return append(b, b0, byte(n))
	case 16:
		return binary.BigEndian.AppendUint16(append(b, b0, 126), uint16(n))
	case 64:
		return binary.BigEndian.AppendUint64(append(b, b0, 127), n)
	}
	panic(fmt.Sprintf("appendHeader: length form %d", enc))
}

func textFrame(s string) []byte { return frame(true, opText, []byte(s)) }

// closeFrame is a close frame with code and reason.
func closeFrame(code uint16, reason string) []byte {
	return frame(true, opClose, append(binary.BigEndian.AppendUint16(nil, code), reason...))
}

// clientFrame is a frame the client sent, unmasked.
type clientFrame struct {
	fin     bool
	op      byte
	payload []byte
}

// closeCode is the code of a close frame, 0 when it has none.
func (f clientFrame) closeCode() int {
	if len(f.payload) < 2 {
		return 0
	}
	return int(binary.BigEndian.Uint16(f.payload))
}

func (f clientFrame) String() string {
	switch f.op {
	case opClose:
		if len(f.payload) >= 2 {
			return fmt.Sprintf("close(%d %q)", f.closeCode(), f.payload[2:])
		}
		return fmt.Sprintf("close(% x)", f.payload)
	case opPing:
		return fmt.Sprintf("ping(%q)", f.payload)
	case opPong:
		return fmt.Sprintf("pong(%q)", f.payload)
	}
	return fmt.Sprintf("frame(op %#x, fin %t, %d bytes)", f.op, f.fin, len(f.payload))
}

// serverBound bounds every wait of the server's: a script blocked on a
// client that does not answer fails instead of hanging the test.
const serverBound = 20 * time.Second

// rawServer accepts one connection, completes the handshake and runs the
// script on it.
type rawServer struct {
	URL string

	ln   net.Listener
	done chan struct{} // the script returned and the connection is closed

	mu   sync.Mutex
	errs []string
	logs []string
}

// serve starts a server whose one connection runs script. The test waits
// for the script with wait; the cleanup closes the listener.
func serve(t *testing.T, script func(c *rawConn)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{URL: "ws://" + ln.Addr().String() + "/", ln: ln, done: make(chan struct{})}
	go s.run(script)
	t.Cleanup(func() {
		ln.Close()
		select {
		case <-s.done:
		case <-time.After(serverBound + 5*time.Second):
			t.Errorf("the server's script did not return")
		}
	})
	return s
}

func (s *rawServer) run(script func(c *rawConn)) {
	defer close(s.done)
	nc, err := s.ln.Accept()
	s.ln.Close()
	if err != nil {
		s.failf("accept: %v", err)
		return
	}
	c := &rawConn{s: s, nc: nc.(*net.TCPConn), br: bufio.NewReader(nc)}
	defer func() {
		// The script is done when its readers are: a test that measures
		// the heap must not count a reader's buffers (its channel holds
		// 3 MiB) as the client's.
		nc.Close()
		c.readers.Wait()
	}()

	nc.SetDeadline(time.Now().Add(serverBound))
	if err := c.handshake(); err != nil {
		s.failf("handshake: %v", err)
		return
	}
	defer func() {
		// A script stops at its first failure, by a panic carrying
		// errScript.
		if v := recover(); v != nil && v != errScript {
			panic(v)
		}
	}()
	script(c)
}

func (s *rawServer) failf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

// wait waits for the script to return and reports its failures.
func (s *rawServer) wait(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(serverBound + 5*time.Second):
		t.Fatalf("the server's script did not return")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.logs {
		t.Logf("server: %s", l)
	}
	for _, e := range s.errs {
		t.Errorf("server: %s", e)
	}
}

// errScript ends a script at its first failure.
var errScript = errors.New("script failed")

// rawConn is the server's side of the connection, for the script.
type rawConn struct {
	s       *rawServer
	nc      *net.TCPConn
	br      *bufio.Reader
	readers sync.WaitGroup // startReader's goroutines
}

// logf records a note the test logs.
func (c *rawConn) logf(format string, args ...any) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.logs = append(c.s.logs, fmt.Sprintf(format, args...))
}

// fatalf records a failure and ends the script.
func (c *rawConn) fatalf(format string, args ...any) {
	c.s.failf(format, args...)
	panic(errScript)
}

func (c *rawConn) handshake() error {
	req, err := http.ReadRequest(c.br)
	if err != nil {
		return err
	}
	key := req.Header.Get("Sec-WebSocket-Key")
	if key == "" {
		return errors.New("no Sec-WebSocket-Key")
	}
	_, err = c.nc.Write([]byte("HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n"))
	return err
}

// acceptKey is RFC 6455's Sec-WebSocket-Accept for key.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// write writes parts with one writev, without copying them.
func (c *rawConn) write(parts ...[]byte) {
	bufs := net.Buffers(parts)
	if _, err := bufs.WriteTo(c.nc); err != nil {
		c.fatalf("write: %v", err)
	}
}

// readFrame reads the client's next frame; io.EOF when the client ended
// its output before a frame began.
func (c *rawConn) readFrame() (clientFrame, error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:1]); err != nil {
		return clientFrame{}, err
	}
	if _, err := io.ReadFull(c.br, h[1:]); err != nil {
		return clientFrame{}, fmt.Errorf("inside a frame header: %w", err)
	}
	f := clientFrame{fin: h[0]&0x80 != 0, op: h[0] & 0x0f}
	if h[0]&0x70 != 0 {
		return f, fmt.Errorf("client frame with RSV bits %#x", h[0]&0x70)
	}
	if h[1]&0x80 == 0 {
		return f, errors.New("unmasked client frame")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 64<<20 {
		return f, fmt.Errorf("client frame of %d bytes", n)
	}
	var key [4]byte
	if _, err := io.ReadFull(c.br, key[:]); err != nil {
		return f, err
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, f.payload); err != nil {
		return f, err
	}
	for i := range f.payload {
		f.payload[i] ^= key[i%4]
	}
	return f, nil
}

// mustFrame reads the client's next frame, which must be there.
func (c *rawConn) mustFrame() clientFrame {
	f, err := c.readFrame()
	if err != nil {
		c.fatalf("reading the client's frame: %v", err)
	}
	return f
}

// expectClose reads the client's next frame, which must be a close frame
// with code (0: no code), and returns it.
func (c *rawConn) expectClose(code int) clientFrame {
	f := c.mustFrame()
	if f.op != opClose || f.closeCode() != code || (code == 0) != (len(f.payload) == 0) {
		c.fatalf("client sent %v; want close(%d)", f, code)
	}
	return f
}

// expectEOF reads until the client ends its output, which must come
// without another frame: after its close frame the client half-closes.
func (c *rawConn) expectEOF() {
	f, err := c.readFrame()
	switch {
	case err == nil:
		c.fatalf("client sent %v after its close frame; want the end of its output", f)
	case !errors.Is(err, io.EOF):
		c.fatalf("after the client's close frame: %v; want the end of its output", err)
	}
}

// failedWith is the end of a connection the client failed: its close frame
// with code, then the end of its output, after which the server closes.
func (c *rawConn) failedWith(code int) {
	c.expectClose(code)
	c.expectEOF()
}

// frameReader reads the client's frames on a goroutine of its own, for
// scripts that write while the client answers.
type frameReader struct {
	frames chan clientFrame
	err    chan error // the error that ended the reading (io.EOF: the client's FIN)
}

func (c *rawConn) startReader() *frameReader {
	r := &frameReader{frames: make(chan clientFrame, 1<<16), err: make(chan error, 1)}
	c.readers.Add(1)
	go func() {
		defer c.readers.Done()
		for {
			f, err := c.readFrame()
			if err != nil {
				close(r.frames)
				r.err <- err
				return
			}
			r.frames <- f
		}
	}()
	return r
}

// next returns the next frame the reader got; ok is false once reading
// ended.
func (r *frameReader) next() (clientFrame, bool) {
	select {
	case f, ok := <-r.frames:
		return f, ok
	case <-time.After(serverBound):
		return clientFrame{}, false
	}
}
