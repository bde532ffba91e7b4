// Package dial opens a WebSocket connection: name resolution, TCP, TLS and
// the HTTP upgrade, each failure tagged with the stage it happened in so
// that the root package can give it a distinct type. Dialing blocks, so it
// never runs on an event loop's goroutine.
package dial

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/gobwas/ws"
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
	Stage  Stage
	Addr   string      // host (StageDNS) or host:port (StageConnect)
	Status int         // StageHandshake: the HTTP status when it was not 101
	Header http.Header // StageHandshake: the response header with Status
	Err    error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Options is what a dial needs; the root package fills it from its Config.
type Options struct {
	URL       *url.URL // scheme ws or wss
	Protocols []string
	Header    http.Header // sent with the upgrade request, Origin and User-Agent included
	TLSConfig *tls.Config
}

// Result is an upgraded connection.
type Result struct {
	Conn net.Conn
	// Leftover holds bytes the server sent right after its handshake
	// response, read along with it: the first frames, to be fed to the
	// protocol core before anything read from Conn.
	Leftover []byte
	Protocol string
}

// Dial connects to o.URL and performs the opening handshake. ctx bounds
// all of it.
func Dial(ctx context.Context, o Options) (Result, error) {
	u := o.URL
	host := u.Hostname()
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "wss" {
			port = "443"
		}
	}
	conn, err := connect(ctx, host, port)
	if err != nil {
		return Result{}, err
	}
	res, err := upgrade(ctx, conn, o, host)
	if err != nil {
		conn.Close()
		return Result{}, err
	}
	return res, nil
}

func connect(ctx context.Context, host, port string) (net.Conn, error) {
	var addrs []string
	if ip := net.ParseIP(host); ip != nil {
		addrs = []string{host}
	} else {
		ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return nil, &Error{Stage: StageDNS, Addr: host, Err: ctxErr(ctx, err)}
		}
		for _, ip := range ips {
			addrs = append(addrs, ip.String())
		}
	}
	var d net.Dialer
	var last error
	for _, a := range addrs {
		addr := net.JoinHostPort(a, port)
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return c, nil
		}
		last = &Error{Stage: StageConnect, Addr: addr, Err: ctxErr(ctx, err)}
		if ctx.Err() != nil {
			break
		}
	}
	if last == nil {
		last = &Error{Stage: StageDNS, Addr: host, Err: errors.New("no addresses")}
	}
	return nil, last
}

func upgrade(ctx context.Context, conn net.Conn, o Options, host string) (Result, error) {
	// The deadline and the context's cancellation both end a handshake that
	// hangs on a silent server.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	res, err := handshake(ctx, conn, o, host)
	if err != nil {
		return res, err
	}
	if !stop() {
		// The context ended and poisoned the deadline after all went well.
		return Result{}, &Error{Stage: StageHandshake, Err: ctx.Err()}
	}
	if err := res.Conn.SetDeadline(time.Time{}); err != nil {
		return Result{}, &Error{Stage: StageHandshake, Err: err}
	}
	return res, nil
}

func handshake(ctx context.Context, conn net.Conn, o Options, host string) (Result, error) {

	if o.URL.Scheme == "wss" {
		cfg := o.TLSConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return Result{}, &Error{Stage: StageTLS, Err: ctxErr(ctx, err)}
		}
		conn = tc
	}

	var status int
	var header http.Header
	d := ws.Dialer{
		Protocols: o.Protocols,
		Header:    ws.HandshakeHeaderHTTP(o.Header),
		OnStatusError: func(code int, _ []byte, resp io.Reader) {
			status = code
			if r, err := http.ReadResponse(bufio.NewReader(resp), nil); err == nil {
				header = r.Header
			}
		},
	}
	br, hs, err := d.Upgrade(&limitedConn{Conn: conn, left: maxResponseHead}, o.URL)
	if err != nil {
		if br != nil {
			ws.PutReader(br)
		}
		return Result{}, &Error{Stage: StageHandshake, Status: status, Header: header, Err: ctxErr(ctx, err)}
	}
	res := Result{Conn: conn, Protocol: hs.Protocol}
	if br != nil {
		if n := br.Buffered(); n > 0 {
			p, _ := br.Peek(n)
			res.Leftover = append([]byte(nil), p...)
		}
		ws.PutReader(br)
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

// maxResponseHead bounds the bytes read for the handshake response (status
// line and headers, plus any frames read along with them): gobwas reads
// lines without a limit, and a server streaming an endless header must not
// make the client buffer it.
const maxResponseHead = 64 << 10

// errResponseTooLarge is the handshake error past maxResponseHead.
var errResponseTooLarge = errors.New("handshake response header larger than 64 KiB")

// limitedConn fails reads past its budget; writes pass through.
type limitedConn struct {
	net.Conn
	left int
}

func (c *limitedConn) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errResponseTooLarge
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= n
	return n, err
}
