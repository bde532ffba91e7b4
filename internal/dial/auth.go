package dial

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/http"
	"strings"
)

// Credentials answer the server's HTTP authentication challenge.
type Credentials struct {
	Username, Password string
	// Preemptive sends Basic credentials with the first request.
	Preemptive bool
}

// basicAuth is the Authorization value of RFC 7617.
func basicAuth(c *Credentials) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(c.Username+":"+c.Password))
}

// answerChallenge is the Authorization header for a 401 response's
// WWW-Authenticate challenges, the strongest scheme first (Digest with
// SHA-256, Digest with MD5, Basic), for a GET of target; "" when none can
// be answered.
func answerChallenge(h http.Header, c *Credentials, target string) string {
	var basic bool
	var best map[string]string
	for _, ch := range parseChallenges(h.Values("Www-Authenticate")) {
		switch ch.scheme {
		case "basic":
			basic = true
		case "digest":
			if digestHash(ch.params["algorithm"]) == nil {
				continue
			}
			if best == nil || strings.HasPrefix(strings.ToUpper(ch.params["algorithm"]), "SHA-256") {
				best = ch.params
			}
		}
	}
	if best != nil {
		if a := digestAuth(best, c, target, newCnonce()); a != "" {
			return a
		}
	}
	if basic {
		return basicAuth(c)
	}
	return ""
}

// digestHash is the hash of a Digest algorithm: MD5 (also when none is
// named) or SHA-256, each possibly "-sess"; nil for others (SHA-512-256).
func digestHash(algorithm string) func() hash.Hash {
	switch strings.TrimSuffix(strings.ToUpper(algorithm), "-SESS") {
	case "", "MD5":
		return md5.New
	case "SHA-256":
		return sha256.New
	}
	return nil
}

func newCnonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// digestAuth answers a Digest challenge (RFC 7616 3.4) for a GET of uri,
// with qop "auth" when the server offers it; "" when it offers only
// auth-int, which a GET without a body never needs.
func digestAuth(ch map[string]string, c *Credentials, uri, cnonce string) string {
	newHash := digestHash(ch["algorithm"])
	h := func(parts ...string) string {
		d := newHash()
		d.Write([]byte(strings.Join(parts, ":")))
		return hex.EncodeToString(d.Sum(nil))
	}
	realm, nonce := ch["realm"], ch["nonce"]
	qop := ""
	if q, ok := ch["qop"]; ok {
		for _, o := range strings.Split(q, ",") {
			if strings.TrimSpace(o) == "auth" {
				qop = "auth"
			}
		}
		if qop == "" {
			return ""
		}
	}
	const nc = "00000001"
	ha1 := h(c.Username, realm, c.Password)
	if strings.HasSuffix(strings.ToUpper(ch["algorithm"]), "-SESS") {
		ha1 = h(ha1, nonce, cnonce)
	}
	ha2 := h("GET", uri)
	var response string
	if qop != "" {
		response = h(ha1, nonce, nc, cnonce, qop, ha2)
	} else {
		response = h(ha1, nonce, ha2)
	}
	var b strings.Builder
	b.WriteString("Digest ")
	param := func(k, v string, quoted bool) {
		if b.Len() > len("Digest ") {
			b.WriteString(", ")
		}
		b.WriteString(k + "=")
		if quoted {
			v = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
		}
		b.WriteString(v)
	}
	param("username", c.Username, true)
	param("realm", realm, true)
	param("nonce", nonce, true)
	param("uri", uri, true)
	if a, ok := ch["algorithm"]; ok {
		param("algorithm", a, false)
	}
	param("response", response, true)
	if o, ok := ch["opaque"]; ok {
		param("opaque", o, true)
	}
	if qop != "" {
		param("qop", qop, false)
		param("nc", nc, false)
		param("cnonce", cnonce, true)
	}
	return b.String()
}

// challenge is one of WWW-Authenticate's challenges: its scheme, lower
// case, and its parameters, names lower case.
type challenge struct {
	scheme string
	params map[string]string
}

// parseChallenges reads WWW-Authenticate values (RFC 9110 11.6.1): each a
// list of challenges, a challenge being a scheme and then comma-separated
// name=value parameters, values tokens or quoted strings. A token68
// challenge (Negotiate's) keeps no parameters.
func parseChallenges(values []string) []challenge {
	var out []challenge
	for _, v := range values {
		p := &authParser{s: v}
		for {
			p.skip(" \t,")
			scheme := p.token()
			if scheme == "" {
				break
			}
			ch := challenge{scheme: strings.ToLower(scheme), params: map[string]string{}}
			p.skip(" \t")
			if p.peekToken68() {
				p.token68()
				out = append(out, ch)
				continue
			}
			for {
				// A name and "=" make a parameter; a name alone is the
				// next challenge's scheme.
				save := p.i
				name := p.token()
				p.skip(" \t")
				if name == "" || !p.take('=') {
					p.i = save
					break
				}
				p.skip(" \t")
				ch.params[strings.ToLower(name)] = p.value()
				p.skip(" \t")
				if !p.take(',') {
					break
				}
				p.skip(" \t,")
			}
			out = append(out, ch)
		}
	}
	return out
}

type authParser struct {
	s string
	i int
}

func (p *authParser) skip(chars string) {
	for p.i < len(p.s) && strings.IndexByte(chars, p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *authParser) take(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *authParser) token() string {
	start := p.i
	for p.i < len(p.s) && isTokenByte(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// peekToken68 reports a token68 ahead (base64 with trailing "="s), which
// is not followed by a name=value.
func (p *authParser) peekToken68() bool {
	j := p.i
	for j < len(p.s) && (isTokenByte(p.s[j]) || p.s[j] == '/') {
		j++
	}
	for j < len(p.s) && p.s[j] == '=' {
		j++
	}
	return j > p.i && (j == len(p.s) || p.s[j] == ',' || p.s[j] == ' ')
}

func (p *authParser) token68() {
	for p.i < len(p.s) && (isTokenByte(p.s[p.i]) || p.s[p.i] == '/' || p.s[p.i] == '=') {
		p.i++
	}
}

// value is a token or a quoted string, unquoted.
func (p *authParser) value() string {
	if !p.take('"') {
		return p.token()
	}
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '"':
			return b.String()
		case c == '\\' && p.i < len(p.s):
			b.WriteByte(p.s[p.i])
			p.i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// isTokenByte reports an RFC 9110 tchar.
func isTokenByte(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return !strings.ContainsRune(`()<>@,;:\"/[]?={}`, rune(c))
}
