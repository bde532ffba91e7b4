package netlab

import (
	"strconv"
	"testing"
)

// Microsocks starts microsocks, a SOCKS5 proxy (and only 5), in the lab.
// With auth, it requires the username/password method; without, it
// offers no authentication. It resolves host names in the namespace.
func (l *Lab) Microsocks(t testing.TB, auth *Auth) *Proxy {
	t.Helper()
	path := need(t, "microsocks", "microsocks")
	port := l.port()
	args := []string{path, "-i", l.ProxyIP, "-p", strconv.Itoa(port)}
	if auth != nil {
		args = append(args, "-u", auth.User, "-P", auth.Pass)
	}
	return l.start(t, daemon{name: "microsocks", args: args}, port, auth)
}
