package browser_test

// permessage-deflate (RFC 7692): the scenario server's compressor and
// inflater, and the compression scenarios. Both clients offer the
// extension (the wire record compares the offer); the scenarios here are
// the only ones whose server accepts it.

import (
	"bytes"
	"compress/flate"
	"io"
	"slices"
	"strings"
)

// flateSync is the empty stored block a flush ends with, which RFC 7692
// 7.2.1 has the sender cut from each message and 7.2.2 the receiver put
// back.
var flateSync = []byte{0x00, 0x00, 0xff, 0xff}

// flateEnd is a final empty stored block: after flateSync, it ends the
// stream, so that the inflater reports io.EOF.
var flateEnd = []byte{0x01, 0x00, 0x00, 0xff, 0xff}

// inflater is the server's reading of a client's compressed messages.
type inflater struct {
	// noContext: client_no_context_takeover was negotiated, so each
	// message inflates on its own; otherwise the client may refer back to
	// its earlier messages (Chromium does), and window keeps them.
	noContext bool
	window    []byte // the client's last 32 KiB, uncompressed
}

func (z *inflater) inflate(p []byte) ([]byte, error) {
	src := io.MultiReader(bytes.NewReader(p), bytes.NewReader(flateSync), bytes.NewReader(flateEnd))
	out, err := io.ReadAll(flate.NewReaderDict(src, z.window))
	if err != nil {
		return nil, err
	}
	if !z.noContext {
		z.window = append(z.window, out...)
		if n := len(z.window) - 1<<15; n > 0 {
			z.window = z.window[n:]
		}
	}
	return out, nil
}

// deflater is the server's compressor.
type deflater struct {
	// noContext: server_no_context_takeover was negotiated, so each
	// message is compressed on its own; otherwise one compressor runs on
	// across messages, and a message may refer back to earlier ones.
	noContext bool
	buf       bytes.Buffer
	w         *flate.Writer
}

// compress is p compressed as one message's payload: flushed, the
// trailing 00 00 ff ff cut.
func (z *deflater) compress(p []byte) []byte {
	if z.w == nil || z.noContext {
		z.w, _ = flate.NewWriter(&z.buf, flate.BestCompression)
	}
	z.buf.Reset()
	z.w.Write(p)
	z.w.Flush()
	out, ok := bytes.CutSuffix(z.buf.Bytes(), flateSync)
	if !ok {
		panic("a flush that does not end with 00 00 ff ff")
	}
	return bytes.Clone(out)
}

// frame is a compressed data frame (RSV1) of one message.
func (z *deflater) frame(op byte, p []byte) []byte {
	return frame{op: op, rsv: 4, payload: z.compress(p)}.bytes()
}

// The messages of the echo scenarios: all at least 128 bytes, so that both
// clients compress their echoes (Go's threshold), and repetitive, so that
// a client window of 8 bits makes them smaller. Together under 1 KiB, so that no
// back-reference reaches further than a 10-bit window.
var (
	deflateTextA = strings.Repeat("compressed text, ", 12)                // 204 bytes
	deflateBinB  = bytes.Repeat([]byte{0, 1, 2, 3, 0, 0, 1, 1, 3, 3}, 16) // 160 bytes
	deflateTextC = "again: " + deflateTextA                               // refers back to A with context takeover
	deflateTextD = strings.Repeat("fragmented ✓ ", 15)                    // 225 bytes, in 3 frames
	deflateTextE = strings.Repeat("plain text, ", 12)                     // 144 bytes, sent uncompressed
)

// deflateEcho accepts permessage-deflate with the response ext, sends
// compressed text and binary messages (one that refers back to an earlier
// one, unless server_no_context_takeover), a compressed message in three
// frames and an uncompressed one, and reads the client's echo of each
// before it sends the next.
func deflateEcho(ext string) func(*peer) {
	return func(p *peer) {
		p.accept("Sec-WebSocket-Extensions: " + ext)
		p.asm.inflate = &inflater{noContext: strings.Contains(ext, "client_no_context_takeover")}
		z := &deflater{noContext: strings.Contains(ext, "server_no_context_takeover")}
		fragmented := func() []byte {
			d := z.compress([]byte(deflateTextD))
			n := len(d) / 3
			return slices.Concat(
				frame{op: opText, rsv: 4, more: true, payload: d[:n]}.bytes(),
				frame{op: opCont, more: true, payload: d[n : 2*n]}.bytes(),
				frame{op: opCont, payload: d[2*n:]}.bytes())
		}
		for _, m := range [][]byte{
			z.frame(opText, []byte(deflateTextA)),
			z.frame(opBinary, deflateBinB),
			z.frame(opText, []byte(deflateTextC)),
			fragmented(),
			textFrame(deflateTextE),
		} {
			p.write(m)
			p.readMessage()
		}
		p.finish(1000, "")
	}
}

// deflateViolation accepts permessage-deflate and writes bytes that break
// RFC 7692; the client must fail the connection.
func deflateViolation(bad ...[]byte) func(*peer) {
	return func(p *peer) {
		p.accept("Sec-WebSocket-Extensions: permessage-deflate")
		p.asm.inflate = &inflater{}
		p.write(bad...)
		p.readClose()
		p.closeTCP()
	}
}

// deflateRefused answers with a response that breaks RFC 7692 (headers
// are the extension header lines); the client must fail the connection.
func deflateRefused(headers ...string) func(*peer) {
	return func(p *peer) {
		p.accept(headers...)
		p.waitEOF(ioBound)
	}
}

func compressionScenarios() []*scenario {
	var scs []*scenario
	add := func(name string, c plan, server func(*peer)) *scenario {
		sc := &scenario{name: name, client: c, server: server}
		scs = append(scs, sc)
		return sc
	}
	echo := plan{echo: true}
	add("deflate-echo", echo, deflateEcho("permessage-deflate"))
	add("deflate-echo-server-no-context-takeover", echo, deflateEcho("permessage-deflate; server_no_context_takeover"))
	add("deflate-echo-client-no-context-takeover", echo, deflateEcho("permessage-deflate; client_no_context_takeover"))
	add("deflate-echo-server-max-window-bits-10", echo, deflateEcho("permessage-deflate; server_max_window_bits=10"))
	add("deflate-echo-client-max-window-bits-12", echo, deflateEcho("permessage-deflate; client_max_window_bits=12"))

	// The client's own messages, under Go's threshold (128) and over it:
	// the wire record shows which went compressed.
	add("deflate-client-100-and-1000-bytes", plan{onOpen: []step{
		send(strings.Repeat("0123456789", 10)), send(strings.Repeat("0123456789", 100)),
		sendBinary(100), sendBinary(1000),
	}}, func(p *peer) {
		p.accept("Sec-WebSocket-Extensions: permessage-deflate")
		p.asm.inflate = &inflater{}
		for range 4 {
			p.readMessage()
		}
		p.finish(1000, "")
	}).quirk = "small-message-compressed"

	// Failures on the wire.
	z := &deflater{}
	hello := z.compress([]byte("hello, hello, hello"))
	add("deflate-rsv1-ping", plan{}, deflateViolation(frame{op: opPing, rsv: 4, payload: []byte("p")}.bytes()))
	add("deflate-rsv1-continuation", plan{}, deflateViolation(
		frame{op: opText, rsv: 4, more: true, payload: hello[:4]}.bytes(),
		frame{op: opCont, rsv: 4, payload: hello[4:]}.bytes()))
	// 'n' (0x6e) starts a block of the reserved type 3.
	add("deflate-not-deflate-data", plan{}, deflateViolation(frame{op: opText, rsv: 4, payload: []byte("not deflate")}.bytes()))

	// Responses that break RFC 7692.
	add("deflate-response-client-max-window-bits-no-value", plan{}, deflateRefused("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"))
	add("deflate-response-unknown-parameter", plan{}, deflateRefused("Sec-WebSocket-Extensions: permessage-deflate; unknown_parameter"))
	add("deflate-response-twice", plan{}, deflateRefused("Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate"))
	add("deflate-response-twice-two-headers", plan{}, deflateRefused(
		"Sec-WebSocket-Extensions: permessage-deflate", "Sec-WebSocket-Extensions: permessage-deflate"))
	return scs
}
