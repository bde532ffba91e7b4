package dial

import (
	"net/http"
	"testing"
)

func TestRedirectTarget(t *testing.T) {
	u := mustURL(t, "wss://user:pw@h.test:8443/a/b/c?q=1")
	for loc, want := range map[string]string{
		"wss://other.test/x":       "wss://other.test/x",
		"https://other.test/x":     "wss://other.test/x",
		"http://other.test:80/x#f": "ws://other.test/x",
		"ws://u:p@other.test/":     "ws://other.test/",
		"//other.test/x":           "wss://other.test/x",
		"/x/../y?z":                "wss://h.test:8443/y?z",
		"?r=2":                     "wss://h.test:8443/a/b/c?r=2",
		"d":                        "wss://h.test:8443/a/b/d",
		"../d e":                   "wss://h.test:8443/a/d%20e",
		" /trimmed ":               "wss://h.test:8443/trimmed",
		`\x`:                       "wss://h.test:8443/x",
	} {
		next, err := redirectTarget(u, loc)
		if err != nil {
			t.Errorf("%q: %v", loc, err)
			continue
		}
		if got := next.Href(); got != want {
			t.Errorf("%q: %q, want %q", loc, got, want)
		}
	}
	for _, loc := range []string{"", "ftp://other.test/", "javascript:alert(1)", "ws://[::1/"} {
		if next, err := redirectTarget(u, loc); err == nil {
			t.Errorf("%q: followed to %q", loc, next.Href())
		}
	}
}

// Credentials and the sensitive headers go only to the origin they were
// given for; the proxy is chosen again for each hop.
func TestFollowRedirect(t *testing.T) {
	for _, k := range proxyEnv {
		t.Setenv(k, "")
	}
	t.Setenv("http_proxy", "http://proxy.test:3128")
	t.Setenv("no_proxy", "near.test")
	o := Options{
		URL:          mustURL(t, "ws://near.test/a"),
		Header:       http.Header{"Authorization": {"Bearer t"}, "Cookie": {"c=1"}, "X-Other": {"kept"}},
		Credentials:  &Credentials{Username: "u", Password: "p"},
		ProxySetting: "",
	}
	same, err := followRedirect(o, mustURL(t, "ws://near.test/b"))
	if err != nil || same.Credentials == nil || same.Header.Get("Authorization") == "" || same.Proxy != nil {
		t.Errorf("same origin: %+v, %v", same, err)
	}
	other, err := followRedirect(o, mustURL(t, "ws://far.test/b"))
	if err != nil {
		t.Fatal(err)
	}
	if other.Credentials != nil || other.Header.Get("Authorization") != "" || other.Header.Get("Cookie") != "" || other.Header.Get("X-Other") != "kept" {
		t.Errorf("another origin kept %+v %v", other.Credentials, other.Header)
	}
	if other.Proxy == nil || other.Proxy.Host != "proxy.test:3128" {
		t.Errorf("another origin's proxy: %v", other.Proxy)
	}
	if o.Header.Get("Authorization") == "" {
		t.Error("the first hop's header was changed")
	}
	// A change of scheme is another origin too.
	if up, _ := followRedirect(o, mustURL(t, "wss://near.test/a")); up.Credentials != nil {
		t.Error("credentials kept from ws to wss")
	}
}
