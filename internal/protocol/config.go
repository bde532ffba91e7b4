package protocol

import "math"

// DefaultMaxMessageSize is the message size limit used when Config leaves it
// unset. It is large enough for ordinary application messages while keeping
// a hostile peer from making the Conn buffer without bound.
const DefaultMaxMessageSize = 32 << 20

// Config tunes a Conn. The zero value is ready to use.
type Config struct {
	// MaxMessageSize caps the size of one received message in bytes. It is
	// enforced as each frame header arrives, before any payload of that frame
	// is buffered, so an oversized message costs no memory. Zero or a
	// negative value selects DefaultMaxMessageSize: there is deliberately no
	// way to disable the limit.
	MaxMessageSize int64
	// ManualPong leaves pings unanswered: the driver's program answers
	// them itself (WritePong), as RFC 6455 5.5.3 requires it to do soon.
	ManualPong bool
	// Stream hands a message on as its bytes arrive, a KindMessage with
	// More set for each part but the last, rather than buffering it
	// whole: a message far larger than memory can then pass, still
	// bounded by MaxMessageSize. A text message's UTF-8 is checked as it
	// goes, so a part already handed on may belong to a message that
	// then fails the connection.
	Stream bool
	// Deflate, when set, is the permessage-deflate the handshake
	// negotiated: RSV1 marks a compressed message.
	Deflate *Deflate
	// Server makes the Conn the server's end of the connection (RFC 6455
	// 5.1): every frame it receives must be masked, and none it sends is.
	// The zero value is the client's end.
	Server bool
}

// maxMessageSize resolves the configured limit, clamped to what a byte slice
// can hold on this platform so that sizes derived from it always fit an int.
func (cfg Config) maxMessageSize() int64 {
	n := cfg.MaxMessageSize
	if n <= 0 {
		n = DefaultMaxMessageSize
	}
	return min(n, int64(math.MaxInt))
}
