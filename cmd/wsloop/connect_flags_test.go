package main

import (
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestConnectUsageNamesEveryFlag: the usage text is written by hand, to
// show each flag beside its alias; each flag defined must be in it.
func TestConnectUsageNamesEveryFlag(t *testing.T) {
	code, _, stderr := runConnect(t, "", "-h")
	if code != 0 {
		t.Fatalf("-h: exit code %d", code)
	}
	n := 0
	newConnectFlags(io.Discard).fs.VisitAll(func(f *flag.Flag) {
		n++
		if !strings.Contains(stderr, " -"+f.Name+" ") && !strings.Contains(stderr, " -"+f.Name+",") {
			t.Errorf("the usage text does not show -%s", f.Name)
		}
	})
	if n < 20 {
		t.Errorf("%d flags seen, want the 20 and more of connect", n)
	}
}

// TestConnectRequestFlags: -H, -origin and -protocol reach the server,
// in either spelling.
func TestConnectRequestFlags(t *testing.T) {
	t.Parallel()
	srv := startUpgradeServer(t, false)
	code, _, stderr := runConnect(t, "hi\n",
		"-H", "X-One: 1", "--header", "X-One: 2", "-H", "Authorization:Bearer t0k",
		"-o", "https://app.example", "-s", "v2", "--protocol", "chat", "-w", "0", srv.url)
	if code != 0 {
		t.Fatalf("exit code %d\n%s", code, stderr)
	}
	wantLines(t, "stderr", stderr, "(protocol chat)")
	r := srv.request(t, 0)
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"X-One", []string{"1", "2"}},
		{"Authorization", []string{"Bearer t0k"}},
		{"Origin", []string{"https://app.example"}},
		{"Sec-Websocket-Protocol", []string{"v2, chat"}},
	} {
		if got := r.Header.Values(tc.name); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestConnectTLS: a server whose certificate is not trusted fails the
// run, unless -cacert names it or -insecure skips the check.
func TestConnectTLS(t *testing.T) {
	t.Parallel()
	srv := startUpgradeServer(t, true)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"untrusted", nil, exitFailure, "certificate"},
		{"cacert", []string{"--cacert", srv.certFile(t)}, 0, "wasClean=true"},
		{"insecure", []string{"-k"}, 0, "wasClean=true"},
		{"insecure, long", []string{"--insecure"}, 0, "wasClean=true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runConnect(t, "secret\n", append(tc.args, "-w", "0", srv.url)...)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d\n%s", code, tc.code, stderr)
			}
			wantLines(t, "stderr", stderr, tc.stderr)
			if code == 0 && stdout != "secret\n" {
				t.Errorf("stdout = %q", stdout)
			}
		})
	}
}

// TestConnectProxy: -proxy tunnels through an HTTP proxy, even to a
// loopback server (which the environment's proxy settings never cover).
func TestConnectProxy(t *testing.T) {
	t.Parallel()
	srv := startEcho(t)
	proxy := startConnectProxy(t)
	code, stdout, stderr := runConnect(t, "via proxy\n", "--proxy", "http://"+proxy.addr, "-w", "0", srv.URL())
	if code != 0 || stdout != "via proxy\n" {
		t.Fatalf("exit code %d, stdout %q\n%s", code, stdout, stderr)
	}
	host := strings.TrimSuffix(strings.TrimPrefix(srv.URL(), "ws://"), "/")
	if got := proxy.tunnelsAsked(); !slices.Equal(got, []string{host}) {
		t.Errorf("tunnels asked of the proxy: %q, want %q", got, host)
	}
}
