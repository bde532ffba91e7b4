package protocol

import "encoding/binary"

// utf8Validator checks UTF-8 incrementally, one chunk at a time, so that a
// text message can be rejected as soon as the bytes seen so far cannot begin
// valid UTF-8: mid-frame, before the rest of the payload has arrived, and
// across fragment boundaries, where a code point may legitimately be split.
// All it keeps between chunks is one byte of state, so a Conn carries it for
// free. The standard library's utf8.Valid cannot do this: it only judges
// complete strings.
type utf8Validator struct {
	state utf8State
}

// utf8State is where the validator is inside a multi-byte sequence. Each
// state fixes the range the next byte must fall in; the narrower ranges after
// E0, ED, F0 and F4 are what rule out overlong forms, UTF-16 surrogates and
// code points past U+10FFFF.
type utf8State uint8

const (
	utf8Accept  utf8State = iota // between code points
	utf8Need1                    // one continuation byte 80-BF left
	utf8Need2                    // two left, next 80-BF
	utf8Need3                    // three left, next 80-BF
	utf8AfterE0                  // next A0-BF (shorter forms are overlong), then one more
	utf8AfterED                  // next 80-9F (A0-BF would be a surrogate), then one more
	utf8AfterF0                  // next 90-BF (shorter forms are overlong), then two more
	utf8AfterF4                  // next 80-8F (more would pass U+10FFFF), then two more
	utf8Reject                   // invalid; sticky so a later chunk cannot revive it
)

// utf8Step is the allowed range for the next byte in a state and the state
// that byte leads to.
type utf8Step struct {
	lo, hi byte
	next   utf8State
}

// utf8Cont is indexed by the states that expect a continuation byte.
var utf8Cont = [...]utf8Step{
	utf8Need1:   {0x80, 0xBF, utf8Accept},
	utf8Need2:   {0x80, 0xBF, utf8Need1},
	utf8Need3:   {0x80, 0xBF, utf8Need2},
	utf8AfterE0: {0xA0, 0xBF, utf8Need1},
	utf8AfterED: {0x80, 0x9F, utf8Need1},
	utf8AfterF0: {0x90, 0xBF, utf8Need2},
	utf8AfterF4: {0x80, 0x8F, utf8Need2},
}

// utf8Lead maps a byte seen between code points to the next state. A table
// keeps the per-byte work of the non-ASCII path to one load.
var utf8Lead = func() (t [256]utf8State) {
	for b := range t {
		switch {
		case b < 0x80:
			t[b] = utf8Accept
		case b < 0xC2: // continuation bytes, and C0/C1 which only start overlongs
			t[b] = utf8Reject
		case b < 0xE0:
			t[b] = utf8Need1
		case b == 0xE0:
			t[b] = utf8AfterE0
		case b == 0xED:
			t[b] = utf8AfterED
		case b < 0xF0:
			t[b] = utf8Need2
		case b == 0xF0:
			t[b] = utf8AfterF0
		case b < 0xF4:
			t[b] = utf8Need3
		case b == 0xF4:
			t[b] = utf8AfterF4
		default: // F5-FF would encode past U+10FFFF
			t[b] = utf8Reject
		}
	}
	return t
}()

// asciiMask has the high bit of each of 8 bytes set: a word ANDed with it is
// zero exactly when all 8 bytes are ASCII.
const asciiMask = 0x8080808080808080

// feed validates the next chunk and reports whether everything seen so far
// can still be the beginning of valid UTF-8.
func (v *utf8Validator) feed(p []byte) bool {
	s := v.state
	// Finish a sequence left open by the previous chunk one byte at a time:
	// it is at most three bytes.
	for s != utf8Accept && s != utf8Reject && len(p) > 0 {
		s = utf8Next(s, p[0])
		p = p[1:]
	}
	for s == utf8Accept && len(p) > 0 {
		if p[0] < 0x80 {
			// Text is mostly ASCII: skip it 16 and then 8 bytes at a
			// time, and the few bytes before the next non-ASCII one
			// singly.
			for len(p) >= 16 && (binary.LittleEndian.Uint64(p)|binary.LittleEndian.Uint64(p[8:]))&asciiMask == 0 {
				p = p[16:]
			}
			for len(p) >= 8 && binary.LittleEndian.Uint64(p)&asciiMask == 0 {
				p = p[8:]
			}
			for len(p) > 0 && p[0] < 0x80 {
				p = p[1:]
			}
			continue
		}
		// With 4 bytes left any sequence fits, so check it at once
		// instead of byte by byte: the second byte has the lead's own
		// range, and the state it leads to is the number of plain
		// continuation bytes that follow. Anything else (an invalid
		// byte, a sequence that may run past the chunk) is left to the
		// byte-wise loop below, which has the exact rules.
		lead := utf8Lead[p[0]]
		if lead == utf8Reject || len(p) < 4 {
			break
		}
		st := utf8Cont[lead]
		if p[1] < st.lo || p[1] > st.hi {
			break
		}
		switch st.next {
		case utf8Accept:
			p = p[2:]
			continue
		case utf8Need1:
			if p[2]&0xC0 == 0x80 {
				p = p[3:]
				continue
			}
		default: // utf8Need2
			if p[2]&0xC0 == 0x80 && p[3]&0xC0 == 0x80 {
				p = p[4:]
				continue
			}
		}
		break
	}
	for s != utf8Reject && len(p) > 0 {
		s = utf8Next(s, p[0])
		p = p[1:]
	}
	v.state = s
	return s != utf8Reject
}

// utf8Next is the transition function, one byte at a time, for the edges of
// chunks where a sequence may be split.
func utf8Next(s utf8State, b byte) utf8State {
	if s == utf8Accept {
		if b < 0x80 {
			return utf8Accept
		}
		return utf8Lead[b]
	}
	if s == utf8Reject {
		return s
	}
	st := utf8Cont[s]
	if b < st.lo || b > st.hi {
		return utf8Reject
	}
	return st.next
}

// complete reports whether the input ended between code points, which is
// required at the end of a message: a dangling lead byte is invalid there even
// though it was a fine prefix.
func (v *utf8Validator) complete() bool {
	return v.state == utf8Accept
}

// validUTF8 validates a complete string with the same rules, for close
// reasons.
func validUTF8(p []byte) bool {
	var v utf8Validator
	return v.feed(p) && v.complete()
}
