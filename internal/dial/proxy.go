package dial

import (
	"errors"
	"net"
	"net/url"
	"os"
	"strings"

	"golang.org/x/net/http/httpproxy"

	"github.com/wsloop/websocket/internal/weburl"
)

// Direct is the Proxy setting that turns proxies off, the environment's
// included.
const Direct = "direct"

// proxyPorts are the default ports of the proxy schemes, as Go's net/http
// has them.
var proxyPorts = map[string]string{
	"http": "80", "https": "443",
	"socks5": "1080", "socks5h": "1080", "socks4": "1080", "socks4a": "1080",
}

// ParseProxy checks a proxy URL: a scheme of proxyPorts, a host, and the
// scheme's port when none is given. A bare host[:port] is an HTTP proxy,
// as curl and Go's net/http read one.
func ParseProxy(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Error quotes the input, credentials included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, errors.New("not a URL: " + err.Error())
	}
	u.Scheme = strings.ToLower(u.Scheme)
	port, ok := proxyPorts[u.Scheme]
	if !ok {
		return nil, errors.New("scheme " + u.Scheme + " is not http, https, socks5, socks5h, socks4 or socks4a")
	}
	if u.Hostname() == "" {
		return nil, errors.New("no host")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("a proxy URL has no path, query or fragment")
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), port)
	}
	return u, nil
}

// Redacted is the proxy's URL without its credentials, for messages.
func Redacted(p *url.URL) string {
	r := *p
	r.User = nil
	return r.String()
}

// ChooseProxy is the proxy decision for target: setting is Config.Proxy.
// Direct, or an empty setting whose environment names no proxy for
// target, gives nil. An explicit setting is used for every target.
func ChooseProxy(setting string, target *weburl.URL) (*url.URL, error) {
	switch setting {
	case Direct:
		return nil, nil
	case "":
		return envProxy(target)
	}
	return ParseProxy(setting)
}

// envProxy reads the proxy for target from the environment as curl and Go's
// net/http do: http_proxy for ws://, https_proxy for wss://, all_proxy for
// either when that one is unset (curl's), the lower-case name first; and
// no_proxy's domains, suffixes, IP addresses, CIDR ranges and ports. As in
// net/http, localhost and loopback addresses are never proxied.
func envProxy(target *weburl.URL) (*url.URL, error) {
	env := httpproxy.FromEnvironment()
	scheme, name, value := "http", "http_proxy", env.HTTPProxy
	if target.Scheme == "wss" {
		scheme, name, value = "https", "https_proxy", env.HTTPSProxy
	}
	if value == "" {
		name, value = "all_proxy", getenvEither("all_proxy", "ALL_PROXY")
	}
	if value == "" {
		return nil, nil
	}
	p, err := ParseProxy(value)
	if err != nil {
		return nil, &EnvError{Name: name, Err: err}
	}
	// httpproxy decides with no_proxy; the proxy it is given stands for
	// p, which it could not parse itself when it is a socks4 URL.
	// In a CGI program a request's "Proxy:" header arrives as HTTP_PROXY,
	// so net/http refuses http_proxy there; all_proxy, which net/http does
	// not read, cannot be set so and is not refused.
	cgi := env.CGI && name == "http_proxy"
	decide := httpproxy.Config{HTTPProxy: "http://p", HTTPSProxy: "http://p", NoProxy: env.NoProxy, CGI: cgi}
	use, err := decide.ProxyFunc()(&url.URL{Scheme: scheme, Host: target.HostPort()})
	if err != nil {
		return nil, &EnvError{Name: name, Err: err}
	}
	if use == nil {
		return nil, nil
	}
	return p, nil
}

func getenvEither(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// EnvError is a proxy variable of the environment that cannot be used.
type EnvError struct {
	Name string
	Err  error
}

func (e *EnvError) Error() string { return "environment variable " + e.Name + ": " + e.Err.Error() }
func (e *EnvError) Unwrap() error { return e.Err }
