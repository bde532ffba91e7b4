package netlab

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wsloop/websocket/test/internal/testenv"
)

// ncsaAuth is the helper Squid checks Basic credentials with, against a
// file in Apache's htpasswd format.
const ncsaAuth = "/usr/lib/squid/basic_ncsa_auth"

// Squid starts Squid, an HTTP proxy, in the lab, with no disk cache. It
// tunnels CONNECT requests to any port (Debian's configuration allows only
// 443) from the test process, and passes other requests on as an HTTP
// proxy does. With auth, it requires Basic credentials in a
// Proxy-Authorization header, checked by basic_ncsa_auth, and answers 407
// without them or with wrong ones.
//
// Squid does not serve as root (started as root, it becomes another
// user): it runs as the proxy user, or nobody, and keeps its files in a directory of its own that user can write, removed
// at t's cleanup. It needs setpriv (util-linux) for that.
func (l *Lab) Squid(t testing.TB, auth *Auth) *Proxy {
	t.Helper()
	path := need(t, "squid", "squid")
	setpriv := need(t, "setpriv", "util-linux")
	if auth != nil {
		if _, err := os.Stat(ncsaAuth); err != nil {
			testenv.Unavailable(t, fmt.Sprintf("squid's %s: %v: apt-get install squid", ncsaAuth, err))
		}
		if strings.ContainsAny(auth.User, ":\n") || strings.Contains(auth.Pass, "\n") {
			t.Fatalf("netlab: squid's password file can not hold the credentials %q:%q", auth.User, auth.Pass)
		}
	}
	account, dir := squidDir(t)
	port := l.port()
	conf := fmt.Sprintf(`http_port %s:%d
visible_hostname netlab
pid_filename %s
cache_log %s
access_log stdio:%s
coredump_dir %s
cache deny all
cache_mem 8 MB
max_filedescriptors 1024
pinger_enable off
netdb_filename none
shutdown_lifetime 0 seconds
acl lab src %s
http_access deny !lab
`, l.ProxyIP, port,
		filepath.Join(dir, "squid.pid"), filepath.Join(dir, "cache.log"),
		filepath.Join(dir, "access.log"), dir, l.slot.vethNet())
	if auth != nil {
		// basic_ncsa_auth takes crypt(3)'s formats, MD5-crypt ($1$,
		// $apr1$) and, the simplest to make, an unsalted MD5 in hex.
		// Squid lowercases user names unless casesensitive is on.
		sum := md5.Sum([]byte(auth.Pass))
		passwd := filepath.Join(dir, "passwd")
		if err := os.WriteFile(passwd, []byte(auth.User+":"+hex.EncodeToString(sum[:])+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		// A request whose last ACL is a failed proxy_auth gets a 407.
		conf += fmt.Sprintf(`auth_param basic program %s %s
auth_param basic children 2 startup=1 idle=1
auth_param basic realm netlab
auth_param basic casesensitive on
acl authed proxy_auth REQUIRED
http_access deny !authed
`, ncsaAuth, passwd)
	}
	conf += "http_access allow lab\nhttp_access deny all\n"
	file := filepath.Join(dir, "squid.conf")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// Squid started as root would drop to its user itself, and with
	// that lose the parent-death signal (see start); setpriv makes it
	// its user and sets the signal again, before Squid starts.
	// -N keeps it in the foreground as a single process (no workers),
	// -d 1 copies cache.log's messages to standard error. Asked to
	// stop, Squid takes a second or two whatever shutdown_lifetime says;
	// killed, it loses nothing that matters here: its logs are not
	// buffered, and only transactions still open go unlogged.
	return l.start(t, daemon{
		name: "squid",
		args: []string{
			setpriv, "--reuid=" + account, "--regid=" + account, "--init-groups", "--pdeathsig=KILL",
			path, "-N", "-d", "1", "-f", file,
		},
		logs: []string{filepath.Join(dir, "access.log")},
		kill: true,
	}, port, auth)
}

// squidDir returns the account Squid is to run as and a directory it can
// write, removed at t's cleanup. t.TempDir's directories are open to root
// only, hence a directory of its own.
func squidDir(t testing.TB) (account, dir string) {
	t.Helper()
	u, err := user.Lookup("proxy")
	if err != nil {
		if u, err = user.Lookup("nobody"); err != nil {
			testenv.Unavailable(t, "squid needs a proxy or nobody account to run as")
		}
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		t.Fatalf("netlab: account %s has uid %q, gid %q", u.Username, u.Uid, u.Gid)
	}
	dir, err = os.MkdirTemp("", "netlab-squid-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return u.Username, dir
}
