package upgrade

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Options is what the server accepts.
type Options struct {
	// Origins: nil means the same origin as the request's Host.
	Origins *Origins
	// Protocols the server speaks, in its order of preference.
	Protocols []string
	// SelectProtocol, when set, picks the subprotocol from those the
	// client offered instead of Protocols: one of them, or "" for none.
	SelectProtocol func(r *http.Request, offered []string) string
	// Deflate: nil declines permessage-deflate.
	Deflate *DeflateOptions
}

// Handshake is a request that may be upgraded, and how.
type Handshake struct {
	Key        string
	Protocol   string
	Extensions string   // the response's Sec-WebSocket-Extensions, "" for none
	Deflate    *Deflate // nil unless permessage-deflate was accepted
}

// Check reads r as an opening handshake (RFC 6455 4.2.1) and settles the
// answer; a request that is not a valid one, or from an origin not
// allowed, is a *Refusal.
func Check(r *http.Request, o *Options) (*Handshake, error) {
	if r.Method != http.MethodGet {
		return nil, refuse(http.StatusMethodNotAllowed, "a WebSocket handshake is a GET request, not "+r.Method, "Allow", "GET")
	}
	if !headerHasToken(r.Header, "Upgrade", "websocket") {
		return nil, refuse(http.StatusUpgradeRequired, "this is a WebSocket endpoint: the request must ask to upgrade to websocket",
			"Upgrade", "websocket", "Sec-WebSocket-Version", "13")
	}
	if r.ProtoMajor != 1 || r.ProtoMinor < 1 {
		return nil, refuse(http.StatusBadRequest, "a WebSocket handshake needs HTTP/1.1, not "+r.Proto)
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") {
		return nil, refuse(http.StatusBadRequest, "the Connection header does not name upgrade")
	}
	if v := r.Header.Values("Sec-WebSocket-Version"); len(v) != 1 || strings.TrimSpace(v[0]) != "13" {
		return nil, refuse(http.StatusUpgradeRequired, "Sec-WebSocket-Version must be 13, got "+fmt.Sprintf("%q", v),
			"Upgrade", "websocket", "Sec-WebSocket-Version", "13")
	}
	keys := r.Header.Values("Sec-WebSocket-Key")
	if len(keys) != 1 {
		return nil, refuse(http.StatusBadRequest, fmt.Sprintf("the request has %d Sec-WebSocket-Key headers, want one", len(keys)))
	}
	key := strings.TrimSpace(keys[0])
	if raw, err := base64.StdEncoding.DecodeString(key); err != nil || len(raw) != 16 {
		return nil, refuse(http.StatusBadRequest, fmt.Sprintf("Sec-WebSocket-Key %q is not 16 bytes in base64", key))
	}
	if rf := o.Origins.check(r); rf != nil {
		return nil, rf
	}
	hs := &Handshake{Key: key}
	offered := headerList(r.Header, "Sec-WebSocket-Protocol")
	if o.SelectProtocol != nil {
		hs.Protocol = o.SelectProtocol(r, offered)
		if hs.Protocol != "" && !slices.Contains(offered, hs.Protocol) {
			return nil, refuse(http.StatusInternalServerError, fmt.Sprintf("the server's SelectProtocol chose %q, which the client did not offer (%q)", hs.Protocol, offered))
		}
	} else {
		for _, p := range o.Protocols {
			if slices.Contains(offered, p) {
				hs.Protocol = p
				break
			}
		}
	}
	hs.Extensions, hs.Deflate = negotiateDeflate(r.Header.Values("Sec-WebSocket-Extensions"), o.Deflate)
	return hs, nil
}

// Accept hijacks the connection and answers 101 with the handshake's
// settlement and the headers the handler had set on w (Set-Cookie, say;
// the handshake's own are left out). It returns the connection, its
// deadlines cleared, and the bytes the client sent after its request
// (frames may follow the request at once).
func Accept(w http.ResponseWriter, hs *Handshake) (net.Conn, []byte, error) {
	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ")
	b.WriteString(acceptKey(hs.Key))
	b.WriteString("\r\n")
	if hs.Protocol != "" {
		b.WriteString("Sec-WebSocket-Protocol: " + hs.Protocol + "\r\n")
	}
	if hs.Extensions != "" {
		b.WriteString("Sec-WebSocket-Extensions: " + hs.Extensions + "\r\n")
	}
	for k, vs := range w.Header() {
		if reserved(k) {
			continue
		}
		for _, v := range vs {
			b.WriteString(k + ": " + strings.NewReplacer("\r", " ", "\n", " ").Replace(v) + "\r\n")
		}
	}
	b.WriteString("\r\n")

	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, &NoHijackError{err}
	}
	leftover, err := buffered(rw.Reader)
	if err == nil {
		// The server may have set deadlines for the request; the
		// socket sets its own.
		conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		_, err = conn.Write([]byte(b.String()))
	}
	if err == nil {
		err = conn.SetDeadline(time.Time{})
	}
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("websocket: writing the 101 response: %w", err)
	}
	return conn, leftover, nil
}

// buffered takes what net/http read past the request.
func buffered(r *bufio.Reader) ([]byte, error) {
	n := r.Buffered()
	if n == 0 {
		return nil, nil
	}
	p := make([]byte, n)
	_, err := r.Read(p)
	return p, err
}

// NoHijackError is Accept's failure to take the connection over from
// net/http: nothing has been written, so the caller can still answer.
type NoHijackError struct{ Err error }

func (e *NoHijackError) Error() string {
	return "websocket: the connection cannot be taken over from net/http (a ResponseWriter that does not support Hijack, as a middleware's wrapper without Unwrap): " + e.Err.Error()
}

func (e *NoHijackError) Unwrap() error { return e.Err }

const keyGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// acceptKey is Sec-WebSocket-Accept for key (RFC 6455 4.2.2).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + keyGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// reserved names the headers the handshake writes itself, and those a
// 101 must not carry.
func reserved(k string) bool {
	switch http.CanonicalHeaderKey(k) {
	case "Upgrade", "Connection", "Sec-Websocket-Accept", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions",
		"Content-Length", "Transfer-Encoding", "Content-Type":
		return true
	}
	return false
}

// headerHasToken reports whether a comma-separated header names token,
// in any case.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// headerList is a comma-separated header's items, over all its lines.
func headerList(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}
