package netlab

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/net/proxy"
)

func TestDante(t *testing.T) {
	t.Parallel()
	l := New(t)
	port := echo(t, l)
	auth := l.NewAuth("s3cret: p@ss/%")
	open, closed := l.Dante(t, nil), l.Dante(t, auth)
	testSOCKS5(t, l, port, open, closed)

	t.Run("socks4", func(t *testing.T) {
		code, c := socks4(t, open.Addr, l.TargetIP, "", port)
		if code != socks4Granted {
			t.Fatalf("SOCKS4 request for %s: code %d", l.TargetIP, code)
		}
		roundTrip(t, c)
	})
	t.Run("socks4a", func(t *testing.T) {
		code, c := socks4(t, open.Addr, "", l.TargetName, port)
		if granted := code == socks4Granted; granted != DanteSOCKS4a {
			t.Fatalf("SOCKS4a request for %s: code %d; DanteSOCKS4a is %v", l.TargetName, code, DanteSOCKS4a)
		}
		if c != nil {
			roundTrip(t, c)
		}
	})
	t.Run("auth/socks4", func(t *testing.T) {
		if code, c := socks4(t, closed.Addr, l.TargetIP, "", port); code == socks4Granted {
			c.Close()
			t.Fatalf("SOCKS4 request granted by a proxy that requires a password")
		}
	})
}

func TestMicrosocks(t *testing.T) {
	t.Parallel()
	l := New(t)
	port := echo(t, l)
	open, closed := l.Microsocks(t, nil), l.Microsocks(t, &Auth{User: "Netlab user", Pass: "s3cret: p@ss/%"})
	testSOCKS5(t, l, port, open, closed)
}

// testSOCKS5 checks SOCKS5 connections to the target's address and to its
// name through open, which requires no authentication, and closed, which
// requires its Auth.
func testSOCKS5(t *testing.T, l *Lab, port int, open, closed *Proxy) {
	for _, target := range []string{hostPort(l.TargetIP, port), hostPort(l.TargetName, port)} {
		t.Run("open/"+target, func(t *testing.T) {
			c, err := socks5(open.Addr, nil, target)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, c)
		})
		t.Run("auth/"+target, func(t *testing.T) {
			c, err := socks5(closed.Addr, closed.Auth, target)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, c)
		})
	}
	target := hostPort(l.TargetIP, port)
	t.Run("auth/none", func(t *testing.T) {
		if c, err := socks5(closed.Addr, nil, target); err == nil {
			c.Close()
			t.Fatal("connected without credentials")
		}
	})
	t.Run("auth/wrong", func(t *testing.T) {
		wrong := &Auth{User: closed.Auth.User, Pass: closed.Auth.Pass + "x"}
		if c, err := socks5(closed.Addr, wrong, target); err == nil {
			c.Close()
			t.Fatal("connected with a wrong password")
		}
	})
}

// socks5 connects to target through the SOCKS5 proxy at addr, with
// auth's credentials unless it is nil. A target given by name is sent as
// a name, for the proxy to resolve.
func socks5(addr string, auth *Auth, target string) (net.Conn, error) {
	var pa *proxy.Auth
	if auth != nil {
		pa = &proxy.Auth{User: auth.User, Password: auth.Pass}
	}
	d, err := proxy.SOCKS5("tcp", addr, pa, proxy.Direct)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	return d.(proxy.ContextDialer).DialContext(ctx, "tcp", target)
}

// socks4Granted is the SOCKS4 reply code for a granted request.
const socks4Granted = 90

// socks4 asks the SOCKS4 proxy at addr for a connection to ip:port or,
// when ip is "", to host:port the SOCKS4a way (the address 0.0.0.1 and the
// name after the user id). It returns the reply code and, when the request
// was granted, the connection.
func socks4(t *testing.T, addr, ip, host string, port int) (byte, net.Conn) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatalf("dialing the proxy: %v", err)
	}
	c.SetDeadline(time.Now().Add(ioTimeout))
	req := []byte{4, 1, byte(port >> 8), byte(port)}
	if ip != "" {
		req = append(req, net.ParseIP(ip).To4()...)
		req = append(req, "netlab\x00"...)
	} else {
		req = append(req, 0, 0, 0, 1)
		req = append(req, "netlab\x00"...)
		req = append(req, host+"\x00"...)
	}
	if _, err := c.Write(req); err != nil {
		c.Close()
		t.Fatalf("writing the SOCKS4 request: %v", err)
	}
	reply := make([]byte, 8)
	if _, err := io.ReadFull(c, reply); err != nil {
		c.Close()
		// A proxy may close the connection instead of replying.
		t.Logf("reading the SOCKS4 reply: %v", err)
		return 0, nil
	}
	if reply[1] != socks4Granted {
		c.Close()
		return reply[1], nil
	}
	c.SetDeadline(time.Time{})
	return reply[1], c
}
