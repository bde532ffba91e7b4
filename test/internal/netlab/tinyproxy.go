package netlab

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// tinyproxyWord is what tinyproxy 1.11's configuration takes as a
// BasicAuth user name or password: it has no quoting, and rejects the
// file over any other character.
var tinyproxyWord = regexp.MustCompile(`^[-A-Za-z0-9._]+$`)

// Tinyproxy starts tinyproxy, an HTTP proxy, in the lab. It tunnels CONNECT
// requests to any port, and passes other requests on as an HTTP proxy does.
// With auth, it requires Basic credentials in a Proxy-Authorization header.
// It answers 407 (with Proxy-Authenticate) without them, but 401
// Unauthorized (with WWW-Authenticate, as an origin server would) to wrong
// ones: a client must take either for a refusal of its proxy credentials.
// tinyproxy 1.11 can only spell credentials made of letters, digits, '-',
// '.' and '_'.
func (l *Lab) Tinyproxy(t testing.TB, auth *Auth) *Proxy {
	t.Helper()
	path := need(t, "tinyproxy", "tinyproxy")
	dir := t.TempDir()
	port := l.port()
	// Without a ConnectPort line, tinyproxy allows CONNECT to any port;
	// without Allow lines, any client. With neither LogFile nor Syslog,
	// it logs to standard output.
	conf := fmt.Sprintf(`Port %d
Listen %s
Timeout 600
MaxClients 100
LogLevel Info
PidFile "%s"
DisableViaHeader Yes
`, port, l.ProxyIP, filepath.Join(dir, "tinyproxy.pid"))
	if auth != nil {
		if !tinyproxyWord.MatchString(auth.User) || !tinyproxyWord.MatchString(auth.Pass) {
			t.Fatalf("netlab: tinyproxy can not spell the credentials %q:%q: use letters, digits, '-', '.' and '_'", auth.User, auth.Pass)
		}
		conf += fmt.Sprintf("BasicAuth %s %s\n", auth.User, auth.Pass)
	}
	file := filepath.Join(dir, "tinyproxy.conf")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// -d keeps it in the foreground.
	return l.start(t, daemon{name: "tinyproxy", args: []string{path, "-d", "-c", file}}, port, auth)
}
