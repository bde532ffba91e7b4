package netlab

import (
	"context"
	"errors"
	"net"
	"net/url"
	"syscall"
	"testing"
)

// TestIsolation checks what makes a lab worth having: the test process can
// neither reach the target nor resolve its name, so that a connection that
// gets there went through a proxy.
func TestIsolation(t *testing.T) {
	t.Parallel()
	l := New(t)
	ln := l.Listen(t)
	addr := ln.Addr().(*net.TCPAddr)
	if addr.IP.String() != l.TargetIP {
		t.Fatalf("Listen is on %v, want %s", addr, l.TargetIP)
	}
	c, err := net.DialTimeout("tcp", addr.String(), ioTimeout)
	if err == nil {
		c.Close()
		t.Fatalf("the test process connected to %v", addr)
	}
	// The root namespace's unreachable route answers at once; a timeout
	// would mean the dial went out into some network.
	if !errors.Is(err, syscall.EHOSTUNREACH) && !errors.Is(err, syscall.ENETUNREACH) {
		t.Fatalf("dialing %v: %v, want no route to host", addr, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	if addrs, err := net.DefaultResolver.LookupHost(ctx, l.TargetName); err == nil {
		t.Fatalf("the test process resolved %s to %v", l.TargetName, addrs)
	}
}

// TestLabsApart checks that labs alive at once have names and subnets of
// their own.
func TestLabsApart(t *testing.T) {
	t.Parallel()
	a, b := New(t), New(t)
	if a.NS == b.NS || a.ProxyIP == b.ProxyIP || a.TargetIP == b.TargetIP {
		t.Fatalf("two labs share names or addresses: %+v and %+v", a, b)
	}
}

func TestURL(t *testing.T) {
	p := &Proxy{Addr: "10.231.7.2:10000"}
	if got, want := p.URL("http"), "http://10.231.7.2:10000"; got != want {
		t.Errorf("URL without auth = %q, want %q", got, want)
	}
	p.Auth = &Auth{User: "us er", Pass: "p@ss:w/rd%?#"}
	for _, scheme := range []string{"http", "socks5", "socks5h", "socks4", "socks4a"} {
		s := p.URL(scheme)
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("URL(%q) = %q: %v", scheme, s, err)
		}
		pass, _ := u.User.Password()
		if u.Scheme != scheme || u.Host != p.Addr || u.User.Username() != p.Auth.User || pass != p.Auth.Pass {
			t.Errorf("URL(%q) = %q, which parses to %s, %s, %q, %q", scheme, s, u.Scheme, u.Host, u.User.Username(), pass)
		}
	}
}
