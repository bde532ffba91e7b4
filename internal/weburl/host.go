package weburl

import (
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// parseHost is the host parser for a special URL: an IPv6 address in
// brackets, else a domain put through IDNA, which is an IPv4 address when
// its last label is a number. It returns the serialized host, or a failure
// reason.
func parseHost(s string) (string, string) {
	if strings.HasPrefix(s, "[") {
		if !strings.HasSuffix(s, "]") {
			return "", "the IPv6 address has no closing bracket"
		}
		a, reason := parseIPv6(s[1 : len(s)-1])
		if reason != "" {
			return "", reason
		}
		return "[" + serializeIPv6(a) + "]", ""
	}
	d, reason := domainToASCII(strings.ToValidUTF8(percentDecode(s), "\uFFFD"))
	if reason != "" {
		return "", reason
	}
	if endsInNumber(d) {
		a, reason := parseIPv4(d)
		if reason != "" {
			return "", reason
		}
		return serializeIPv4(a), ""
	}
	return d, ""
}

// lookup is UTS #46 ToASCII with the flags the standard's "domain to ASCII"
// gives it when not strict: CheckHyphens, UseSTD3ASCIIRules and
// VerifyDnsLength off; CheckBidi and CheckJoiners on; nontransitional.
var lookup = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.CheckHyphens(false),
	idna.CheckJoiners(true),
	idna.StrictDomainName(false),
	idna.VerifyDNSLength(false),
)

// domainToASCII is the standard's "domain to ASCII" with beStrict false.
func domainToASCII(d string) (string, string) {
	if needsIDNA(d) {
		a, err := lookup.ToASCII(d)
		if err != nil {
			return "", "the host is not a valid internationalized domain name: " + err.Error()
		}
		d = a
	} else {
		d = strings.ToLower(d)
	}
	if d == "" {
		return "", "the host is empty"
	}
	if i := strings.IndexFunc(d, isForbiddenDomain); i >= 0 {
		return "", "the host contains the forbidden code point " + strconv.QuoteRune(rune(d[i]))
	}
	return d, ""
}

// needsIDNA is false where the standard lets ToASCII be a lower-casing: an
// ASCII domain none of whose labels starts with xn--.
func needsIDNA(d string) bool {
	for i := 0; i < len(d); i++ {
		if d[i] >= 0x80 {
			return true
		}
	}
	for label := range strings.SplitSeq(d, ".") {
		if len(label) >= 4 && strings.EqualFold(label[:4], "xn--") {
			return true
		}
	}
	return false
}

// isForbiddenDomain reports a forbidden domain code point: a forbidden
// host code point, a C0 control, % or DEL.
func isForbiddenDomain(r rune) bool {
	return r <= 0x20 || r == 0x7f || strings.ContainsRune("#%/:<>?@[\\]^|", r)
}

// endsInNumber reports whether the domain's last label (ignoring one empty
// label after a final dot) is a number, which makes the domain an IPv4
// address or a failure.
func endsInNumber(d string) bool {
	d = strings.TrimSuffix(d, ".")
	if d == "" {
		return false
	}
	last := d[strings.LastIndexByte(d, '.')+1:]
	if last != "" && strings.TrimLeft(last, "0123456789") == "" {
		return true
	}
	_, ok := parseIPv4Number(last)
	return ok
}

// parseIPv4 is the IPv4 parser: one to four numbers, each decimal, octal
// (a leading 0) or hexadecimal (a leading 0x), the last filling the
// remaining bytes.
func parseIPv4(d string) (uint32, string) {
	parts := strings.Split(d, ".")
	if parts[len(parts)-1] == "" && len(parts) > 1 {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 4 {
		return 0, "the IPv4 address has more than four parts"
	}
	var nums [4]uint64
	for i, p := range parts {
		n, ok := parseIPv4Number(p)
		if !ok {
			return 0, "the IPv4 address has a part that is not a number"
		}
		nums[i] = n
	}
	last := len(parts) - 1
	for _, n := range nums[:last] {
		if n > 255 {
			return 0, "a part of the IPv4 address is greater than 255"
		}
	}
	if nums[last] >= 1<<(8*(5-len(parts))) {
		return 0, "the IPv4 address is out of range"
	}
	a := nums[last]
	for i, n := range nums[:last] {
		a += n << (8 * (3 - i))
	}
	return uint32(a), ""
}

// parseIPv4Number parses one part of an IPv4 address. Values past 2^32
// saturate, so that an overlong part is out of range rather than wrapped.
func parseIPv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		s, base = s[2:], 16
	case len(s) >= 2 && s[0] == '0':
		s, base = s[1:], 8
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case base == 16 && isHex(c):
			d = uint64(unhex(c))
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		n = min(n*base+d, 1<<33)
	}
	return n, true
}

func serializeIPv4(a uint32) string {
	b := make([]byte, 0, 15)
	for i := 3; i >= 0; i-- {
		b = strconv.AppendUint(b, uint64(a>>(8*i)&0xff), 10)
		if i > 0 {
			b = append(b, '.')
		}
	}
	return string(b)
}

// parseIPv6 is the IPv6 parser: eight 16-bit pieces, one run of zero
// pieces written ::, and an IPv4 address for the last two.
func parseIPv6(s string) ([8]uint16, string) {
	var a [8]uint16
	const bad = "the IPv6 address is invalid"
	piece, compress, i := 0, -1, 0
	if strings.HasPrefix(s, ":") {
		if !strings.HasPrefix(s, "::") {
			return a, bad
		}
		i += 2
		piece++
		compress = piece
	}
	for i < len(s) {
		if piece == 8 {
			return a, bad
		}
		if s[i] == ':' {
			if compress >= 0 {
				return a, bad
			}
			i++
			piece++
			compress = piece
			continue
		}
		value, length := uint16(0), 0
		for length < 4 && i < len(s) && isHex(s[i]) {
			value = value<<4 | uint16(unhex(s[i]))
			i++
			length++
		}
		if i < len(s) && s[i] == '.' {
			if length == 0 || piece > 6 {
				return a, bad
			}
			i -= length
			v4, ok := parseIPv6Tail(s[i:])
			if !ok {
				return a, bad
			}
			a[piece], a[piece+1] = uint16(v4>>16), uint16(v4)
			piece += 2
			break
		}
		if i < len(s) {
			if s[i] != ':' {
				return a, bad
			}
			i++
			if i == len(s) {
				return a, bad
			}
		}
		a[piece] = value
		piece++
	}
	if compress >= 0 {
		// Move the pieces after the :: to the end.
		n := piece - compress
		copy(a[8-n:], a[compress:piece])
		clear(a[compress : 8-n])
	} else if piece != 8 {
		return a, bad
	}
	return a, ""
}

// parseIPv6Tail parses the dotted IPv4 address that may end an IPv6
// address: four decimal numbers, no leading zeros.
func parseIPv6Tail(s string) (uint32, bool) {
	var v uint32
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return 0, false
	}
	for _, p := range parts {
		if p == "" || len(p) > 1 && p[0] == '0' || strings.TrimLeft(p, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.Atoi(p)
		if err != nil || n > 255 {
			return 0, false
		}
		v = v<<8 | uint32(n)
	}
	return v, true
}

// serializeIPv6 writes the pieces in lower-case hex, the first longest run
// of two or more zero pieces written ::.
func serializeIPv6(a [8]uint16) string {
	start, n := -1, 1
	for i := 0; i < 8; {
		j := i
		for j < 8 && a[j] == 0 {
			j++
		}
		if j-i > n {
			start, n = i, j-i
		}
		i = j + 1
	}
	var b []byte
	for i := 0; i < 8; i++ {
		if i == start {
			if i == 0 {
				b = append(b, ':')
			}
			b = append(b, ':')
			i += n - 1
			continue
		}
		b = strconv.AppendUint(b, uint64(a[i]), 16)
		if i < 7 {
			b = append(b, ':')
		}
	}
	return string(b)
}
