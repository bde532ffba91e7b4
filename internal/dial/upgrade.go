package dial

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
)

// httpUpgrade is the HTTP upgrade stage, by gobwas's Dialer with the
// request line and the response head checked as a browser does (headConn).
func httpUpgrade(ctx context.Context, conn net.Conn, o Options, authorization string) (Result, error) {
	header := o.Header
	if o.Jar != nil {
		header = withCookies(header, o.Jar.Cookies(cookieURL(o.URL)))
	}
	if authorization != "" {
		header = header.Clone()
		if header == nil {
			header = http.Header{}
		}
		header.Set("Authorization", authorization)
	}
	d := ws.Dialer{
		Protocols: o.Protocols,
		Header:    ws.HandshakeHeaderHTTP(header),
		Host:      o.URL.HostPort(),
	}
	if o.Deflate != nil {
		d.Extensions = []httphead.Option{o.Deflate.option()}
	}
	hc := &headConn{Conn: conn, target: o.URL.RequestTarget()}
	br, hs, err := d.Upgrade(hc, placeholderURL)
	if o.Jar != nil {
		// A browser keeps the cookies of a refusal too (a login page's
		// 401, a load balancer's 503).
		if h := responseHeader(hc); h != nil {
			storeCookies(o.Jar, o.URL, h)
		}
	}
	if err != nil {
		if br != nil {
			ws.PutReader(br)
		}
		stage := StageHandshake
		if isTLSAlert(err) {
			// In TLS 1.3 the server checks the client's certificate
			// after the client's handshake is done, and its refusal
			// comes with the first read.
			stage = StageTLS
		}
		e := &Error{Stage: stage, Err: ctxErr(ctx, err)}
		if r := hc.refusal; r != nil {
			e.Status, e.StatusLine, e.Header, e.Body, e.Err = r.code, r.line, r.header, r.body, r
		}
		return Result{}, e
	}
	if len(o.Protocols) > 0 && hs.Protocol == "" {
		// The WHATWG standard (and every browser) fails a connection
		// whose server picks none of the protocols offered, where RFC
		// 6455 would let the client decide.
		if br != nil {
			ws.PutReader(br)
		}
		return Result{}, &Error{Stage: StageHandshake, Err: errNoProtocol}
	}
	// The extensions are read from the head here rather than taken from
	// gobwas, which skips a header whose name's case it does not expect.
	head := ParseHeader(hc.head)
	deflate, err := acceptExtensions(o.Deflate, head.Values("Sec-Websocket-Extensions"))
	if err != nil {
		if br != nil {
			ws.PutReader(br)
		}
		return Result{}, &Error{Stage: StageHandshake, Err: err}
	}
	res := Result{Conn: conn, Protocol: hs.Protocol, Head: append([]byte(nil), hc.head...), Deflate: deflate}
	if deflate != nil {
		res.Extensions = strings.Join(head.Values("Sec-Websocket-Extensions"), ", ")
	}
	if br != nil {
		if n := br.Buffered(); n > 0 {
			p, _ := br.Peek(n)
			res.Leftover = append([]byte(nil), p...)
		}
		ws.PutReader(br)
	}
	return res, nil
}

// maxResponseHead bounds the bytes read for the handshake response (status
// line and headers, plus any frames read along with them): gobwas reads
// lines without a limit, and a server streaming an endless header must not
// make the client buffer it.
const maxResponseHead = 64 << 10

// errResponseTooLarge is the handshake error past maxResponseHead.
var errResponseTooLarge = errors.New("handshake response header larger than 64 KiB")

// errNoProtocol is the handshake error when the server selects none of
// the protocols offered.
var errNoProtocol = errors.New("the server selected none of the protocols offered")

// headConn reads the whole handshake response head (bounded by
// maxResponseHead) before gobwas sees any of it, so that the head can be
// checked as a browser does where gobwas is stricter: a Connection header
// holding the upgrade token among others ("keep-alive, Upgrade") is valid
// (RFC 6455 4.1, and every browser accepts it) but gobwas wants exactly
// "Upgrade"; such a line is handed to gobwas as "Connection: Upgrade".
// Bytes read past the head (the first frames) follow it unchanged.
type headConn struct {
	net.Conn
	target  string   // the request-target, until the request line is written
	head    []byte   // the 101 response's head, as it came
	buf     []byte   // the head, then whatever was read with it, still to serve
	err     error    // the error that ended reading the head, served after buf
	refusal *refusal // the response, when it was not an HTTP/1.1 101
	done    bool     // the head has been read
	read    int      // bytes read from Conn
}

func (c *headConn) Read(p []byte) (int, error) {
	if !c.done {
		c.done = true
		c.readHead()
	}
	if len(c.buf) > 0 {
		n := copy(p, c.buf)
		c.buf = c.buf[n:]
		return n, nil
	}
	if c.err != nil {
		return 0, c.err
	}
	// Past the head gobwas reads at most a buffer of frames, or, for a
	// refusal, the response it parses: neither may be endless.
	if c.read >= 2*maxResponseHead {
		return 0, errResponseTooLarge
	}
	n, err := c.Conn.Read(p[:min(len(p), 2*maxResponseHead-c.read)])
	c.read += n
	return n, err
}

// placeholderURL gives gobwas a request-target that headConn.Write
// replaces. gobwas takes the target from a net/url URL, whose RequestURI
// escapes a path by RFC 3986 rules and cannot start with "//"; a browser
// sends the URL standard's serialization as it is.
var placeholderURL = &url.URL{Opaque: "/"}

const placeholderLine = "GET / HTTP/1.1\r\n"

// Write sends the request with the real request-target in its request
// line, which gobwas writes first and whole, its buffer being larger.
func (c *headConn) Write(p []byte) (int, error) {
	if c.target == "" {
		return c.Conn.Write(p)
	}
	if !bytes.HasPrefix(p, []byte(placeholderLine)) {
		return 0, errors.New("dial: the upgrade request does not start with the expected request line")
	}
	b := make([]byte, 0, len(p)+len(c.target)+8)
	b = append(b, "GET "...)
	b = append(b, c.target...)
	b = append(b, p[len("GET /"):]...)
	b = spaceOptions(b)
	c.target = ""
	if _, err := c.Conn.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *headConn) readHead() {
	buf := make([]byte, 0, 4096)
	status := false // the status line is complete and well formed
	for {
		if i := bytes.IndexByte(buf, '\n'); !status && i >= 0 {
			if !validStatusLine(bytes.TrimSuffix(buf[:i], []byte("\r"))) {
				// gobwas reads any byte from '0' to '?' as a digit, so a
				// status such as "0:1" would pass as 101.
				c.err = errMalformedStatus
				return
			}
			status = true
		}
		if end := headEnd(buf); end >= 0 {
			if !switching(buf) {
				// A refusal: it is kept whole for the error, and
				// gobwas is not asked.
				c.refusal = readRefusal(buf[:end], buf[end:], c.Conn)
				c.err = c.refusal
				return
			}
			if c.err = repeatedHeader(buf[:end]); c.err != nil {
				return
			}
			c.head = buf[:end]
			c.buf = append(normalizeConnection(buf[:end]), buf[end:]...)
			return
		}
		if len(buf) >= maxResponseHead {
			c.err = errResponseTooLarge
			return
		}
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, min(cap(buf), maxResponseHead-cap(buf)))...)[:len(buf)]
		}
		n, err := c.Conn.Read(buf[len(buf):min(cap(buf), maxResponseHead)])
		c.read += n
		buf = buf[:len(buf)+n]
		if err != nil {
			c.buf, c.err = buf, err
			return
		}
	}
}

// errMalformedStatus is the handshake error for a status line that is not
// "HTTP/<digit>.<digit> <three digits>".
var errMalformedStatus = errors.New("malformed HTTP status line in the handshake response")

// validStatusLine checks the HTTP status line's version and code shape.
func validStatusLine(line []byte) bool {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/")) || line[6] != '.' || line[8] != ' ' ||
		(len(line) > 12 && line[12] != ' ') {
		return false
	}
	for _, c := range []byte{line[5], line[7], line[9], line[10], line[11]} {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// switching reports a status line of HTTP/1.1 101, with a reason phrase
// or without one.
func switching(head []byte) bool {
	const s = "HTTP/1.1 101"
	return bytes.HasPrefix(head, []byte(s)) && len(head) > len(s) && strings.IndexByte(" \r\n", head[len(s)]) >= 0
}

// headEnd is where the response's head ends, after its blank line, or -1.
// Lines end with CRLF or, as browsers and gobwas also read them, a bare
// LF.
func headEnd(buf []byte) int {
	end := -1
	for _, sep := range []string{"\n\r\n", "\n\n"} {
		if i := bytes.Index(buf, []byte(sep)); i >= 0 && (end < 0 || i+len(sep) < end) {
			end = i + len(sep)
		}
	}
	return end
}

// headLines splits a head into its lines, without their line ends.
func headLines(head []byte) [][]byte {
	lines := bytes.Split(head, []byte("\n"))
	for i, l := range lines {
		lines[i] = bytes.TrimSuffix(l, []byte("\r"))
	}
	return lines
}

// onceHeaders are the headers of a 101 response that RFC 6455 allows only
// once (11.3.3, 11.3.4): with two, the server has said two things, and
// Chromium fails the connection, where gobwas would take the last.
var onceHeaders = []string{"Sec-WebSocket-Protocol", "Sec-WebSocket-Accept", "Upgrade"}

// repeatedHeader returns the handshake error for a 101 head that has a
// header of onceHeaders more than once, or nil.
func repeatedHeader(head []byte) error {
	seen := make([]int, len(onceHeaders))
	for _, line := range headLines(head)[1:] {
		name, _, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		for i, want := range onceHeaders {
			if bytes.EqualFold(bytes.TrimSpace(name), []byte(want)) {
				if seen[i]++; seen[i] > 1 {
					return fmt.Errorf("the handshake response has %s more than once; RFC 6455 allows one", want)
				}
			}
		}
	}
	return nil
}

// normalizeConnection rewrites a Connection header line whose token list
// holds "upgrade" to exactly "Connection: Upgrade".
func normalizeConnection(head []byte) []byte {
	lines := headLines(head)
	for i, line := range lines {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || !bytes.EqualFold(bytes.TrimSpace(name), []byte("Connection")) {
			continue
		}
		for _, tok := range bytes.Split(value, []byte(",")) {
			if bytes.EqualFold(bytes.TrimSpace(tok), []byte("upgrade")) {
				lines[i] = []byte("Connection: Upgrade")
				break
			}
		}
	}
	return bytes.Join(lines, []byte("\r\n"))
}

// isTLSAlert reports an alert the TLS peer sent, which crypto/tls reports
// as a *net.OpError with Op "remote error".
func isTLSAlert(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "remote error"
}

// spaceOptions writes the request's extension offer as browsers write it,
// a space after each semicolon ("permessage-deflate; client_max_window_bits";
// gobwas writes none), so that a server sees Chromium's very words.
func spaceOptions(req []byte) []byte {
	const name = "Sec-WebSocket-Extensions: "
	i := bytes.Index(req, []byte(name))
	if i < 0 {
		return req
	}
	start := i + len(name)
	end := start + bytes.Index(req[start:], []byte("\r\n"))
	if end < start {
		return req
	}
	line := bytes.ReplaceAll(req[start:end], []byte(";"), []byte("; "))
	out := append([]byte(nil), req[:start]...)
	out = append(out, line...)
	return append(out, req[end:]...)
}
