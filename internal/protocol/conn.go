package protocol

import "github.com/gobwas/ws"

// Conn is the protocol state of one connection, its client's end or, with
// Config.Server, its server's. It holds no buffer while idle: partial
// frames and messages are kept only while they are partial, and a large
// output buffer is dropped once drained, so that a process with many idle
// connections stays small.
type Conn struct {
	// Read side.
	msg  []byte // payload of a message still incomplete; nil otherwise
	ctrl []byte // payload of a control frame split across Next calls; nil otherwise
	ev   Event  // the event the frame just completed, until Next returns it

	remaining int64         // payload bytes of the current frame not yet seen
	streamed  int64         // bytes of the message in progress handed on already (Config.Stream)
	maxSize   int64         // resolved Config.MaxMessageSize
	err       *Error        // the violation that failed the connection, if any
	z         *deflateState // permessage-deflate, when negotiated

	// Write side.
	out        []byte    // where frames are queued; written after earlier
	earlier    *[][]byte // full buffers of a backlog, oldest first; nil when none (the common case)
	head       int       // bytes already written of the first buffer (earlier's, else out)
	payLeft    int       // payload bytes of the frame at head not yet written
	frameStart int       // where the frame at head begins, in its buffer (CarryOver)
	buffered   int       // message payload bytes queued but not yet written

	hdr       [maxHeader]byte // header bytes while a header straddles Next calls
	hdrLen    uint8           // valid bytes in hdr
	frameOp   ws.OpCode       // opcode of the current frame
	frameFin  bool            // FIN bit of the current frame
	inPayload bool            // the current frame's header is done, its payload is not
	msgOp     ws.OpCode       // OpText or OpBinary while a message is incomplete, else 0
	utf8      utf8Validator   // state of the text message being received
	key       [4]byte         // masking key of the current frame (server role)
	keyPos    uint8           // the key's byte that masks the frame's next payload byte
	server    bool            // Config.Server: the input is masked, the output is not

	// allowedRsv holds the RSV bits (in ws.Header.Rsv's layout) that a
	// negotiated extension gives meaning to. It is the hook for
	// permessage-deflate, which will set RSV1 (and must then also check
	// that RSV1 appears only on the first frame of a message). Until an
	// extension is negotiated it is zero and any RSV bit fails the
	// connection.
	allowedRsv byte

	closeSent  bool // a close frame is queued: no more writes, no more automatic replies
	closeRecv  bool // a valid close frame arrived: the rest of the input is ignored
	manualPong bool // pings are answered by the driver, not queuePong
	fragOpen   bool // a message written with WriteFragment is unfinished
	stream     bool // Config.Stream
	dataQueued bool // a message was queued since the output last drained
	dataBefore bool // and one was queued in the output drained before that
	zFrame     bool // the frame at head is a compressed message

	hdrLeft   uint8 // header bytes of the frame at head not yet written
	dataFrame bool  // the frame at head carries message payload
	pongRun   uint8 // pongs queued since the output last drained, up to maxPongRun
	pongLen   uint8 // size of the automatic pong ending out (at most 131), while none of it is written; else 0
}

// NewConn returns the state for a freshly opened connection, after the
// opening handshake succeeded.
func NewConn(cfg Config) *Conn {
	c := &Conn{maxSize: cfg.maxMessageSize(), manualPong: cfg.ManualPong, stream: cfg.Stream, server: cfg.Server}
	if cfg.Deflate != nil {
		c.z = cfg.Deflate.idleState()
		c.allowedRsv = ws.Rsv(true, false, false)
	}
	return c
}

// CloseSent reports whether a close frame has been queued, by WriteClose, by
// the automatic echo of the peer's close, or on failure. After that the
// driver only drains output and waits for the peer's close or EOF.
func (c *Conn) CloseSent() bool { return c.closeSent }

// CloseReceived reports whether a valid close frame has been received; the
// driver then closes the TCP connection once the output is drained, in
// either role (RFC 6455 7.1.1 has the server close it first, and a client
// must not wait forever for that).
func (c *Conn) CloseReceived() bool { return c.closeRecv }

// Failed returns the violation that failed the connection, or nil. It returns
// a plain error so that a nil result compares equal to nil.
func (c *Conn) Failed() error {
	if c.err == nil {
		return nil
	}
	return c.err
}

// Partial reports whether bytes of an incomplete frame or message are held,
// which the blocking API reports as pending data.
func (c *Conn) Partial() bool {
	return c.hdrLen > 0 || c.inPayload || c.msgOp != 0
}

// fail records a violation, queues the close frame that reports it to the
// peer (unless one was already sent) and drops all partial input, since
// nothing more will be read.
func (c *Conn) fail(e *Error) {
	c.err = e
	c.msg, c.ctrl, c.streamed = nil, nil, 0
	c.msgOp, c.inPayload, c.hdrLen = 0, false, 0
	if !c.closeSent {
		c.queueClose(e.Code, e.Reason)
	}
}
