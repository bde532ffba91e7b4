package protocol

import "github.com/gobwas/ws"

// The two ends of a connection differ on the wire in masking alone (RFC
// 6455 5.1 and 5.3): a client masks every frame it sends, each with a key
// of its own, and a server masks none; each end fails the connection on a
// frame masked the other way. permessage-deflate names its settings by end
// too (RFC 7692 7.1), so which of them govern what a Conn sends and which
// what it receives follows from its role. Every other rule is the same for
// both ends and is written once, role-blind.

// maskError is the failure for a frame masked the wrong way for this end,
// which checkStart finds from the frame's second byte.
func (c *Conn) maskError() *Error {
	if c.server {
		// RFC 6455 5.1: "The server MUST close the connection upon
		// receiving a frame that is not masked."
		return newError(codeProtocolError, reasonUnmasked)
	}
	// A client must close on a masked frame from the server.
	return newError(codeProtocolError, reasonMasked)
}

// unmask removes the client's mask from b, the next bytes of the current
// frame's payload (server role), where they landed once copied out of the
// caller's input: the input is only read, never written, so that the
// driver's buffer means the same after Next as before.
func (c *Conn) unmask(b []byte) {
	ws.Cipher(b, c.key, int(c.keyPos))
	c.keyPos = (c.keyPos + uint8(len(b))) & 3
}

// frameKey returns the masking key of the next frame this end sends, and
// the mask bit of its header: a client masks each frame with a fresh key
// (see mask.go), a server none.
func (c *Conn) frameKey() (key [4]byte, mask byte) {
	if c.server {
		return key, 0
	}
	return newMaskKey(), bitMask
}

// maskOut masks b, the payload of a frame this end sends with key, in
// place in the output (client role).
func (c *Conn) maskOut(b []byte, key [4]byte) {
	if !c.server {
		ws.Cipher(b, key, 0)
	}
}

// peerWindow is the window the peer compresses with, which a Conn inflates
// by: how far back its messages refer (2^bits), and whether they refer to
// its earlier messages at all.
func (d *Deflate) peerWindow(server bool) (bits int, noContextTakeover bool) {
	if server {
		return d.ClientMaxWindowBits, d.ClientNoContextTakeover
	}
	return d.ServerMaxWindowBits, d.ServerNoContextTakeover
}

// ownWindowBits bounds how far back the messages a Conn compresses refer.
// Its own context takeover setting is never needed: a Conn compresses each
// message on its own, which RFC 7692 allows either end whatever was
// negotiated.
func (d *Deflate) ownWindowBits(server bool) int {
	if server {
		return d.ServerMaxWindowBits
	}
	return d.ClientMaxWindowBits
}
