package dial

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
)

// maxRefusalBody bounds the body bytes kept from a refusal: enough for a
// proxy's or a server's one-line reason, never a whole page.
const maxRefusalBody = 1 << 10

// refusal is a response other than an HTTP/1.1 101: the server, or
// something in front of it, did not switch protocols.
type refusal struct {
	line   string // the status line, "HTTP/1.1 503 Service Unavailable"
	code   int
	header http.Header
	body   []byte // its first bytes, at most maxRefusalBody
}

func (r *refusal) Error() string {
	return fmt.Sprintf("the server answered %q instead of switching protocols (HTTP/1.1 101)", r.line)
}

// readRefusal parses a response head (status line and headers, ending with
// the blank line) and keeps the first bytes of its body: those that came
// with the head, then more read from conn, up to Content-Length and
// maxRefusalBody. A body without a length is not waited for.
func readRefusal(head, rest []byte, conn io.Reader) *refusal {
	line, _, _ := bytes.Cut(head, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	r := &refusal{line: string(line)}
	r.code, _ = strconv.Atoi(string(line[9:12])) // validStatusLine checked the shape
	r.header = ParseHeader(head)
	want := len(rest)
	if n, err := strconv.Atoi(r.header.Get("Content-Length")); err == nil && n >= 0 {
		want = n
	}
	want = min(want, maxRefusalBody)
	r.body = append([]byte(nil), rest[:min(len(rest), want)]...)
	for len(r.body) < want {
		buf := make([]byte, want-len(r.body))
		n, err := conn.Read(buf)
		r.body = append(r.body, buf[:n]...)
		if err != nil {
			break
		}
	}
	return r
}

// ParseHeader reads the header fields of a response head (status line,
// fields, blank line); a malformed field ends them.
func ParseHeader(head []byte) http.Header {
	_, fields, _ := bytes.Cut(head, []byte("\n")) // after the status line, ended by CRLF or (as gobwas takes it) a bare LF
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(fields))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return nil
	}
	return http.Header(h)
}
