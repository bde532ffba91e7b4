package dial

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
)

// socksConnect asks the SOCKS proxy p, connected as conn, for a tunnel to
// host:port. host is an IP address when the client resolved the name
// (socks4, socks5) and may be a name when the proxy resolves it (socks4a,
// socks5h). Every read takes exactly the bytes of the reply, so nothing
// the target sends is consumed here.
func socksConnect(conn net.Conn, p *url.URL, host string, port uint16) error {
	if p.Scheme == "socks4" || p.Scheme == "socks4a" {
		return socks4Connect(conn, p, host, port)
	}
	return socks5Connect(conn, p, host, port)
}

// SOCKS 4 and 4a (https://www.openssh.com/txt/socks4.protocol and
// socks4a.protocol): one request, an 8-byte reply.
func socks4Connect(conn net.Conn, p *url.URL, host string, port uint16) error {
	req := []byte{4, 1, byte(port >> 8), byte(port)}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Unmap().Is4() {
		a := ip.Unmap().As4()
		req = append(req, a[:]...)
		host = ""
	} else if p.Scheme == "socks4a" {
		// 0.0.0.x with x not 0 says the name follows the user id.
		req = append(req, 0, 0, 0, 1)
	} else {
		return &ProxyError{Failure: ProxyRefused, Err: errors.New("SOCKS4 carries IPv4 addresses only, and " + host + " is not one; socks4a sends the name")}
	}
	if p.User != nil {
		req = append(req, p.User.Username()...)
	}
	req = append(req, 0)
	if host != "" {
		req = append(append(req, host...), 0)
	}
	if _, err := conn.Write(req); err != nil {
		return &ProxyError{Failure: ProxyUnreachable, Err: err}
	}
	var rep [8]byte
	if _, err := io.ReadFull(conn, rep[:]); err != nil {
		return &ProxyError{Failure: ProxyBadResponse, Err: fmt.Errorf("reading the SOCKS4 reply: %w", err)}
	}
	if rep[0] != 0 {
		return &ProxyError{Failure: ProxyBadResponse, Err: fmt.Errorf("SOCKS4 reply version %d, want 0", rep[0])}
	}
	e := &ProxyError{Reply: int(rep[1])}
	switch rep[1] {
	case 90:
		return nil
	case 91:
		// One code for "rejected or failed": the proxy cannot say which.
		e.Failure, e.Err = ProxyRefused, errors.New("SOCKS4 request rejected or failed (91)")
	case 92, 93:
		e.Failure, e.Err = ProxyAuthFailed, fmt.Errorf("SOCKS4 request rejected: the proxy could not confirm the user id with identd (%d)", rep[1])
	default:
		e.Failure, e.Err = ProxyBadResponse, fmt.Errorf("SOCKS4 reply code %d", rep[1])
	}
	return e
}

// SOCKS 5 (RFC 1928) with no authentication or, when p has credentials,
// username and password (RFC 1929).
func socks5Connect(conn net.Conn, p *url.URL, host string, port uint16) error {
	hello := []byte{5, 1, 0}
	if p.User != nil {
		hello = []byte{5, 2, 0, 2}
	}
	if _, err := conn.Write(hello); err != nil {
		return &ProxyError{Failure: ProxyUnreachable, Err: err}
	}
	var b [4]byte
	if _, err := io.ReadFull(conn, b[:2]); err != nil {
		return &ProxyError{Failure: ProxyBadResponse, Err: fmt.Errorf("reading the SOCKS5 method: %w", err)}
	}
	if b[0] != 5 {
		return &ProxyError{Failure: ProxyBadResponse, Err: fmt.Errorf("SOCKS5 reply version %d, want 5", b[0])}
	}
	switch {
	case b[1] == 0:
	case b[1] == 2 && p.User != nil:
		if err := socks5Login(conn, p.User); err != nil {
			return err
		}
	case b[1] == 0xff:
		msg := "the SOCKS5 proxy accepts no authentication method offered (none"
		if p.User != nil {
			msg += ", username and password)"
		} else {
			msg += "): it may want a username and password"
		}
		return &ProxyError{Failure: ProxyAuthFailed, Err: errors.New(msg)}
	default:
		return &ProxyError{Failure: ProxyBadResponse, Err: fmt.Errorf("the SOCKS5 proxy chose method %d, which was not offered", b[1])}
	}

	req := []byte{5, 1, 0}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip = ip.Unmap(); ip.Is4() {
			a := ip.As4()
			req = append(append(req, 1), a[:]...)
		} else {
			a := ip.As16()
			req = append(append(req, 4), a[:]...)
		}
	} else {
		if len(host) > 255 {
			return &ProxyError{Failure: ProxyRefused, Err: errors.New("SOCKS5 carries host names of at most 255 bytes")}
		}
		req = append(append(req, 3, byte(len(host))), host...)
	}
	req = binary.BigEndian.AppendUint16(req, port)
	if _, err := conn.Write(req); err != nil {
		return &ProxyError{Failure: ProxyUnreachable, Err: err}
	}
	if _, err := io.ReadFull(conn, b[:4]); err != nil {
		return &ProxyError{Failure: ProxyBadResponse, Err: fmt.Errorf("reading the SOCKS5 reply: %w", err)}
	}
	if b[0] != 5 {
		return &ProxyError{Failure: ProxyBadResponse, Err: fmt.Errorf("SOCKS5 reply version %d, want 5", b[0])}
	}
	if b[1] != 0 {
		e := &ProxyError{Reply: int(b[1]), Err: fmt.Errorf("SOCKS5 CONNECT %s: %s (%d)", net.JoinHostPort(host, fmt.Sprint(port)), socks5Reply(b[1]), b[1])}
		switch b[1] {
		case 3, 4, 5, 6:
			e.Failure = ProxyTargetUnreachable
		default:
			e.Failure = ProxyRefused
		}
		return e
	}
	// The address the proxy bound, which a client has no use for.
	var n int
	switch b[3] {
	case 1:
		n = 4
	case 4:
		n = 16
	case 3:
		if _, err := io.ReadFull(conn, b[:1]); err != nil {
			return &ProxyError{Failure: ProxyBadResponse, Err: fmt.Errorf("reading the SOCKS5 reply: %w", err)}
		}
		n = int(b[0])
	default:
		return &ProxyError{Failure: ProxyBadResponse, Err: fmt.Errorf("SOCKS5 reply address type %d", b[3])}
	}
	if _, err := io.ReadFull(conn, make([]byte, n+2)); err != nil {
		return &ProxyError{Failure: ProxyBadResponse, Err: fmt.Errorf("reading the SOCKS5 reply: %w", err)}
	}
	return nil
}

// socks5Login is RFC 1929's username and password exchange.
func socks5Login(conn net.Conn, user *url.Userinfo) error {
	name := user.Username()
	pass, _ := user.Password()
	if len(name) == 0 || len(name) > 255 || len(pass) > 255 {
		return &ProxyError{Failure: ProxyAuthFailed, Err: errors.New("SOCKS5 takes a username of 1 to 255 bytes and a password of at most 255")}
	}
	req := append([]byte{1, byte(len(name))}, name...)
	req = append(append(req, byte(len(pass))), pass...)
	if _, err := conn.Write(req); err != nil {
		return &ProxyError{Failure: ProxyUnreachable, Err: err}
	}
	var rep [2]byte
	if _, err := io.ReadFull(conn, rep[:]); err != nil {
		return &ProxyError{Failure: ProxyBadResponse, Err: fmt.Errorf("reading the SOCKS5 login reply: %w", err)}
	}
	if rep[1] != 0 {
		return &ProxyError{Failure: ProxyAuthFailed, Reply: int(rep[1]), Err: fmt.Errorf("the SOCKS5 proxy refused the username and password (status %d)", rep[1])}
	}
	return nil
}

// socks5Reply names RFC 1928's reply codes.
func socks5Reply(code byte) string {
	names := [...]string{
		1: "general SOCKS server failure",
		2: "connection not allowed by ruleset",
		3: "network unreachable",
		4: "host unreachable",
		5: "connection refused",
		6: "TTL expired",
		7: "command not supported",
		8: "address type not supported",
	}
	if int(code) < len(names) && names[code] != "" {
		return names[code]
	}
	return "unassigned reply code"
}
