package dial

import (
	"net/http"
	"reflect"
	"testing"
)

// RFC 7616 3.9.1's example, for both algorithms.
func TestDigestRFC7616Example(t *testing.T) {
	c := &Credentials{Username: "Mufasa", Password: "Circle of Life"}
	ch := map[string]string{
		"realm":  "http-auth@example.org",
		"qop":    "auth, auth-int",
		"nonce":  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
		"opaque": "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
	}
	const cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
	for alg, want := range map[string]string{
		"MD5":     `Digest username="Mufasa", realm="http-auth@example.org", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", uri="/dir/index.html", algorithm=MD5, response="8ca523f5e9506fed4657c9700eebdbec", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", qop=auth, nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"`,
		"SHA-256": `Digest username="Mufasa", realm="http-auth@example.org", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", uri="/dir/index.html", algorithm=SHA-256, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", qop=auth, nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"`,
	} {
		ch["algorithm"] = alg
		if got := digestAuth(ch, c, "/dir/index.html", cnonce); got != want {
			t.Errorf("%s:\n got %s\nwant %s", alg, got, want)
		}
	}
}

// RFC 2617 3.5's example: MD5 with no algorithm named.
func TestDigestRFC2617Example(t *testing.T) {
	c := &Credentials{Username: "Mufasa", Password: "Circle Of Life"}
	ch := map[string]string{
		"realm": "testrealm@host.com", "qop": "auth,auth-int",
		"nonce": "dcd98b7102dd2f0e8b11d0f600bfb0c093", "opaque": "5ccc069c403ebaf9f0171e9517f40e41",
	}
	got := digestAuth(ch, c, "/dir/index.html", "0a4f113b")
	want := `Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001, cnonce="0a4f113b"`
	if got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

func TestParseChallenges(t *testing.T) {
	got := parseChallenges([]string{
		`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`,
		`Negotiate YIIB4gYGKwYBBQUCoIIB1jCCAdKg==, Digest realm="d", qop="auth", algorithm=SHA-256, nonce="n,1"`,
		`Basic`,
	})
	want := []challenge{
		{"newauth", map[string]string{"realm": "apps", "type": "1", "title": `Login to "apps"`}},
		{"basic", map[string]string{"realm": "simple"}},
		{"negotiate", map[string]string{}},
		{"digest", map[string]string{"realm": "d", "qop": "auth", "algorithm": "SHA-256", "nonce": "n,1"}},
		{"basic", map[string]string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

// The strongest challenge is answered; an unknown algorithm or an
// auth-int-only qop is passed over.
func TestAnswerChallenge(t *testing.T) {
	c := &Credentials{Username: "u", Password: "p"}
	for _, tc := range []struct {
		challenges []string
		prefix     string
	}{
		{[]string{`Basic realm="r"`}, "Basic dTpw"},
		{[]string{`Basic realm="r"`, `Digest realm="r", nonce="n", algorithm=MD5`}, `Digest username="u", realm="r", nonce="n", uri="/x", algorithm=MD5`},
		{[]string{`Digest realm="r", nonce="n", algorithm=MD5, Digest realm="r", nonce="n", algorithm=SHA-256`}, `Digest username="u", realm="r", nonce="n", uri="/x", algorithm=SHA-256`},
		{[]string{`Digest realm="r", nonce="n", algorithm=SHA-512-256`, `Basic realm="r"`}, "Basic "},
		{[]string{`Digest realm="r", nonce="n", qop="auth-int"`}, ""},
		{[]string{`Bearer realm="r"`}, ""},
	} {
		h := http.Header{"Www-Authenticate": tc.challenges}
		got := answerChallenge(h, c, "/x")
		if len(got) < len(tc.prefix) || got[:len(tc.prefix)] != tc.prefix || (tc.prefix == "" && got != "") {
			t.Errorf("%q: %q, want a prefix %q", tc.challenges, got, tc.prefix)
		}
	}
}
