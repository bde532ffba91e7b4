package netlab

import (
	"net/http"
	"testing"
)

func TestTinyproxy(t *testing.T) {
	t.Parallel()
	// tinyproxy can only spell plain credentials, and answers wrong ones
	// with a 401.
	testHTTPProxy(t, (*Lab).Tinyproxy, &Auth{User: "Netlab.user-1", Pass: "pass_Word.2"}, http.StatusUnauthorized)
}

func TestSquid(t *testing.T) {
	t.Parallel()
	testHTTPProxy(t, (*Lab).Squid, &Auth{User: "Netlab user", Pass: "p@ss: w/rd%"}, http.StatusProxyAuthRequired)
}

// testHTTPProxy checks CONNECT through an HTTP proxy that start starts,
// to the target's address and to its name, without authentication and
// with auth. A request without credentials must get a 407, one with a
// wrong password wrongCode.
func testHTTPProxy(t *testing.T, start func(*Lab, testing.TB, *Auth) *Proxy, auth *Auth, wrongCode int) {
	l := New(t)
	port := echo(t, l)
	open, closed := start(l, t, nil), start(l, t, auth)
	targets := []string{hostPort(l.TargetIP, port), hostPort(l.TargetName, port)}
	for _, target := range targets {
		t.Run("open/"+target, func(t *testing.T) {
			code, c := connect(t, open.Addr, target, nil)
			if code != http.StatusOK {
				t.Fatalf("CONNECT %s: %d", target, code)
			}
			roundTrip(t, c)
		})
		t.Run("auth/"+target, func(t *testing.T) {
			code, c := connect(t, closed.Addr, target, auth)
			if code != http.StatusOK {
				t.Fatalf("CONNECT %s with credentials: %d", target, code)
			}
			roundTrip(t, c)
		})
	}
	target := targets[0]
	t.Run("auth/none", func(t *testing.T) {
		if code, _ := connect(t, closed.Addr, target, nil); code != http.StatusProxyAuthRequired {
			t.Fatalf("CONNECT without credentials: %d, want 407", code)
		}
	})
	t.Run("auth/wrong", func(t *testing.T) {
		wrong := &Auth{User: auth.User, Pass: auth.Pass + "x"}
		if code, _ := connect(t, closed.Addr, target, wrong); code != wrongCode {
			t.Fatalf("CONNECT with a wrong password: %d, want %d", code, wrongCode)
		}
	})
}
