package netlab

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// DanteSOCKS4a reports whether Dante's server (Debian's 1.4.2) accepts
// SOCKS4a requests, which carry a host name for the proxy to resolve. It
// does not: see Dante. TestDante checks that this still holds.
const DanteSOCKS4a = false

// Dante starts Dante's SOCKS server, danted, in the lab.
//
// Without auth it serves SOCKS4 and SOCKS5 clients with no authentication.
// SOCKS4 requests must carry an IPv4 address: danted 1.4.2 does not
// implement SOCKS4a (DanteSOCKS4a). It reads a SOCKS4a request, for the
// address 0.0.0.1 with the host name after the user id, as a SOCKS4 one:
// it ignores the name, fails to connect to 0.0.0.1 ("Network is
// unreachable" in its log) and replies 91, request rejected. SOCKS5
// requests may carry a host name, which danted resolves in the namespace.
//
// With auth it requires SOCKS5's username/password method, and refuses
// SOCKS4, which has no password. danted checks the credentials against the
// system's accounts, so auth.User becomes one (with no home or shell) for
// the proxy's life: it must not exist yet, which Lab.NewAuth's names are
// made for; the password must not hold a newline.
func (l *Lab) Dante(t testing.TB, auth *Auth) *Proxy {
	t.Helper()
	path := need(t, "danted", "dante-server")
	dir := t.TempDir()
	port := l.port()
	method := "none"
	if auth != nil {
		l.addUser(t, auth)
		method = "username"
	}
	// The outgoing connections leave from ProxyIP, an address of the
	// namespace like TargetIP; the lab's routes take them to it through
	// the namespace's loopback interface. danted runs as root all along,
	// which it warns against, so as not to lose the parent-death signal
	// (see start); the privileged user reads the shadow passwords.
	conf := fmt.Sprintf(`logoutput: stderr
internal: %s port = %d
external: %s
clientmethod: none
socksmethod: %s
user.privileged: root
user.unprivileged: root
client pass {
	from: %s to: 0.0.0.0/0
	log: error
}
socks pass {
	from: 0.0.0.0/0 to: 0.0.0.0/0
	command: connect
	protocol: tcp
	log: error connect
}
`, l.ProxyIP, port, l.ProxyIP, method, l.slot.vethNet())
	file := filepath.Join(dir, "danted.conf")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// danted stays in the foreground without -D; -p keeps it from the
	// system's pid file, which an installed danted would own.
	return l.start(t, daemon{
		name: "danted",
		args: []string{path, "-f", file, "-p", filepath.Join(dir, "danted.pid")},
	}, port, auth)
}

// accountName is what useradd takes as a user name without --badname.
var accountName = regexp.MustCompile(`^[a-z_][-a-z0-9_]{0,30}$`)

// addUser makes auth a system account for the rest of t, marked as the
// lab's so that the lab's cleanup, or a later run's, deletes it.
func (l *Lab) addUser(t testing.TB, auth *Auth) {
	t.Helper()
	if !accountName.MatchString(auth.User) {
		t.Fatalf("netlab: %q can not be an account's name; see Lab.NewAuth", auth.User)
	}
	if strings.Contains(auth.Pass, "\n") {
		t.Fatalf("netlab: chpasswd can not set a password with a newline")
	}
	if _, err := user.Lookup(auth.User); err == nil {
		t.Fatalf("netlab: account %s exists already; see Lab.NewAuth", auth.User)
	}
	useradd, userdel, chpasswd := need(t, "useradd", "passwd"), need(t, "userdel", "passwd"), need(t, "chpasswd", "passwd")
	run := func(stdin string, name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("netlab: %s %s: %v: %s", name, strings.Join(args, " "), err, out)
		}
	}
	run("", useradd, "-M", "-N", "-s", "/usr/sbin/nologin", "-c", l.slot.userMark(), auth.User)
	t.Cleanup(func() {
		if out, err := exec.Command(userdel, auth.User).CombinedOutput(); err != nil {
			t.Errorf("netlab: userdel %s: %v: %s", auth.User, err, out)
		}
	})
	run(auth.User+":"+auth.Pass+"\n", chpasswd)
}
