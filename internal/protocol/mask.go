package protocol

import (
	"crypto/rand"
	"sync"
)

// RFC 6455 requires every client frame to carry a fresh masking key from a
// strong source of entropy, so that a script cannot choose the bytes that
// appear on the wire (the cache-poisoning attack on intermediaries). A
// crypto/rand call per frame would be a syscall per frame, so keys are carved
// out of pooled buffers filled 256 bytes at a time: one refill serves 64
// frames, and the pool keeps the buffers off every Conn, so idle connections
// pay nothing for them.

// keyBufSize is how many random bytes one refill fetches.
const keyBufSize = 256

// keyBuf is a pooled buffer of random bytes; off is the first unused byte.
type keyBuf struct {
	b   [keyBufSize]byte
	off int
}

// keyPool hands each caller exclusive use of a buffer, so concurrent
// connections never reuse a key and need no lock of their own.
var keyPool = sync.Pool{
	New: func() any { return &keyBuf{off: keyBufSize} },
}

// newMaskKey returns a masking key that no other frame has used. Bytes are
// never handed out twice: a buffer is refilled before its bytes run out.
func newMaskKey() (key [4]byte) {
	kb := keyPool.Get().(*keyBuf)
	if kb.off+len(key) > keyBufSize {
		// crypto/rand.Read never fails since Go 1.24 (it aborts the program
		// instead), so there is no error to handle.
		rand.Read(kb.b[:])
		kb.off = 0
	}
	copy(key[:], kb.b[kb.off:])
	kb.off += len(key)
	keyPool.Put(kb)
	return key
}
