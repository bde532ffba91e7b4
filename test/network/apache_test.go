package network

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsloop/websocket/test/internal/testenv"
)

// Debian's Apache httpd (package apache2) and its modules.
const (
	apacheBin     = "/usr/sbin/apache2"
	apacheModules = "/usr/lib/apache2/modules"
)

// apacheModuleFiles are the modules the Digest proxy loads (mod_unixd and
// mod_log_config are built in).
var apacheModuleFiles = [][2]string{
	{"mpm_event_module", "mod_mpm_event.so"},
	{"authn_core_module", "mod_authn_core.so"},
	{"authn_file_module", "mod_authn_file.so"},
	{"authz_core_module", "mod_authz_core.so"},
	{"authz_user_module", "mod_authz_user.so"},
	{"auth_digest_module", "mod_auth_digest.so"},
	{"proxy_module", "mod_proxy.so"},
	{"proxy_http_module", "mod_proxy_http.so"},
	{"proxy_wstunnel_module", "mod_proxy_wstunnel.so"},
}

// apacheStart bounds Apache's start, and apacheAttempts the ports tried:
// the free port found is free no more if another process takes it before
// Apache binds it.
const (
	apacheStart    = 15 * time.Second
	apacheAttempts = 5
)

// apacheDigest is an Apache httpd on 127.0.0.1 whose /ws is behind Digest
// authentication (mod_auth_digest) and proxied, with mod_proxy_wstunnel,
// to a WebSocket server.
type apacheDigest struct {
	addr      string // host:port
	challenge string // its WWW-Authenticate for /ws, seen when it started
}

// startApacheDigest runs Apache in the foreground (-X: one process) with a
// configuration made here: /ws wants Digest credentials in realm "wsloop"
// for user and pass, from a file in htdigest's format, and is proxied to
// ws://backend/. It is killed at t's cleanup, which shows its error and
// access logs when t failed. Without apache2 and its modules the test is
// skipped, or fails when WSLOOP_PEERS is "required".
//
// Apache started as root would drop to another user, and with that lose
// the parent-death signal that kills it should this process die first:
// setpriv makes it www-data (or nobody) before it starts, and sets the
// signal again. Its files are then in a directory of that user's.
func startApacheDigest(t *testing.T, backend, user, pass string) *apacheDigest {
	t.Helper()
	if _, err := os.Stat(apacheBin); err != nil {
		testenv.Unavailable(t, fmt.Sprintf("Apache httpd: %v (apt-get install apache2)", err))
	}
	for _, m := range apacheModuleFiles {
		if _, err := os.Stat(filepath.Join(apacheModules, m[1])); err != nil {
			testenv.Unavailable(t, fmt.Sprintf("Apache httpd: %v (apt-get install apache2)", err))
		}
	}
	if strings.ContainsAny(user+pass, ":\n") {
		t.Fatalf("apache: htdigest's file can not hold the credentials %q:%q", user, pass)
	}
	var argv []string
	dir := apacheDir(t)
	if os.Geteuid() == 0 {
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			testenv.Unavailable(t, "Apache httpd run as root needs setpriv (apt-get install util-linux)")
		}
		account := apacheAccount(t)
		argv = []string{setpriv, "--reuid=" + account.Uid, "--regid=" + account.Gid, "--init-groups", "--pdeathsig=KILL"}
		uid, _ := strconv.Atoi(account.Uid)
		gid, _ := strconv.Atoi(account.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	const realm = "wsloop"
	ha1 := md5.Sum([]byte(user + ":" + realm + ":" + pass))
	passwords := filepath.Join(dir, "htdigest")
	if err := os.WriteFile(passwords, []byte(user+":"+realm+":"+hex.EncodeToString(ha1[:])+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	errorLog := filepath.Join(dir, "error.log")
	accessLog := filepath.Join(dir, "access.log")
	t.Cleanup(func() {
		if t.Failed() {
			for _, f := range []string{errorLog, accessLog} {
				b, _ := os.ReadFile(f)
				t.Logf("apache %s:\n%s", filepath.Base(f), b)
			}
		}
	})

	var modules strings.Builder
	for _, m := range apacheModuleFiles {
		fmt.Fprintf(&modules, "LoadModule %s %s\n", m[0], filepath.Join(apacheModules, m[1]))
	}
	for attempt := 1; ; attempt++ {
		addr := freeAddr(t)
		// The logs tell of this attempt only.
		os.Remove(errorLog)
		os.Remove(accessLog)
		conf := filepath.Join(dir, "httpd.conf")
		err := os.WriteFile(conf, []byte(modules.String()+fmt.Sprintf(`ServerRoot %[1]s
DefaultRuntimeDir %[1]s
PidFile %[1]s/httpd.pid
ErrorLog %[2]s
LogLevel info
LogFormat "%%h \"%%r\" %%>s user=%%u" wsloop
CustomLog %[3]s wsloop
Listen %[4]s
ServerName 127.0.0.1
Timeout 20
<Location /ws>
	AuthType Digest
	AuthName %[5]q
	AuthDigestProvider file
	AuthUserFile %[6]s
	Require valid-user
	ProxyPass "ws://%[7]s/"
</Location>
`, dir, errorLog, accessLog, addr, realm, passwords, backend)), 0o644)
		if err != nil {
			t.Fatal(err)
		}
		a, out, err := runApache(t, append(argv, apacheBin, "-X", "-f", conf), addr)
		if err == nil {
			t.Logf("apache on %s: WWW-Authenticate: %s", addr, a.challenge)
			return a
		}
		b, _ := os.ReadFile(errorLog)
		if attempt < apacheAttempts && strings.Contains(out+string(b), "Address already in use") {
			t.Logf("apache: %s was taken; another port", addr)
			continue
		}
		t.Fatalf("apache: %v\n%s", err, out)
	}
}

// runApache starts argv, Apache told to listen on addr, and waits until
// it answers there; on failure it returns Apache's output. The process is
// killed at t's cleanup, or at once when it did not start.
func runApache(t *testing.T, argv []string, addr string) (*apacheDigest, string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	var out testenv.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	stop := func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	challenge, err := apacheReady(addr, exited)
	if err != nil {
		stop()
		return nil, out.String(), err
	}
	t.Cleanup(stop)
	return &apacheDigest{addr: addr, challenge: challenge}, "", nil
}

// apacheReady polls addr until Apache answers a GET of /ws with its
// Digest challenge, and returns the challenge; it fails at once when
// Apache exits, and after apacheStart.
func apacheReady(addr string, exited <-chan struct{}) (string, error) {
	deadline := time.Now().Add(apacheStart)
	for {
		select {
		case <-exited:
			return "", fmt.Errorf("apache exited before serving %s", addr)
		default:
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("apache did not serve %s within %v", addr, apacheStart)
		}
		resp, err := rawGet(addr, "/ws", deadline)
		if err != nil {
			// Not listening yet: poll again shortly.
			select {
			case <-exited:
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		ch := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(ch, "Digest ") {
			return "", fmt.Errorf("GET /ws on %s: %s, WWW-Authenticate %q; not Apache's Digest challenge", addr, resp.Status, ch)
		}
		return ch, nil
	}
}

// rawGet sends a GET of target to addr on a connection of its own and
// reads the response's head.
func rawGet(addr, target string, deadline time.Time) (*http.Response, error) {
	c, err := net.DialTimeout("tcp", addr, time.Until(deadline))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(deadline)
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, addr); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return resp, nil
}

// apacheDir is a directory for Apache's files, readable by all (its user
// may not be root's), removed at t's cleanup. t.TempDir's directories are
// open to their owner only.
func apacheDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wsloop-apache-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// apacheAccount is the account Apache runs as when the test runs as root:
// www-data, Debian's, or else nobody.
func apacheAccount(t *testing.T) *user.User {
	t.Helper()
	for _, name := range []string{"www-data", "nobody"} {
		if u, err := user.Lookup(name); err == nil {
			return u
		}
	}
	testenv.Unavailable(t, "Apache httpd run as root needs a www-data or nobody account to run as")
	return nil
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
