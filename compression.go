package websocket

import (
	"math"

	"github.com/wsloop/websocket/internal/dial"
	"github.com/wsloop/websocket/internal/protocol"
)

// DefaultCompressionThreshold is the size under which a message goes
// uncompressed when Compression.Threshold is zero: compressing a short
// message costs more time than its few saved bytes are worth.
const DefaultCompressionThreshold = 128

// Compression sets the permessage-deflate (RFC 7692) offer and which
// messages are compressed. The zero value (and a nil Config.Compression)
// is what Chromium offers: "permessage-deflate; client_max_window_bits".
//
// Memory: a socket keeps no compressor and no decompressor; each message
// borrows them from its loop's pool. With the server's context takeover
// (unless ServerNoContextTakeover is negotiated) a socket keeps the
// server's window once it has received a compressed message: what the
// server has sent, up to 2^bits bytes (32 KiB at 15 bits; 512 bytes at 8
// and 9). The client never keeps its
// own context: each message it sends is compressed on its own, which
// every server must accept.
type Compression struct {
	// Threshold: messages shorter than this, in bytes, go uncompressed;
	// zero means DefaultCompressionThreshold. A message is sent
	// uncompressed too when compressing would not make it smaller. A
	// threshold above 2 GiB (math.MaxInt32) counts as 2 GiB.
	Threshold int
	// ServerNoContextTakeover asks the server to compress each message on
	// its own, so that the socket keeps no window between messages. A
	// server that does not confirm it fails the connection.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover tells the server that the client compresses
	// each message on its own (it always does).
	ClientNoContextTakeover bool
	// ServerMaxWindowBits, 8 to 15, asks the server for a window of at
	// most 2^bits bytes, and so a smaller window kept per socket; 0 asks
	// nothing. A server that does not confirm it fails the connection.
	ServerMaxWindowBits int
	// ClientMaxWindowBits, 8 to 15, promises a window of at most that;
	// 0 offers the parameter without a value, as Chromium does, and the
	// server may set it. The client's back-references then reach at most
	// 2^bits bytes.
	ClientMaxWindowBits int
}

// check refuses parameters RFC 7692 does not allow.
func (c *Compression) check() error {
	switch {
	case c.Threshold < 0:
		return &ConfigError{Field: "Compression.Threshold", Msg: "negative"}
	case c.ServerMaxWindowBits != 0 && (c.ServerMaxWindowBits < 8 || c.ServerMaxWindowBits > 15):
		return &ConfigError{Field: "Compression.ServerMaxWindowBits", Msg: "not 0 or 8 to 15"}
	case c.ClientMaxWindowBits != 0 && (c.ClientMaxWindowBits < 8 || c.ClientMaxWindowBits > 15):
		return &ConfigError{Field: "Compression.ClientMaxWindowBits", Msg: "not 0 or 8 to 15"}
	}
	return nil
}

// offer is the dial's offer for c, nil when compression is off.
func (c *Config) deflateOffer() *dial.DeflateOffer {
	if c.NoCompression {
		return nil
	}
	var o Compression
	if c.Compression != nil {
		o = *c.Compression
	}
	return &dial.DeflateOffer{
		ServerNoContextTakeover: o.ServerNoContextTakeover,
		ClientNoContextTakeover: o.ClientNoContextTakeover,
		ServerMaxWindowBits:     o.ServerMaxWindowBits,
		ClientMaxWindowBits:     o.ClientMaxWindowBits,
	}
}

// compressionThreshold is the threshold c gives, at most 2 GiB (see
// Compression.Threshold), for a client's socket and a server's alike.
func (c *Config) compressionThreshold() int32 {
	if c.Compression != nil && c.Compression.Threshold > 0 {
		return int32(min(c.Compression.Threshold, math.MaxInt32))
	}
	return DefaultCompressionThreshold
}

// negotiated is a permessage-deflate as a server settled it, shared by the
// sockets of a loop that settled the same: the server's words for
// Extensions, and the protocol core's Deflate, whose idle state the
// sockets share between messages.
type negotiated struct {
	ext string
	d   *protocol.Deflate
}

// maxNegotiated bounds a loop's cache of settlements: past it (sockets to
// many servers answering differently), each socket gets its own.
const maxNegotiated = 64

// negotiated is the loop's shared settlement for d with the server's words
// ext and the socket's threshold. It runs on the loop.
func (l *EventLoop) negotiated(ext string, d *dial.Deflate, threshold int) *negotiated {
	for _, n := range l.deflates {
		if n.ext == ext && n.d.Threshold == threshold && n.d.ClientMaxWindowBits == d.ClientMaxWindowBits {
			return n
		}
	}
	n := &negotiated{ext: ext, d: &protocol.Deflate{
		ServerNoContextTakeover: d.ServerNoContextTakeover,
		ServerMaxWindowBits:     d.ServerMaxWindowBits,
		ClientMaxWindowBits:     d.ClientMaxWindowBits,
		Threshold:               threshold,
		Pool:                    &l.flatePool,
	}}
	if len(l.deflates) < maxNegotiated {
		l.deflates = append(l.deflates, n)
	}
	return n
}
