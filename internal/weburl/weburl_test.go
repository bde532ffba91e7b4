package weburl

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// wptCase is one entry of web-platform-tests' url/resources/urltestdata.json.
type wptCase struct {
	Input    string  `json:"input"`
	Base     *string `json:"base"`
	Failure  bool    `json:"failure"`
	Href     string  `json:"href"`
	Username string  `json:"username"`
	Password string  `json:"password"`
	Host     string  `json:"host"`
	Hostname string  `json:"hostname"`
	Port     string  `json:"port"`
	Pathname string  `json:"pathname"`
	Search   string  `json:"search"`
	Hash     string  `json:"hash"`
}

var schemeRE = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$`)

// applies reports whether c's outcome is Parse's to give: the input has
// one of the four schemes and its result does not depend on the base URL.
// A base with the same scheme makes "ws:x" relative to it unless "//"
// follows the colon.
func (c *wptCase) applies() bool {
	in := strings.TrimFunc(c.Input, isC0OrSpace)
	in = strings.Map(func(r rune) rune {
		if isTabOrNewline(r) {
			return -1
		}
		return r
	}, in)
	m := schemeRE.FindStringSubmatch(in)
	if m == nil {
		return false
	}
	scheme := strings.ToLower(m[1])
	switch scheme {
	case "ws", "wss", "http", "https":
	default:
		return false
	}
	if c.Base == nil || strings.HasPrefix(m[2], "//") {
		return true
	}
	bm := schemeRE.FindStringSubmatch(*c.Base)
	return bm == nil || strings.ToLower(bm[1]) != scheme || strings.HasPrefix(m[2], "//")
}

func loadWPT(t *testing.T) []wptCase {
	t.Helper()
	b, err := os.ReadFile("testdata/urltestdata.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	var cases []wptCase
	for _, r := range raw {
		if len(r) > 0 && r[0] == '"' {
			continue // a comment
		}
		var c wptCase
		if err := json.Unmarshal(r, &c); err != nil {
			t.Fatal(err)
		}
		if c.applies() {
			cases = append(cases, c)
		}
	}
	return cases
}

func TestWPT(t *testing.T) {
	cases := loadWPT(t)
	if len(cases) < 300 {
		t.Fatalf("only %d cases apply: testdata is not the web-platform-tests file", len(cases))
	}
	failed := 0
	for _, c := range cases {
		u, err := Parse(c.Input)
		if c.Failure {
			if err == nil {
				failed++
				t.Errorf("%q: parsed as %q, want failure", c.Input, u.Href())
			}
			continue
		}
		if err != nil {
			failed++
			t.Errorf("%q: %v, want %q", c.Input, err, c.Href)
			continue
		}
		got := []string{u.Href(), u.Username, u.Password, u.HostPort(), u.Host, u.Port, u.Path, component("?", u.HasQuery, u.Query), component("#", u.HasFragment, u.Fragment)}
		want := []string{c.Href, c.Username, c.Password, c.Host, c.Hostname, c.Port, c.Pathname, c.Search, c.Hash}
		for i := range got {
			if got[i] != want[i] {
				failed++
				t.Errorf("%q: got %q, want %q (href %q)", c.Input, got[i], want[i], c.Href)
				break
			}
		}
	}
	t.Logf("%d cases, %d failed", len(cases), failed)
}

// component is the URL API's search or hash getter: "" for none and for
// an empty component.
func component(prefix string, has bool, s string) string {
	if !has || s == "" {
		return ""
	}
	return prefix + s
}

// FuzzParse: no input panics, and a parsed URL's serialization is plain
// ASCII with no spaces or controls (it goes on a request line as it is)
// and parses again to itself.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"ws://h/", "ws:h:1/x", "wss://u:p@[::1]:443/a/../b?q=é#f", "http://0x7f.1/%2e/", "ws://xn--mnchen-3ya.de",
		"ws://MÜNCHEN.de/ a?b c", `ws:\\h\p`, "ws://[::ffff:1.2.3.4]/", "ws://1.2.3/", "ws://h:0080/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := Parse(s)
		if err != nil {
			return
		}
		href := u.Href()
		for i := 0; i < len(href); i++ {
			if href[i] <= ' ' || href[i] >= 0x7f {
				t.Fatalf("Parse(%q).Href() = %q has byte %#x", s, href, href[i])
			}
		}
		if u.Host == "" || !strings.HasPrefix(u.Path, "/") {
			t.Fatalf("Parse(%q): host %q, path %q", s, u.Host, u.Path)
		}
		again, err := Parse(href)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", s, href, err)
		}
		if again.Href() != href {
			t.Fatalf("Parse(%q) = %q, which parses to %q", s, href, again.Href())
		}
	})
}
