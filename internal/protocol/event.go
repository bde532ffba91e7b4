package protocol

// Kind says what an Event reports.
type Kind uint8

// The kinds of events Next reports. The zero Kind is left unused so that a
// zero Event is recognisably empty.
const (
	// KindMessage is a complete text or binary message.
	KindMessage Kind = iota + 1
	// KindPing is a ping from the peer; the pong reply is already queued
	// unless a close frame was sent before it arrived or Config.ManualPong
	// is set.
	KindPing
	// KindPong is a pong from the peer, solicited or not.
	KindPong
	// KindClose is a valid close frame from the peer; the echo is already
	// queued unless the Conn had sent its own close first.
	KindClose
)

// String names the kind for logs and test failures.
func (k Kind) String() string {
	switch k {
	case KindMessage:
		return "message"
	case KindPing:
		return "ping"
	case KindPong:
		return "pong"
	case KindClose:
		return "close"
	}
	return "invalid kind"
}

// Event is one thing that happened on the connection, in wire order. Its
// fields are ordered for size: the Conn holds one while a frame completes.
type Event struct {
	// Data is the whole payload of a KindMessage, in a buffer from
	// bufpool owned by the caller, so it can be handed on without copying.
	// For KindPing and KindPong it is a copy of the payload, also owned by
	// the caller, and may be nil when the payload is empty.
	Data []byte
	// Reason is the reason text of a KindClose, already checked to be UTF-8.
	Reason string
	// Code is the status code of a KindClose, or 0 when the close frame had
	// no payload.
	Code uint16
	Kind Kind
	// Binary tells a binary message (true) from a text one (false) for
	// KindMessage.
	Binary bool
	// More marks a KindMessage that is a part of its message, with more
	// to follow (Config.Stream); the last part has it unset.
	More bool
}
