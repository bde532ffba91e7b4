package serverside_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A raw client writes frames byte by byte as a test composes them, and
// reads the server's frames checking what RFC 6455 demands of a server's:
// unmasked, the length in its shortest encoding.

// Opcodes and the first byte's bits.
const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xa
	bitFin   = 0x80
	bitRSV1  = 0x40
	bitRSV2  = 0x20
	bitRSV3  = 0x10
)

// maskKey is the key of every frame the raw client writes; its bytes
// differ, so a server that unmasks with the wrong offset is caught.
var maskKey = [4]byte{0x9b, 0x1e, 0x47, 0xd2}

// frame is a masked client frame: b0 is its first byte (FIN, RSV bits,
// opcode), the length in its shortest encoding.
func frame(b0 byte, payload []byte) []byte {
	out := header(b0, uint64(len(payload)))
	for i, c := range payload {
		out = append(out, c^maskKey[i%4])
	}
	return out
}

// header is a masked frame's header announcing n bytes of payload.
func header(b0 byte, n uint64) []byte {
	out := []byte{b0}
	switch {
	case n <= 125:
		out = append(out, 0x80|byte(n))
	case n <= 0xffff:
		out = append(out, 0x80|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, 0x80|127)
		out = binary.BigEndian.AppendUint64(out, n)
	}
	return append(out, maskKey[:]...)
}

// closeFrame is a masked close frame with code and reason.
func closeFrame(code uint16, reason string) []byte {
	return frame(bitFin|opClose, append(binary.BigEndian.AppendUint16(nil, code), reason...))
}

// deflate compresses p as a permessage-deflate message: raw deflate,
// flushed, the flush's 00 00 ff ff taken off (RFC 7692 7.2.1).
func deflate(p []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(p)
	w.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// rawConn is the raw client's connection, its handshake done.
type rawConn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
	// deflate: permessage-deflate was negotiated, so frames with RSV1
	// are inflated.
	deflate bool
}

// dialRaw opens a connection to srv's path, with the request's extra
// header lines, and the bytes of after in the same write as the request.
func dialRaw(t testing.TB, srv *httptest.Server, path, extra string, after ...[]byte) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(bound))
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODw==\r\n%s\r\n", path, srv.Listener.Addr(), extra)
	if _, err := nc.Write(append([]byte(req), bytes.Join(after, nil)...)); err != nil {
		t.Fatal(err)
	}
	c := &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %s", resp.Status)
	}
	// The Accept of the key above, from RFC 6455 4.2.2's recipe.
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != "Bz3qJYTGdOe8gUSpLosEdiLKDrk=" {
		t.Fatalf("Sec-WebSocket-Accept %q", got)
	}
	c.deflate = resp.Header.Get("Sec-WebSocket-Extensions") != ""
	return c
}

func (c *rawConn) write(frames ...[]byte) {
	c.t.Helper()
	if _, err := c.nc.Write(bytes.Join(frames, nil)); err != nil {
		c.t.Fatalf("writing: %v", err)
	}
}

// serverFrame is a frame the server sent.
type serverFrame struct {
	fin     bool
	rsv1    bool
	op      byte
	payload []byte // inflated when compressed
	size    int    // the frame's bytes on the wire
}

// read reads the server's next frame, which must be unmasked, without
// RSV2 and RSV3, and its length in the shortest encoding.
func (c *rawConn) read() serverFrame {
	c.t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		c.t.Fatalf("reading the server's next frame: %v", err)
	}
	f := serverFrame{fin: h[0]&bitFin != 0, rsv1: h[0]&bitRSV1 != 0, op: h[0] & 0x0f, size: 2}
	if h[0]&(bitRSV2|bitRSV3) != 0 || f.rsv1 && !c.deflate {
		c.t.Fatalf("the server set RSV bits: %08b", h[0])
	}
	if h[1]&0x80 != 0 {
		c.t.Fatal("the server masked a frame (RFC 6455 5.1)")
	}
	n := uint64(h[1] & 0x7f)
	var minimal bool
	switch n {
	case 126:
		var b [2]byte
		io.ReadFull(c.br, b[:])
		n, f.size = uint64(binary.BigEndian.Uint16(b[:])), f.size+2
		minimal = n > 125
	case 127:
		var b [8]byte
		io.ReadFull(c.br, b[:])
		n, f.size = binary.BigEndian.Uint64(b[:]), f.size+8
		minimal = n > 0xffff
	default:
		minimal = true
	}
	if !minimal {
		c.t.Fatalf("the server's frame announces %d bytes in %d bytes of header: not the shortest encoding (RFC 6455 5.2)", n, f.size)
	}
	if n > 64<<20 {
		c.t.Fatalf("the server's frame announces %d bytes", n)
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, f.payload); err != nil {
		c.t.Fatalf("reading a %d-byte payload: %v", n, err)
	}
	f.size += int(n)
	if f.rsv1 {
		zr := flate.NewReader(io.MultiReader(bytes.NewReader(f.payload), bytes.NewReader([]byte{0, 0, 0xff, 0xff})))
		p, err := io.ReadAll(zr)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			c.t.Fatalf("inflating the server's message: %v", err)
		}
		f.payload = p
	}
	return f
}

// expectMessage reads a whole message of the server's, its fragments put
// together, and checks its opcode and payload.
func (c *rawConn) expectMessage(op byte, want []byte) {
	c.t.Helper()
	f := c.read()
	got := f.payload
	for !f.fin {
		f = c.read()
		if f.op != opCont {
			c.t.Fatalf("opcode %d inside the server's fragmented message", f.op)
		}
		got = append(got, f.payload...)
	}
	if f.op != op && op != opCont || !bytes.Equal(got, want) {
		c.t.Fatalf("the server sent opcode %d with %d bytes (%.40q), want opcode %d with %d bytes (%.40q)", f.op, len(got), got, op, len(want), want)
	}
}

// expectClose reads the server's close frame and checks its code; its
// reason is returned.
func (c *rawConn) expectClose(code uint16) string {
	c.t.Helper()
	f := c.read()
	if f.op != opClose || len(f.payload) < 2 || binary.BigEndian.Uint16(f.payload) != code {
		c.t.Fatalf("the server sent opcode %d %q, want a close frame with %d", f.op, f.payload, code)
	}
	return string(f.payload[2:])
}

// expectEnd checks that the server ends TCP with a FIN and sends nothing
// more, the client not having closed its side; then the client closes, as
// a client does once it sees the server's end.
func (c *rawConn) expectEnd() {
	c.t.Helper()
	b, err := c.br.ReadByte()
	switch {
	case err == io.EOF:
		c.nc.Close()
	case err == nil:
		c.t.Fatalf("the server sent %#x after its close frame", b)
	default:
		c.t.Fatalf("waiting for the server to end TCP: %v", err)
	}
}
