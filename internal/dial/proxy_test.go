package dial

import (
	"errors"
	"strings"
	"testing"

	"github.com/wsloop/websocket/internal/weburl"
)

func mustURL(t *testing.T, s string) *weburl.URL {
	t.Helper()
	u, err := weburl.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// proxyEnv are the variables ChooseProxy reads; each case sets all of them.
var proxyEnv = []string{"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY", "REQUEST_METHOD"}

func TestChooseProxyEnvironment(t *testing.T) {
	cases := []struct {
		name   string
		env    map[string]string
		target string
		want   string // "" for direct
	}{
		{"nothing set", nil, "ws://example.org/", ""},
		{"http_proxy for ws", map[string]string{"http_proxy": "http://p:3128"}, "ws://example.org/", "http://p:3128"},
		{"http_proxy not for wss", map[string]string{"http_proxy": "http://p:3128"}, "wss://example.org/", ""},
		{"https_proxy for wss", map[string]string{"https_proxy": "socks5h://p"}, "wss://example.org/", "socks5h://p:1080"},
		{"upper case", map[string]string{"HTTPS_PROXY": "p:8080"}, "wss://example.org/", "http://p:8080"},
		{"lower case first", map[string]string{"http_proxy": "http://low", "HTTP_PROXY": "http://up"}, "ws://example.org/", "http://low:80"},
		{"all_proxy when unset", map[string]string{"all_proxy": "socks4a://p:9"}, "wss://example.org/", "socks4a://p:9"},
		{"scheme variable over all_proxy", map[string]string{"all_proxy": "socks5://a", "http_proxy": "http://h"}, "ws://example.org/", "http://h:80"},
		{"https proxy default port", map[string]string{"http_proxy": "https://p"}, "ws://example.org/", "https://p:443"},
		{"credentials kept", map[string]string{"http_proxy": "http://u:p%40ss@p:1"}, "ws://example.org/", "http://u:p%40ss@p:1"},
		{"no_proxy domain", map[string]string{"http_proxy": "http://p", "no_proxy": "example.org"}, "ws://example.org/", ""},
		{"no_proxy domain covers subdomains", map[string]string{"http_proxy": "http://p", "no_proxy": "example.org"}, "ws://a.example.org/", ""},
		{"no_proxy suffix", map[string]string{"http_proxy": "http://p", "no_proxy": ".example.org"}, "ws://a.example.org/", ""},
		{"no_proxy other domain", map[string]string{"http_proxy": "http://p", "no_proxy": "example.com"}, "ws://example.org/", "http://p:80"},
		{"no_proxy list with spaces", map[string]string{"http_proxy": "http://p", "NO_PROXY": "a.test, example.org"}, "ws://example.org/", ""},
		{"no_proxy IP", map[string]string{"http_proxy": "http://p", "no_proxy": "10.1.2.3"}, "ws://10.1.2.3:9/", ""},
		{"no_proxy CIDR", map[string]string{"http_proxy": "http://p", "no_proxy": "10.0.0.0/8"}, "ws://10.9.9.9/", ""},
		{"no_proxy CIDR miss", map[string]string{"http_proxy": "http://p", "no_proxy": "10.0.0.0/8"}, "ws://11.0.0.1/", "http://p:80"},
		{"no_proxy IPv6", map[string]string{"http_proxy": "http://p", "no_proxy": "2001:db8::/32"}, "ws://[2001:db8::1]/", ""},
		{"no_proxy port matches", map[string]string{"http_proxy": "http://p", "no_proxy": "example.org:8080"}, "ws://example.org:8080/", ""},
		{"no_proxy port differs", map[string]string{"http_proxy": "http://p", "no_proxy": "example.org:8080"}, "ws://example.org/", "http://p:80"},
		{"no_proxy default port", map[string]string{"https_proxy": "http://p", "no_proxy": "example.org:443"}, "wss://example.org/", ""},
		{"no_proxy star", map[string]string{"http_proxy": "http://p", "no_proxy": "*"}, "ws://example.org/", ""},
		{"no_proxy applies to all_proxy", map[string]string{"all_proxy": "http://p", "no_proxy": "example.org"}, "ws://example.org/", ""},
		{"localhost direct", map[string]string{"http_proxy": "http://p"}, "ws://localhost:8080/", ""},
		{"loopback direct", map[string]string{"http_proxy": "http://p"}, "ws://127.0.0.2/", ""},
		{"IPv6 loopback direct", map[string]string{"http_proxy": "http://p"}, "ws://[::1]/", ""},
		{"IDNA host matched as punycode", map[string]string{"http_proxy": "http://p", "no_proxy": "xn--mnchen-3ya.de"}, "ws://münchen.de/", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range proxyEnv {
				t.Setenv(k, c.env[k])
			}
			p, err := ChooseProxy("", mustURL(t, c.target))
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if p != nil {
				got = p.String()
			}
			if got != c.want {
				t.Errorf("proxy %q, want %q", got, c.want)
			}
		})
	}
}

func TestChooseProxySetting(t *testing.T) {
	for _, k := range proxyEnv {
		t.Setenv(k, "")
	}
	t.Setenv("http_proxy", "http://env:1")
	u := mustURL(t, "ws://example.org/")
	if p, err := ChooseProxy(Direct, u); p != nil || err != nil {
		t.Errorf("direct: %v, %v", p, err)
	}
	// An explicit proxy is used for loopback too: the setting is the
	// program's own choice.
	for _, target := range []string{"ws://example.org/", "ws://127.0.0.1:1/"} {
		p, err := ChooseProxy("SOCKS5://u:pw@proxy.test", mustURL(t, target))
		if err != nil || p.String() != "socks5://u:pw@proxy.test:1080" {
			t.Errorf("%s: %v, %v", target, p, err)
		}
	}
	for _, bad := range []string{"ftp://p", "http://", "http://p:99999x", "http://p/path", "socks5://p?x=1", "http://[::1"} {
		if p, err := ChooseProxy(bad, u); err == nil {
			t.Errorf("%q: %v, want an error", bad, p)
		}
	}
	t.Setenv("http_proxy", "gopher://p")
	_, err := ChooseProxy("", u)
	var ee *EnvError
	if !errors.As(err, &ee) || ee.Name != "http_proxy" {
		t.Errorf("bad http_proxy: %v", err)
	}
	// A CGI program refuses http_proxy, as net/http does, not all_proxy.
	t.Setenv("REQUEST_METHOD", "GET")
	t.Setenv("http_proxy", "http://p")
	if _, err := ChooseProxy("", u); !errors.As(err, &ee) || ee.Name != "http_proxy" {
		t.Errorf("http_proxy in CGI: %v", err)
	}
	t.Setenv("http_proxy", "")
	t.Setenv("all_proxy", "http://p")
	if p, err := ChooseProxy("", u); err != nil || p == nil {
		t.Errorf("all_proxy in CGI: %v, %v", p, err)
	}
	t.Setenv("REQUEST_METHOD", "")
	t.Setenv("all_proxy", "http://[bad")
	if _, err := ChooseProxy("", u); !errors.As(err, &ee) || ee.Name != "all_proxy" {
		t.Errorf("bad all_proxy: %v", err)
	}
}

// A proxy URL's password appears in no error.
func TestParseProxyErrorHidesPassword(t *testing.T) {
	_, err := ParseProxy("http://user:secret@p:12x")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("error %v", err)
	}
	p, _ := ParseProxy("http://user:secret@p:1")
	if r := Redacted(p); strings.Contains(r, "secret") || strings.Contains(r, "user") {
		t.Errorf("Redacted = %q", r)
	}
}
