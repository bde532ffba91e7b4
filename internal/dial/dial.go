// Package dial opens a WebSocket connection. It is a pipeline, a file a
// stage: the proxy decision (proxy.go), the connection to the first hop
// (connect.go), the proxy's tunnel (tunnel_http.go, tunnel_socks.go), TLS
// (tls.go) and the HTTP upgrade (upgrade.go, refusal.go). Each failure is
// tagged with its stage, or is a *ProxyError, so that the root package can
// give it a distinct type. Dialing blocks, so it never runs on an event
// loop's goroutine.
package dial

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wsloop/websocket/internal/weburl"
)

// Stage is the step of dialing that failed.
type Stage uint8

// The stages of a dial, in order.
const (
	StageDNS Stage = iota + 1
	StageConnect
	StageTLS
	StageHandshake
)

// Error is a failed dial.
type Error struct {
	Stage      Stage
	Addr       string      // host (StageDNS) or host:port (StageConnect)
	Status     int         // StageHandshake: the HTTP status when it was not 101
	StatusLine string      // StageHandshake: the status line with Status
	Header     http.Header // StageHandshake: the response header with Status
	Body       []byte      // StageHandshake: the first bytes of the body with Status
	Err        error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Options is what a dial needs; the root package fills it from its Config.
type Options struct {
	URL       *weburl.URL // scheme ws or wss
	Protocols []string
	Header    http.Header // sent with the upgrade request, Origin and User-Agent included
	TLSConfig *tls.Config
	// Proxy is the proxy to go through (ChooseProxy's choice), nil for
	// none; ProxyHeader goes to an HTTP proxy with CONNECT, with Header's
	// User-Agent unless it has one.
	Proxy       *url.URL
	ProxyHeader http.Header
	// ProxySetting is Config.Proxy, to choose the proxy of each hop of a
	// redirect.
	ProxySetting string
	// MaxRedirects is how many redirects are followed; 0: none, and a
	// redirect fails the dial, as in a browser.
	MaxRedirects int
	// Credentials, when set, answer a 401 challenge.
	Credentials *Credentials
	// Jar, when set, gives the request's cookies and takes the
	// response's.
	Jar http.CookieJar
	// NetDial, when set, makes the TCP (or other) connection to the server
	// or the proxy in place of a net.Dialer.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Logger, when set, is told each stage at debug level (log.go).
	Logger *slog.Logger
	// Deflate, when set, offers permessage-deflate.
	Deflate *DeflateOffer
}

// Result is an upgraded connection.
type Result struct {
	Conn net.Conn
	// Leftover holds bytes the server sent right after its handshake
	// response, read along with it: the first frames, to be fed to the
	// protocol core before anything read from Conn.
	Leftover []byte
	Protocol string
	Head     []byte // the 101 response's head, for ParseHeader
	// Deflate is the permessage-deflate settled, nil when none; Extensions
	// the response's Sec-WebSocket-Extensions then, in the server's words.
	Deflate    *Deflate
	Extensions string
}

// Dial connects to o.URL and performs the opening handshake. ctx bounds
// all of it.
func Dial(ctx context.Context, o Options) (Result, error) {
	for hops := 0; ; hops++ {
		res, err := dialAuth(ctx, o)
		var de *Error
		if !errors.As(err, &de) || !isRedirect(de.Status) {
			return res, err
		}
		if o.MaxRedirects == 0 {
			de.Err = fmt.Errorf("%w, a redirect to %q (a browser does not follow it; Config.MaxRedirects does)", de.Err, de.Header.Get("Location"))
			return res, err
		}
		if hops == o.MaxRedirects {
			de.Err = fmt.Errorf("%w; that makes more than %d redirects", de.Err, o.MaxRedirects)
			return res, err
		}
		next, rerr := redirectTarget(o.URL, de.Header.Get("Location"))
		if rerr == nil {
			debug(&o, "following a redirect", "status", de.Status, "to", RedactedURL(next))
			o, rerr = followRedirect(o, next)
		}
		if rerr != nil {
			var ee *EnvError
			if errors.As(rerr, &ee) {
				return res, rerr
			}
			de.Err = fmt.Errorf("%w; not followed: %w", de.Err, rerr)
			return res, err
		}
	}
}

// dialAuth is a dial that answers the server's authentication challenge.
func dialAuth(ctx context.Context, o Options) (Result, error) {
	c := o.Credentials
	auth := ""
	if c != nil && c.Preemptive {
		auth = basicAuth(c)
	}
	res, err := dialOnce(ctx, o, auth)
	var de *Error
	if c != nil && errors.As(err, &de) && de.Status == http.StatusUnauthorized {
		// The challenge is answered on a new connection, as browsers
		// and curl do: the server may close this one after its 401.
		if a := answerChallenge(de.Header, c, o.URL.RequestTarget()); a != "" && a != auth {
			scheme, _, _ := strings.Cut(a, " ")
			debug(&o, "answering the server's authentication challenge", "scheme", scheme)
			return dialOnce(ctx, o, a)
		}
	}
	return res, err
}

// dialOnce is one pass through the pipeline, sending authorization (when
// not empty) as the Authorization header.
func dialOnce(ctx context.Context, o Options, authorization string) (Result, error) {
	host := strings.TrimSuffix(strings.TrimPrefix(o.URL.Host, "["), "]")
	port := o.URL.Port
	if port == "" {
		port = o.URL.DefaultPort()
	}
	var conn net.Conn
	var err error
	if o.Proxy == nil {
		conn, err = connect(ctx, o.NetDial, host, port)
	} else {
		conn, err = connectProxy(ctx, o.NetDial, o.Proxy)
	}
	if err != nil {
		return Result{}, err
	}
	logConnected(&o, conn)
	res, err := underDeadline(ctx, conn, func() (Result, error) {
		c := conn
		if o.Proxy != nil {
			if c, err = tunnel(ctx, c, o, host, port); err != nil {
				return Result{}, err
			}
			debug(&o, "tunnel open", "proxy", Redacted(o.Proxy))
		}
		if o.URL.Scheme == "wss" {
			if c, err = startTLS(ctx, c, o.TLSConfig, host); err != nil {
				return Result{}, err
			}
			logTLS(&o, c)
		}
		return httpUpgrade(ctx, c, o, authorization)
	})
	if err != nil {
		conn.Close()
		return Result{}, err
	}
	return res, nil
}

// underDeadline runs the stages after the connection under ctx: its
// deadline and its cancellation both end a stage that hangs on a silent
// peer.
func underDeadline(ctx context.Context, conn net.Conn, stages func() (Result, error)) (Result, error) {
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	res, err := stages()
	if err != nil {
		return res, err
	}
	if !stop() {
		// The context ended and poisoned the deadline after all went well.
		res.Conn.Close()
		return Result{}, &Error{Stage: StageHandshake, Err: ctx.Err()}
	}
	if err := res.Conn.SetDeadline(time.Time{}); err != nil {
		res.Conn.Close()
		return Result{}, &Error{Stage: StageHandshake, Err: err}
	}
	return res, nil
}

// ctxErr makes an I/O error that the context caused match the context's
// error with errors.Is. The connection's deadline is the context's, and its
// timer may fire before the context's own: a timeout at or past the
// deadline counts as the context's.
func ctxErr(ctx context.Context, err error) error {
	if ce := ctx.Err(); ce != nil {
		if errors.Is(err, ce) {
			return err
		}
		return fmt.Errorf("%w: %w", ce, err)
	}
	var ne net.Error
	if dl, ok := ctx.Deadline(); ok && errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(dl) {
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return err
}
