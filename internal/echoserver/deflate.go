package echoserver

import (
	"bytes"
	"compress/flate"
	"io"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// The echo server's permessage-deflate (Options.Compression): it accepts
// the client's offer without context takeover either way, inflates the
// client's compressed messages whole and compresses every message it
// sends, so that the examples and the tests see compression at work.

// deflateExt is the extension the upgrader negotiates: no context
// takeover either way, so that each message stands alone.
func deflateExt() *wsflate.Extension {
	return &wsflate.Extension{Parameters: wsflate.Parameters{
		ServerNoContextTakeover: true,
		ClientNoContextTakeover: true,
	}}
}

// flateTail ends a message's compressed bytes for the inflater: the four
// bytes the sender cut off, then a final empty block.
var flateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// inflate decompresses a client's message, bounded by maxMessageSize; a
// text message must be UTF-8 once inflated.
func inflate(op ws.OpCode, p []byte) ([]byte, error) {
	r := flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader(flateTail)))
	out, err := io.ReadAll(io.LimitReader(r, maxMessageSize+1))
	switch {
	case err != nil:
		return nil, &shutdown{body: ws.NewCloseFrameBody(ws.StatusInvalidFramePayloadData, "not deflate data"), linger: lingerFrames}
	case len(out) > maxMessageSize:
		return nil, &shutdown{body: ws.NewCloseFrameBody(ws.StatusMessageTooBig, "message too big"), linger: lingerFrames}
	case op == ws.OpText && !utf8.Valid(out):
		return nil, &shutdown{body: ws.NewCloseFrameBody(ws.StatusInvalidFramePayloadData, "invalid UTF-8"), linger: lingerFrames}
	}
	return out, nil
}

// writeCompressed sends p as one compressed message.
func (c *session) writeCompressed(op ws.OpCode, p []byte) error {
	var buf bytes.Buffer
	if c.fw == nil {
		c.fw, _ = flate.NewWriter(&buf, flate.BestSpeed)
	}
	c.fw.Reset(&buf)
	c.fw.Write(p)
	c.fw.Flush()
	z := bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
	h := ws.Header{Fin: true, Rsv: ws.Rsv(true, false, false), OpCode: op, Length: int64(len(z))}
	if err := ws.WriteHeader(c.bw, h); err != nil {
		return err
	}
	if _, err := c.bw.Write(z); err != nil {
		return err
	}
	return c.bw.Flush()
}
