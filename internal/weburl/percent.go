package weburl

import (
	"strings"
	"unicode/utf8"
)

// encodeSet is a percent-encode set over ASCII; every code point above
// U+007E is in every set.
type encodeSet [2]uint64

func (s encodeSet) has(c byte) bool { return c >= 0x7f || s[c>>6]&(1<<(c&63)) != 0 }

func (s encodeSet) with(chars string) encodeSet {
	for i := 0; i < len(chars); i++ {
		c := chars[i]
		s[c>>6] |= 1 << (c & 63)
	}
	return s
}

// The standard's sets (https://url.spec.whatwg.org/#percent-encoded-bytes),
// each built on the one before as the standard defines them.
var (
	c0ControlSet    = encodeSet{1<<32 - 1, 0}
	fragmentSet     = c0ControlSet.with(" \"<>`")
	querySet        = c0ControlSet.with(" \"#<>")
	specialQuerySet = querySet.with("'")
	pathSet         = querySet.with("?`{}")
	userinfoSet     = pathSet.with("/:;=@[\\]^|")
)

const upperHex = "0123456789ABCDEF"

// percentEncode is the UTF-8 percent-encoding of s with set. A byte that is
// not part of valid UTF-8 stands for U+FFFD, as in a USVString.
func percentEncode(s string, set encodeSet) string {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf && !set.has(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	var buf [utf8.UTFMax]byte
	for _, r := range s[i:] {
		if r < utf8.RuneSelf && !set.has(byte(r)) {
			b.WriteByte(byte(r))
			continue
		}
		n := utf8.EncodeRune(buf[:], r)
		for _, c := range buf[:n] {
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
	return b.String()
}

// percentDecode turns each %XX into its byte and leaves a % not followed by
// two hex digits as it is.
func percentDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}
