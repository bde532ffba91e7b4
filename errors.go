package websocket

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/wsloop/websocket/internal/dial"
)

// Errors a method returns for the socket's state, as the browser throws
// InvalidStateError or drops data.
var (
	// ErrInvalidState is returned by Send, SendText, Ping and Pong while
	// the socket is still Connecting (the browser's InvalidStateError).
	ErrInvalidState = errors.New("websocket: InvalidStateError: the socket is still connecting")
	// ErrClosed is returned by Send, SendText, Ping and Pong once the
	// closing handshake has started: the data is dropped and, as the
	// standard says, counted in BufferedAmount. The browser drops it
	// silently; Go tells the caller.
	ErrClosed = errors.New("websocket: the socket is closing or closed: data dropped")
	// ErrInvalidUTF8 is returned by SendText for a string that is not
	// valid UTF-8, which a text message must be (RFC 6455 5.6): the server
	// would fail the connection with 1007. Nothing is sent. A JavaScript
	// string can never be invalid, so a browser never meets this; send
	// arbitrary bytes with Send, as a binary message.
	ErrInvalidUTF8 = errors.New("websocket: SendText: the text is not valid UTF-8; send bytes with Send")
	// ErrBufferFull is returned by Send, SendText, Ping and Pong when the
	// backlog would pass Config.MaxBufferedAmount. Nothing is queued and
	// the connection stays open: the caller may wait for
	// OnBufferedAmountLow and send again. Where the WHATWG standard has the
	// browser close the connection when its buffer is full, Go tells the
	// caller instead.
	ErrBufferFull = errors.New("websocket: send buffer full: BufferedAmount would pass Config.MaxBufferedAmount")
	// ErrNotStreaming is returned by NextReader on a socket whose
	// Config.StreamMessages is unset: its messages arrive whole, for
	// WaitForNextMessage.
	ErrNotStreaming = errors.New("websocket: NextReader on a socket without Config.StreamMessages")
)

// SyntaxError is the browser's SyntaxError: New was given a URL or a
// protocol list it refuses, or CloseWith a reason it cannot send.
type SyntaxError struct {
	Msg string
}

func (e *SyntaxError) Error() string { return "websocket: SyntaxError: " + e.Msg }

// InvalidAccessError is the browser's InvalidAccessError: CloseWith was
// given a code the socket's end may not send (see CloseWith).
type InvalidAccessError struct {
	Code   int
	Server bool // the socket is the server's end
}

func (e *InvalidAccessError) Error() string {
	if e.Server {
		return fmt.Sprintf("websocket: InvalidAccessError: close code %d is not one a server may send (1000-1003, 1007-1009, 1011-1014, 3000-4999)", e.Code)
	}
	return fmt.Sprintf("websocket: InvalidAccessError: close code %d is not one a client may send (1000-1003, 1007-1010, 3000-4999)", e.Code)
}

// ConfigError reports a Config field that cannot be used.
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string { return "websocket: Config." + e.Field + ": " + e.Msg }

// ProtocolError is the peer breaking RFC 6455: the server (a masked
// frame, a bad opcode, invalid UTF-8, a message over
// Config.MaxMessageSize, ...), or, on a server's socket, the client (an
// unmasked frame, and the same rules). Code is the close code sent: 1002,
// 1007 or 1009.
type ProtocolError struct {
	Code   int
	Reason string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("websocket: protocol error (close %d): %s", e.Code, e.Reason)
}

// DNSError reports that the server's host name could not be resolved.
type DNSError struct {
	Host string
	Err  error
}

func (e *DNSError) Error() string { return "websocket: resolving " + e.Host + ": " + e.Err.Error() }
func (e *DNSError) Unwrap() error { return e.Err }

// ConnectError reports that no TCP connection to the server could be made.
type ConnectError struct {
	Addr string
	Err  error
}

func (e *ConnectError) Error() string {
	return "websocket: connecting to " + e.Addr + ": " + e.Err.Error()
}
func (e *ConnectError) Unwrap() error { return e.Err }

// TLSError reports that the TLS handshake with the server failed (an
// untrusted certificate, a wrong name, no common version or cipher, a
// client certificate the server wanted, ...). Reason sorts out the
// certificate failures; Err is crypto/tls's error, through which
// errors.As reaches *tls.CertificateVerificationError and the x509 error
// it carries.
type TLSError struct {
	Reason TLSReason
	Err    error
}

func (e *TLSError) Error() string {
	if e.Reason == TLSOther {
		return "websocket: TLS handshake: " + e.Err.Error()
	}
	return "websocket: TLS handshake: " + e.Reason.String() + ": " + e.Err.Error()
}

// TLSReason is why the server's certificate was refused.
type TLSReason int

// The reasons a TLSError gives.
const (
	// TLSOther: anything but the reasons below (no common version or
	// cipher, a client certificate refused, the connection lost, ...).
	TLSOther TLSReason = iota
	// TLSUnknownAuthority: the certificate does not chain to a trusted
	// root (self-signed, or a CA missing from TLSConfig.RootCAs).
	TLSUnknownAuthority
	// TLSNameMismatch: the certificate is not for the host dialed (or
	// TLSConfig.ServerName).
	TLSNameMismatch
	// TLSExpired: the certificate, or one in its chain, has expired or is
	// not yet valid.
	TLSExpired
	// TLSBadCertificate: the certificate is otherwise invalid (not for a
	// server, a CA constraint broken, unparsable, ...).
	TLSBadCertificate
)

func (r TLSReason) String() string {
	switch r {
	case TLSOther:
		return "TLS failure"
	case TLSUnknownAuthority:
		return "certificate signed by an unknown authority"
	case TLSNameMismatch:
		return "certificate not valid for the host"
	case TLSExpired:
		return "certificate expired or not yet valid"
	case TLSBadCertificate:
		return "certificate invalid"
	}
	return "TLSReason(" + strconv.Itoa(int(r)) + ")"
}

// tlsReason sorts a TLS handshake error.
func tlsReason(err error) TLSReason {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var cv *tls.CertificateVerificationError
	switch {
	case errors.As(err, &ua):
		return TLSUnknownAuthority
	case errors.As(err, &he):
		return TLSNameMismatch
	case errors.As(err, &ci):
		if ci.Reason == x509.Expired {
			return TLSExpired
		}
		return TLSBadCertificate
	case errors.As(err, &cv):
		return TLSBadCertificate
	}
	return TLSOther
}
func (e *TLSError) Unwrap() error { return e.Err }

// HandshakeError reports that the server did not accept the WebSocket
// upgrade, or answered it wrongly (a bad Sec-WebSocket-Accept, a protocol
// or extension the client did not offer, a header given twice). When the
// answer was not an HTTP/1.1 101 (a 404, a 503, a plain HTTP/1.0 server),
// Status is its status line, StatusCode its code, Header its headers (a
// 503's Retry-After, say) and Body the first bytes of its body, at most
// 1 KiB; the message names the status line.
type HandshakeError struct {
	StatusCode int
	Status     string
	Header     http.Header
	Body       []byte
	Err        error
}

func (e *HandshakeError) Error() string {
	return "websocket: handshake: " + e.Err.Error()
}
func (e *HandshakeError) Unwrap() error { return e.Err }

// ProxyError reports a dial that failed at its proxy, or at the proxy's
// attempt to reach the server, before the tunnel was open (see
// Config.Proxy). Failure says which hop failed. Err is the cause: for
// ProxyUnreachable the *DNSError, *ConnectError or *TLSError of the
// connection to the proxy; else the proxy's answer, described. Proxy is
// the proxy's URL without its credentials, which appear in no error.
type ProxyError struct {
	Proxy   string
	Failure ProxyFailure
	// StatusCode and Status are an HTTP proxy's answer to CONNECT, when
	// it gave one (407, 403, 502, ...).
	StatusCode int
	Status     string
	// Reply is a SOCKS proxy's reply code, when it gave one: SOCKS5's
	// (RFC 1928 6; 1 to 8) or the status of its login (RFC 1929), or
	// SOCKS4's (91 to 93).
	Reply int
	Err   error
}

func (e *ProxyError) Error() string {
	return "websocket: proxy " + e.Proxy + ": " + e.Failure.String() + ": " + strings.TrimPrefix(e.Err.Error(), "websocket: ")
}
func (e *ProxyError) Unwrap() error { return e.Err }

// ProxyFailure says at which hop a dial through a proxy failed.
type ProxyFailure int

// The hops of a dial through a proxy.
const (
	// ProxyUnreachable: no connection to the proxy could be made (its
	// name, TCP, or TLS to an https:// proxy).
	ProxyUnreachable = ProxyFailure(dial.ProxyUnreachable)
	// ProxyAuthFailed: the proxy wants credentials, or refused the ones
	// given: HTTP 407 (or 401, as tinyproxy answers wrong ones), a SOCKS5 proxy that takes none of the methods
	// offered or refuses the login, SOCKS4's identd codes 92 and 93.
	ProxyAuthFailed = ProxyFailure(dial.ProxyAuthFailed)
	// ProxyRefused: the proxy refused to open the tunnel: an HTTP 4xx
	// other than 401 and 407, a SOCKS5 ruleset or general failure, SOCKS4's 91
	// ("rejected or failed", which cannot tell refusal from an
	// unreachable server). A socks4:// proxy given a server with no IPv4
	// address fails so too, before asking.
	ProxyRefused = ProxyFailure(dial.ProxyRefused)
	// ProxyTargetUnreachable: the proxy could not reach the server: an
	// HTTP 5xx (502, 503 and 504 by most proxies, 500 by tinyproxy),
	// SOCKS5's network or host unreachable, connection refused or TTL
	// expired.
	ProxyTargetUnreachable = ProxyFailure(dial.ProxyTargetUnreachable)
	// ProxyBadResponse: the proxy's answer is not its protocol.
	ProxyBadResponse = ProxyFailure(dial.ProxyBadResponse)
)

func (f ProxyFailure) String() string {
	switch f {
	case ProxyUnreachable:
		return "proxy unreachable"
	case ProxyAuthFailed:
		return "proxy authentication failed"
	case ProxyRefused:
		return "proxy refused the tunnel"
	case ProxyTargetUnreachable:
		return "proxy could not reach the server"
	case ProxyBadResponse:
		return "proxy answered outside its protocol"
	}
	return "ProxyFailure(" + strconv.Itoa(int(f)) + ")"
}

// ResourceError reports that the system refused what an open connection
// needs on its loop: a file descriptor (the process's open-file limit is
// reached, EMFILE), or a place in the poller (epoll's or kqueue's limits).
// Err is the system's error: errors.Is(err, syscall.EMFILE) tells the
// first. It is carried by ErrorEvent.Err, or returned by Dial; the
// connection had opened and is closed at once.
type ResourceError struct {
	Err error
}

func (e *ResourceError) Error() string {
	return "websocket: the system refused a resource for the connection: " + e.Err.Error()
}
func (e *ResourceError) Unwrap() error { return e.Err }

// ClosedError is what the blocking API returns once the socket is closed:
// it carries the CloseEvent and, when the connection failed, the cause the
// ErrorEvent carried (a *ProtocolError, say), which errors.As reaches.
// errors.Is(err, ErrClosed) holds.
type ClosedError struct {
	Event CloseEvent
	Err   error // the failure's cause; nil after a closing handshake or an abrupt end
}

func (e *ClosedError) Error() string {
	s := fmt.Sprintf("websocket: closed (code %d, reason %q, clean %t)", e.Event.Code, e.Event.Reason, e.Event.WasClean)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrClosed) true.
func (e *ClosedError) Is(target error) bool { return target == ErrClosed }

// Unwrap returns the failure's cause.
func (e *ClosedError) Unwrap() error { return e.Err }
