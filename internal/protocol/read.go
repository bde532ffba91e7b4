package protocol

import (
	"github.com/gobwas/ws"

	"github.com/wsloop/websocket/internal/bufpool"
)

// eagerReserve bounds how much of a frame's announced length is allocated
// before its bytes arrive. Up to it, a message fed in pieces gets a buffer of
// exactly its final size at once; beyond it the buffer doubles towards the
// final size as bytes come in, so a peer that announces a huge frame and
// then stalls ties up at most this much memory rather than the whole limit.
const eagerReserve = 1 << 20

// Next consumes bytes read from the peer until they complete one event,
// and returns it with the number of bytes of p it consumed. When p runs
// out first, the event's Kind is 0 and n is len(p). The driver calls Next
// again with p[n:] until p is used up, delivering each event as it comes:
// no event list is built, so a read full of small messages costs no
// allocation beyond the messages themselves. p is never retained, nor
// written, in either role: bytes of an incomplete frame are copied into
// the Conn, and only for as long as the frame is incomplete, and a server
// unmasks a payload where it copies it to. The Data of a message event
// belongs to the caller (see bufpool).
//
// A violation fails the connection: Next returns the *Error with n =
// len(p), having queued the close frame that reports it, and every later
// call returns the same error. Events returned before it stand. A byte
// after a valid close frame is a violation too, as browsers treat it: the
// peer promised to send nothing more (RFC 6455 5.5.1), and as our close
// frame is out already, none is queued for it.
func (c *Conn) Next(p []byte) (ev Event, n int, err error) {
	if c.err != nil {
		return Event{}, len(p), c.err
	}
	rest := p
	for len(rest) > 0 {
		if c.closeRecv {
			e := newError(codeProtocolError, reasonAfterClose)
			c.fail(e)
			return Event{}, len(p), e
		}
		var e *Error
		if c.inPayload {
			rest, e = c.readPayload(rest)
		} else {
			rest, e = c.readHeader(rest)
		}
		if e != nil {
			c.fail(e)
			return Event{}, len(p), e
		}
		if c.ev.Kind != 0 {
			ev, c.ev = c.ev, Event{}
			return ev, len(p) - len(rest), nil
		}
	}
	return Event{}, len(p), nil
}

// TakeMessage is Next for the common case, taken without changing the
// Conn: when p starts, at a frame boundary and with no message in progress,
// with a whole unfragmented data frame that Next would accept, it returns
// that message as Next would, and the frame's length; otherwise ok is
// false and the driver calls Next, which handles everything else, errors
// included. Since it only reads the input side's state, which only Next
// changes, a driver may call it without the lock it holds against
// concurrent writers (WriteMessage and the like): that lock cost a tenth of
// a small message's receive time. Like Next, it only reads p: a server's
// message is unmasked in the buffer it is copied to, which it needs anyway.
func (c *Conn) TakeMessage(p []byte) (ev Event, n int, ok bool) {
	if c.err != nil || c.closeRecv || c.inPayload || c.hdrLen != 0 || c.msgOp != 0 || len(p) < 2 {
		return Event{}, 0, false
	}
	op := ws.OpCode(p[0] & bitsOp)
	if p[0]&(bitFin|bitsRsv) != bitFin || op != ws.OpText && op != ws.OpBinary || c.checkStart(p[0], p[1]) != nil {
		return Event{}, 0, false
	}
	hn := headerSize(p[1])
	if len(p) < hn {
		return Event{}, 0, false
	}
	h, e := decodeHeader(p[:hn])
	if e != nil || h.Length > c.maxSize || h.Length > int64(len(p)-hn) {
		return Event{}, 0, false
	}
	payload := p[hn : hn+int(h.Length)]
	masked := p[1]&bitMask != 0
	// Text is checked where it is plain (see dataPayload).
	if op == ws.OpText && !masked && !validUTF8(payload) {
		return Event{}, 0, false
	}
	data := bufpool.Get(len(payload))
	copy(data, payload)
	if masked {
		ws.Cipher(data, headerKey(p[:hn]), 0)
		if op == ws.OpText && !validUTF8(data) {
			bufpool.Put(data) // never handed out; Next fails the connection
			return Event{}, 0, false
		}
	}
	return Event{Kind: KindMessage, Binary: op == ws.OpBinary, Data: data}, hn + len(payload), true
}

// readHeader consumes header bytes and, once the header is complete, starts
// the frame. It returns the unconsumed input.
func (c *Conn) readHeader(p []byte) ([]byte, *Error) {
	if c.hdrLen == 0 && len(p) >= 2 {
		if e := c.checkStart(p[0], p[1]); e != nil {
			return p, e
		}
		// Common case: the whole header is in p, decode it in place.
		if n := headerSize(p[1]); len(p) >= n {
			return c.startFrame(p[:n], p[n:])
		}
	}
	// The header straddles Next calls: collect it in c.hdr a byte at a time
	// (at most 14 bytes, and rare), checking the first two as soon as they
	// are both there.
	for len(p) > 0 {
		c.hdr[c.hdrLen] = p[0]
		c.hdrLen++
		p = p[1:]
		if c.hdrLen < 2 {
			continue
		}
		if c.hdrLen == 2 {
			if e := c.checkStart(c.hdr[0], c.hdr[1]); e != nil {
				return p, e
			}
		}
		if n := headerSize(c.hdr[1]); int(c.hdrLen) == n {
			c.hdrLen = 0
			return c.startFrame(c.hdr[:n], p)
		}
	}
	return p, nil
}

// startFrame applies the rules that need the whole header, sets up the
// frame, and processes whatever of its payload p already holds.
func (c *Conn) startFrame(hb, p []byte) ([]byte, *Error) {
	h, e := decodeHeader(hb)
	if e != nil {
		return p, e
	}
	if h.OpCode.IsData() {
		// Enforce the limit on the announced length, before buffering any
		// of the payload. len(c.msg) never exceeds maxSize, so the
		// subtraction cannot overflow.
		if h.OpCode != ws.OpContinuation {
			c.msgOp = h.OpCode
			c.utf8 = utf8Validator{}
			if c.z != nil && h.Rsv1() {
				c.zOwn().msgZ = true
			}
		}
		if h.Length > c.msgLimit()-int64(len(c.msg))-c.streamed {
			return p, newError(codeTooBig, reasonTooBig)
		}
	}
	c.frameOp, c.frameFin, c.remaining, c.inPayload = h.OpCode, h.Fin, h.Length, true
	if c.server {
		c.key, c.keyPos = headerKey(hb), 0
	}
	if len(p) == 0 && c.remaining > 0 {
		return p, nil
	}
	// An empty frame completes right here, even with no input left, so
	// that an empty message is reported by the Next that finished it.
	return c.readPayload(p)
}

// readPayload consumes payload bytes of the current frame and returns the
// unconsumed input.
func (c *Conn) readPayload(p []byte) ([]byte, *Error) {
	n := len(p)
	if int64(n) > c.remaining {
		n = int(c.remaining)
	}
	if c.frameOp.IsControl() {
		return p[n:], c.controlPayload(p[:n])
	}
	return p[n:], c.dataPayload(p[:n])
}

// dataPayload handles the next chunk of a data frame's payload.
func (c *Conn) dataPayload(chunk []byte) *Error {
	// Text is checked as UTF-8 as soon as its bytes are plain, so that an
	// invalid message fails as its bad bytes arrive and is never kept: a
	// client's arrive plain and are checked before they are copied, a
	// server's where they are copied to, once unmasked (landed). Only the
	// place differs; the check is the same.
	if !c.server && !c.textOK(chunk) {
		return newError(codeInvalidData, reasonUTF8)
	}
	c.remaining -= int64(len(chunk))
	if c.stream && !c.msgCompressed() {
		return c.streamPart(chunk)
	}
	if c.remaining == 0 && c.frameFin && c.msg == nil {
		// Nothing buffered and this chunk ends the message: it is the
		// whole message, so copy it once into a buffer of its size.
		data := bufpool.Get(len(chunk))
		copy(data, chunk)
		if e := c.landed(data); e != nil {
			bufpool.Put(data)
			return e
		}
		return c.finishMessage(data)
	}
	n := len(c.msg)
	c.appendMsg(chunk)
	if e := c.landed(c.msg[n:]); e != nil {
		return e
	}
	if c.remaining > 0 {
		return nil
	}
	c.inPayload = false
	if !c.frameFin {
		return nil
	}
	data := c.msg
	c.msg = nil
	return c.finishMessage(data)
}

// streamPart hands a chunk of a message on as a part (Config.Stream).
func (c *Conn) streamPart(chunk []byte) *Error {
	if c.remaining == 0 {
		c.inPayload = false
	}
	final := c.remaining == 0 && c.frameFin
	if len(chunk) == 0 && !final {
		return nil
	}
	data := bufpool.Get(len(chunk))
	copy(data, chunk)
	if e := c.landed(data); e != nil {
		bufpool.Put(data)
		return e
	}
	if !final {
		c.streamed += int64(len(chunk))
		c.ev = Event{Kind: KindMessage, Binary: c.msgOp == ws.OpBinary, Data: data, More: true}
		return nil
	}
	c.streamed = 0
	return c.finishMessage(data)
}

// landed takes the payload bytes b just copied out of the caller's input:
// in the server role, it unmasks them and checks them as text (see
// dataPayload).
func (c *Conn) landed(b []byte) *Error {
	if c.server {
		return c.landedMasked(b)
	}
	return nil
}

// landedMasked is landed's work in the server role.
func (c *Conn) landedMasked(b []byte) *Error {
	c.unmask(b)
	if !c.textOK(b) {
		return newError(codeInvalidData, reasonUTF8)
	}
	return nil
}

// textOK feeds b, the next plain bytes of the message being received, to
// its UTF-8 check, and reports whether they may still make valid UTF-8.
// Binary messages are not checked, nor compressed ones, whose bytes are
// checked once inflated.
func (c *Conn) textOK(b []byte) bool {
	return c.msgOp != ws.OpText || c.msgCompressed() || c.utf8.feed(b)
}

// msgCompressed reports whether the message being received is compressed.
func (c *Conn) msgCompressed() bool {
	return c.z != nil && c.z.msgZ
}

// appendMsg buffers a chunk of an incomplete message.
func (c *Conn) appendMsg(chunk []byte) {
	if len(chunk) == 0 {
		return
	}
	need := len(c.msg) + len(chunk)
	if need > cap(c.msg) {
		newCap := max(2*cap(c.msg), need)
		if c.frameFin {
			// The final size is known: never allocate past it, and
			// allocate it at once when it is modest.
			final := need + int(c.remaining)
			newCap = min(max(newCap, min(final, eagerReserve)), final)
		}
		// The limit bounds the buffer too, not only what it holds.
		newCap = min(newCap, int(min(c.msgLimit(), int64(^uint(0)>>1))))
		buf := bufpool.Get(newCap)[:len(c.msg)]
		copy(buf, c.msg)
		bufpool.Put(c.msg) // never handed out: it is ours to give back
		c.msg = buf
	}
	c.msg = append(c.msg, chunk...)
}

// msgLimit bounds the payload of the message being received: a
// compressed one gets room for deflate's overhead on data that does not
// compress, since its inflated size is what MaxMessageSize bounds.
func (c *Conn) msgLimit() int64 {
	if c.msgCompressed() {
		return c.maxSize + c.maxSize/8192 + 64
	}
	return c.maxSize
}

// finishMessage reports a complete message.
func (c *Conn) finishMessage(data []byte) *Error {
	c.inPayload = false
	if c.msgCompressed() {
		out, e := c.z.inflate(data, c.maxSize, c.server)
		bufpool.Put(data)
		if e != nil {
			return e
		}
		data = out
		c.z.msgZ = false
		c.zRelease()
		if c.msgOp == ws.OpText && !c.utf8.feed(data) {
			bufpool.Put(data)
			return newError(codeInvalidData, reasonUTF8)
		}
	}
	if c.msgOp == ws.OpText && !c.utf8.complete() {
		return newError(codeInvalidData, reasonUTF8Truncated)
	}
	c.ev = Event{Kind: KindMessage, Binary: c.msgOp == ws.OpBinary, Data: data}
	c.msgOp = 0
	return nil
}
