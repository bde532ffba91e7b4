package dial

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
)

// NetDialFunc makes a connection, as net.Dialer.DialContext does.
type NetDialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// connect makes the TCP connection to host:port: through netDial when it
// is set, which is given the name unresolved; else to each of the host's
// addresses in turn until one answers.
func connect(ctx context.Context, netDial NetDialFunc, host, port string) (net.Conn, error) {
	if netDial != nil {
		addr := net.JoinHostPort(host, port)
		c, err := netDial(ctx, "tcp", addr)
		if err != nil {
			return nil, &Error{Stage: StageConnect, Addr: addr, Err: ctxErr(ctx, err)}
		}
		if c == nil {
			return nil, &Error{Stage: StageConnect, Addr: addr, Err: errors.New("NetDial returned no connection and no error")}
		}
		return c, nil
	}
	addrs, err := resolve(ctx, host)
	if err != nil {
		return nil, err
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
	return nil, last
}

// resolve is the name resolution stage: host's addresses, or host itself
// when it is an address.
func resolve(ctx context.Context, host string) ([]string, error) {
	if ip := net.ParseIP(host); ip != nil {
		return []string{host}, nil
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, &Error{Stage: StageDNS, Addr: host, Err: ctxErr(ctx, err)}
	}
	if len(ips) == 0 {
		return nil, &Error{Stage: StageDNS, Addr: host, Err: errors.New("no addresses")}
	}
	addrs := make([]string, len(ips))
	for i, ip := range ips {
		addrs[i] = ip.String()
	}
	return addrs, nil
}

// connectProxy makes the connection to the proxy p; a failure is the
// proxy's, ProxyUnreachable.
func connectProxy(ctx context.Context, netDial NetDialFunc, p *url.URL) (net.Conn, error) {
	c, err := connect(ctx, netDial, p.Hostname(), p.Port())
	if err != nil {
		return nil, &ProxyError{Proxy: Redacted(p), Failure: ProxyUnreachable, Err: err}
	}
	return c, nil
}

// tunnel is the proxy stage: over conn, connected to o.Proxy, it opens
// the tunnel to host:port (TLS first to an https:// proxy) and returns
// the connection that carries it.
func tunnel(ctx context.Context, conn net.Conn, o Options, host, port string) (net.Conn, error) {
	p := o.Proxy
	c, err := openTunnel(ctx, conn, o, host, port)
	if err != nil {
		var pe *ProxyError
		if errors.As(err, &pe) {
			pe.Proxy = Redacted(p)
			pe.Err = ctxErr(ctx, pe.Err)
		}
		return nil, err
	}
	return c, nil
}

func openTunnel(ctx context.Context, conn net.Conn, o Options, host, port string) (net.Conn, error) {
	p := o.Proxy
	switch p.Scheme {
	case "https":
		cfg := o.TLSConfig.Clone()
		if cfg != nil {
			cfg.ServerName = ""
		}
		tc, err := startTLS(ctx, conn, cfg, p.Hostname())
		if err != nil {
			return nil, &ProxyError{Failure: ProxyUnreachable, Err: err}
		}
		conn = tc
		fallthrough
	case "http":
		h := o.ProxyHeader
		if h.Get("User-Agent") == "" {
			// The proxy sees the socket's User-Agent, not Go's default.
			h = h.Clone()
			if h == nil {
				h = http.Header{}
			}
			h.Set("User-Agent", o.Header.Get("User-Agent"))
		}
		return conn, httpConnect(conn, p, net.JoinHostPort(host, port), h)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, &Error{Stage: StageConnect, Addr: host, Err: errors.New("bad port " + port)}
	}
	if p.Scheme == "socks5" || p.Scheme == "socks4" {
		// The client resolves the name; SOCKS4 takes an IPv4 address.
		addrs, err := resolve(ctx, host)
		if err != nil {
			return nil, err
		}
		host = addrs[0]
		if p.Scheme == "socks4" {
			for _, a := range addrs {
				if ip := net.ParseIP(a); ip.To4() != nil {
					host = a
					break
				}
			}
		}
	}
	return conn, socksConnect(conn, p, host, uint16(n))
}
