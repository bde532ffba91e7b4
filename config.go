package websocket

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"time"

	"github.com/wsloop/websocket/internal/dial"
	"github.com/wsloop/websocket/internal/weburl"
)

// Defaults for the Config fields left zero.
const (
	DefaultHandshakeTimeout = 30 * time.Second
	DefaultCloseTimeout     = 5 * time.Second
	DefaultMaxMessageSize   = 32 << 20
	DefaultUserAgent        = "wsloop"
	// DefaultMaxBufferedAmount is the send backlog past which Send refuses
	// (see Config.MaxBufferedAmount).
	DefaultMaxBufferedAmount = 16 << 20
	// DefaultMaxInboxSize is how much a dialed socket keeps for the
	// blocking calls before its loop stops reading it (see
	// Config.MaxInboxSize).
	DefaultMaxInboxSize = 4 << 20
)

// Config is everything a dial can be told. The zero value (or a nil
// *Config) is a browser's default: no protocols, no extra headers.
type Config struct {
	// Protocols are the subprotocols offered, in order of preference, as
	// the second argument of JavaScript's new WebSocket(url, protocols).
	// The server's choice is Protocol(); a server choosing one not offered
	// fails the connection.
	Protocols []string
	// Header holds extra request headers for the opening handshake. The
	// headers the handshake itself sets (Host, Upgrade, Connection and the
	// Sec-WebSocket-* ones) are refused with a ConfigError.
	Header http.Header
	// Origin, when set, is sent as the Origin header, as a browser sends
	// its page's origin. Empty: no Origin header.
	Origin string
	// UserAgent is sent as the User-Agent header; empty means
	// DefaultUserAgent. A User-Agent in Header wins over it.
	UserAgent string
	// TLSConfig configures wss:// connections; nil means the system's
	// roots and the URL's host as the server name. It also configures the
	// TLS connection to an https:// proxy, with the proxy's host as the
	// server name.
	TLSConfig *tls.Config
	// Username and Password answer the server's HTTP authentication
	// challenge, as browsers and curl answer it: when the handshake gets a
	// 401 whose WWW-Authenticate offers Digest (RFC 7616: SHA-256 or MD5,
	// their -sess forms, qop auth) or Basic (RFC 7617), the strongest is
	// answered on a second connection, once. When Username is empty, the
	// URL's credentials (ws://user:pass@host/) are used the same way.
	// A 401 that stays is a *HandshakeError with StatusCode 401.
	// Credentials appear in no error. A Bearer token goes in Header
	// (Authorization: Bearer ...), sent with the first request.
	Username, Password string
	// BasicAuthUpfront sends the credentials as Basic with the first
	// request, saving the round trip of the challenge for a server known
	// to want them.
	BasicAuthUpfront bool
	// MaxRedirects is how many HTTP redirects (301, 302, 303, 307, 308)
	// the handshake follows, to a ws, wss, http or https URL (http mapped
	// to ws, https to wss; a relative Location resolved against the URL
	// redirected from). Zero follows none: a redirect fails the
	// connection with a *HandshakeError, as in a browser. Each hop has its
	// own proxy decision and its own cookies from Jar; credentials
	// (Username, Password, the URL's) and the Authorization and Cookie
	// headers of Header go only to the scheme, host and port they were
	// given for. URL() stays the URL given to New or Dial.
	MaxRedirects int
	// Jar, when set, keeps cookies as a browser does for a WebSocket: the
	// handshake sends the cookies it has for the URL (ws:// matched as
	// http://, wss:// as https://, so Secure cookies go over wss only),
	// after any Cookie in Header, and it is given the Set-Cookie lines of
	// the server's response, a refusal's too. Any http.CookieJar will do:
	// net/http/cookiejar's, or a CookieFile, kept in a file that curl
	// reads and writes too. Nil: no cookies but those in Header.
	Jar http.CookieJar
	// Proxy chooses the proxy the dial goes through:
	//   - "" (the default) reads the environment, as curl and Go's
	//     net/http do: http_proxy for ws://, https_proxy for wss://, and
	//     all_proxy for either when that one is unset (lower-case names
	//     first, then upper-case); no_proxy lists the hosts dialed
	//     directly (domains, .suffixes, IP addresses, CIDR ranges, each
	//     with an optional :port, or * for all). As in net/http, localhost
	//     and loopback addresses are always dialed directly;
	//   - "direct" dials directly, whatever the environment says;
	//   - otherwise a proxy URL, used for every URL:
	//     http://[user:pass@]host[:port] or https://... for an HTTP proxy
	//     (a CONNECT tunnel, the credentials sent as Basic
	//     Proxy-Authorization); socks5:// (the client resolves the server's
	//     name) or socks5h:// (the proxy resolves it), with an optional
	//     username and password; socks4:// (IPv4 only, resolved by the
	//     client) or socks4a:// (the proxy resolves), the username sent as
	//     the SOCKS4 user id. A bare host:port is an HTTP proxy. The
	//     default ports are 80 (http), 443 (https) and 1080 (SOCKS).
	// A value (or environment variable) that cannot be used is a
	// *ConfigError from New, NewWithConfig or Dial. A failure at or
	// through the proxy is a *ProxyError.
	Proxy string
	// ProxyHeader holds extra headers for an HTTP proxy's CONNECT request
	// (never sent to the server).
	ProxyHeader http.Header
	// NetDial, when set, makes the connection to the server (or to the
	// proxy) in place of a net.Dialer: it is called with network "tcp"
	// and the host and port as in the URL, unresolved, so it may resolve
	// them its own way, bind a local address or dial a Unix socket. Its
	// error is carried by a *ConnectError. On Linux and the BSDs a
	// *net.TCPConn it returns is polled by the loop's epoll or kqueue;
	// any other connection is served by two goroutines of its own, as on
	// the portable poller.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// HandshakeTimeout bounds the whole opening: name resolution, TCP,
	// TLS and the HTTP upgrade. Zero means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// CloseTimeout bounds the closing handshake: how long the client waits
	// for the server's close frame and then for the server to close TCP.
	// It is counted from the last sign that the server is still reading
	// what came before the close frame: a byte written, or (on Linux) the
	// kernel's send queue found shorter. So data sent before Close is not
	// cut off by it; but bytes already in the server's receive buffer are
	// out of sight, and the server must read those within it. Zero means
	// DefaultCloseTimeout.
	CloseTimeout time.Duration
	// PingInterval turns keepalive on: when nothing has been received for
	// PingInterval, a ping is sent, and when nothing (its pong or any
	// other byte) comes back within PongTimeout, the server is presumed
	// dead: the connection fails at once with a *KeepaliveError, error
	// then close 1006, without waiting for a closing handshake. So a
	// silent server (stopped, unplugged, its NAT entry gone, which TCP
	// does not notice for minutes) is found within PingInterval +
	// PongTimeout of the last byte received. A socket that receives sends
	// no pings: every byte proves the server alive. Keepalive pings fire
	// OnPong, with RTT set. Zero: no pings. Under a millisecond is
	// refused (a unit left out: 30 is 30ns, 30*time.Second is meant).
	PingInterval time.Duration
	// PongTimeout is how long a keepalive ping may go unanswered; zero
	// means PingInterval. It needs PingInterval.
	PongTimeout time.Duration
	// IdleTimeout fails the connection, as PongTimeout does, once
	// nothing has been received for that long, pings or not: for a
	// server that sends heartbeats of its own, which the program need not
	// answer with pings. Zero: none. Under a millisecond is refused.
	IdleTimeout time.Duration
	// ManualPong leaves the server's pings to the program, which answers
	// each with Pong (from OnPing, or after LowLevelReceive returns the
	// PingEvent) as RFC 6455 requires it to do soon. Unset, every ping is
	// answered by the library, as in a browser.
	ManualPong bool
	// Reconnect, when set, makes the socket reconnect by itself when its
	// connection is lost; see ReconnectPolicy. Nil: a lost connection
	// closes the socket, as in a browser.
	Reconnect *ReconnectPolicy
	// NoCompression turns permessage-deflate off: the handshake offers no
	// extension, as a browser with compression disabled. By default it
	// offers what Chromium does; see Compression.
	NoCompression bool
	// Compression sets the permessage-deflate offer and which messages are
	// compressed; nil is Chromium's offer and DefaultCompressionThreshold.
	Compression *Compression
	// StreamMessages makes a socket made by Dial hand each message on as
	// its bytes arrive, to be read with NextReader, rather than hold it
	// whole: a message far larger than the program wants to hold (up to
	// MaxMessageSize, which may then be raised) passes through the
	// bounded inbox. WaitForNextMessage and LowLevelReceive still return
	// whole messages, put together from the parts. OnMessage and
	// "message" listeners do not fire for such a socket. A socket made by
	// New refuses it (*ConfigError).
	StreamMessages bool
	// Logger, when set, is told the socket's life: the dial's stages and
	// the handshake's steps at debug level, open and close at info,
	// failures and reconnections at warn, each line with the socket's id
	// ("ws") and URL ("url"). No line carries a credential or a header:
	// URLs are logged without user information. Nil: silent.
	Logger *slog.Logger
	// MaxMessageSize is the largest message accepted, in bytes; a larger
	// one fails the connection with close code 1009 before it is buffered.
	// Zero means DefaultMaxMessageSize (32 MiB).
	MaxMessageSize int64
	// MaxBufferedAmount bounds the send backlog, so that a server that does
	// not read cannot make the client hold unbounded memory: a Send that
	// would take BufferedAmount past it returns ErrBufferFull and queues
	// nothing (Ping and Pong likewise, for the frames they queue). A
	// message sent while nothing is buffered is always taken, whatever its
	// size. Zero means DefaultMaxBufferedAmount (16 MiB).
	MaxBufferedAmount int
	// MaxInboxSize bounds what a socket made by Dial keeps for
	// WaitForNextMessage and LowLevelReceive, in bytes of payload (each
	// message, ping and pong counts 64 bytes more): once the inbox holds
	// that much, the loop stops reading the socket, so TCP makes the
	// server wait, until the program has taken half of it. A message
	// arriving in the same read is still kept, so the inbox may exceed the
	// bound by one read (64 KiB) and one message. Zero means
	// DefaultMaxInboxSize (4 MiB).
	MaxInboxSize int
	// BufferedAmountLowThreshold is the level of BufferedAmount at or
	// below which OnBufferedAmountLow fires once a backlog drains; zero
	// means an empty backlog.
	BufferedAmountLowThreshold int
	// Loop is the event loop the socket lives on; nil means DefaultLoop()
	// for New and NewWithConfig, and for Dial the background loop, which
	// runs on a goroutine of its own. A loop given to Dial must be run by
	// the program (Run or RunContext on another goroutine) for the dial to
	// finish.
	Loop *EventLoop
}

// reservedHeaders are set by the handshake itself.
var reservedHeaders = []string{
	"Host", "Upgrade", "Connection",
	"Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Protocol",
	"Sec-Websocket-Extensions", "Sec-Websocket-Accept",
}

// withDefaults returns a copy of c with every zero field given its default
// (loop the default Loop), or a ConfigError.
func (c *Config) withDefaults(loop func() *EventLoop) (Config, error) {
	var out Config
	if c != nil {
		out = *c
	}
	for _, name := range reservedHeaders {
		for k := range out.Header {
			if textproto.CanonicalMIMEHeaderKey(k) == name {
				return out, &ConfigError{Field: "Header", Msg: k + " is set by the handshake itself"}
			}
		}
	}
	switch {
	case out.HandshakeTimeout < 0:
		return out, &ConfigError{Field: "HandshakeTimeout", Msg: "negative"}
	case out.CloseTimeout < 0:
		return out, &ConfigError{Field: "CloseTimeout", Msg: "negative"}
	case out.MaxMessageSize < 0:
		return out, &ConfigError{Field: "MaxMessageSize", Msg: "negative"}
	case out.BufferedAmountLowThreshold < 0:
		return out, &ConfigError{Field: "BufferedAmountLowThreshold", Msg: "negative"}
	case out.MaxBufferedAmount < 0:
		return out, &ConfigError{Field: "MaxBufferedAmount", Msg: "negative"}
	case out.MaxInboxSize < 0:
		return out, &ConfigError{Field: "MaxInboxSize", Msg: "negative"}
	case out.MaxRedirects < 0:
		return out, &ConfigError{Field: "MaxRedirects", Msg: "negative"}
	}
	if err := out.checkKeepalive(); err != nil {
		return out, err
	}
	if out.Compression != nil {
		if err := out.Compression.check(); err != nil {
			return out, err
		}
	}
	if out.Reconnect != nil {
		p, err := out.Reconnect.withDefaults()
		if err != nil {
			return out, err
		}
		out.Reconnect = &p
	}
	if out.HandshakeTimeout == 0 {
		out.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if out.CloseTimeout == 0 {
		out.CloseTimeout = DefaultCloseTimeout
	}
	if out.MaxMessageSize == 0 {
		out.MaxMessageSize = DefaultMaxMessageSize
	}
	if out.MaxBufferedAmount == 0 {
		out.MaxBufferedAmount = DefaultMaxBufferedAmount
	}
	if out.MaxInboxSize == 0 {
		out.MaxInboxSize = DefaultMaxInboxSize
	}
	if out.UserAgent == "" {
		out.UserAgent = DefaultUserAgent
	}
	if out.Loop == nil {
		out.Loop = loop()
	}
	return out, nil
}

// requestHeader is the upgrade request's extra headers, their names in
// canonical form: http.Header's Get, Set and Del find only those, and the
// dial relies on them to replace Authorization with a challenge's answer
// and to drop it on a redirect to another origin.
func (c *Config) requestHeader() http.Header {
	h := canonicalHeader(c.Header)
	if c.Origin != "" {
		h.Set("Origin", c.Origin)
	}
	if h.Get("User-Agent") == "" {
		h.Set("User-Agent", c.UserAgent)
	}
	return h
}

// credentials are the answer to a 401: Username and Password, or else the
// URL's, percent-decoded; nil for none.
func (c *Config) credentials(u *weburl.URL) *dial.Credentials {
	user, pass := c.Username, c.Password
	if user == "" {
		if u.Username == "" && u.Password == "" {
			return nil
		}
		user, _ = url.PathUnescape(u.Username)
		pass, _ = url.PathUnescape(u.Password)
	}
	return &dial.Credentials{Username: user, Password: pass, Preemptive: c.BasicAuthUpfront}
}

// canonicalHeader is a copy of h with its names in canonical form, values
// of names that differ only in case put together.
func canonicalHeader(h http.Header) http.Header {
	out := make(http.Header, len(h)+2)
	for k, v := range h {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		out[ck] = append(out[ck], v...)
	}
	return out
}

// checkKeepalive refuses keepalive durations that cannot be meant, and
// gives PongTimeout its default.
func (c *Config) checkKeepalive() error {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"PingInterval", c.PingInterval}, {"PongTimeout", c.PongTimeout}, {"IdleTimeout", c.IdleTimeout}} {
		switch {
		case f.d < 0:
			return &ConfigError{Field: f.name, Msg: "negative"}
		case f.d > 0 && f.d < time.Millisecond:
			return &ConfigError{Field: f.name, Msg: f.d.String() + " is under a millisecond: a unit left out? (30*time.Second is 30 seconds)"}
		}
	}
	if c.PongTimeout > 0 && c.PingInterval == 0 {
		return &ConfigError{Field: "PongTimeout", Msg: "set without PingInterval, so no ping is ever sent to time"}
	}
	if c.PongTimeout == 0 {
		c.PongTimeout = c.PingInterval
	}
	return nil
}
