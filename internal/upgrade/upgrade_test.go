package upgrade

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAcceptKey(t *testing.T) {
	// RFC 6455 1.3's example.
	if got := acceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("acceptKey = %q", got)
	}
}

func request(mod func(r *http.Request)) *http.Request {
	r := httptest.NewRequest("GET", "http://example.org/chat", nil)
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Connection", "keep-alive, Upgrade")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	if mod != nil {
		mod(r)
	}
	return r
}

func TestCheckRefusals(t *testing.T) {
	for _, c := range []struct {
		name   string
		mod    func(r *http.Request)
		status int
		header string // a header the refusal must carry, "Name: value"
	}{
		{"post", func(r *http.Request) { r.Method = "POST" }, 405, "Allow: GET"},
		{"plain GET", func(r *http.Request) { r.Header.Del("Upgrade") }, 426, "Upgrade: websocket"},
		{"upgrade to h2c", func(r *http.Request) { r.Header.Set("Upgrade", "h2c") }, 426, "Sec-Websocket-Version: 13"},
		{"HTTP/1.0", func(r *http.Request) { r.Proto, r.ProtoMinor = "HTTP/1.0", 0 }, 400, ""},
		{"no Connection upgrade", func(r *http.Request) { r.Header.Set("Connection", "keep-alive") }, 400, ""},
		{"version 8", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Version", "8") }, 426, "Sec-Websocket-Version: 13"},
		{"no version", func(r *http.Request) { r.Header.Del("Sec-WebSocket-Version") }, 426, "Sec-Websocket-Version: 13"},
		{"no key", func(r *http.Request) { r.Header.Del("Sec-WebSocket-Key") }, 400, ""},
		{"two keys", func(r *http.Request) { r.Header.Add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==") }, 400, ""},
		{"short key", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "c2hvcnQ=") }, 400, ""},
		{"key not base64", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "not base64 at all!!!!!!!") }, 400, ""},
		{"cross origin", func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }, 403, ""},
		{"null origin", func(r *http.Request) { r.Header.Set("Origin", "null") }, 403, ""},
		{"two origins", func(r *http.Request) {
			r.Header.Add("Origin", "http://example.org")
			r.Header.Add("Origin", "http://example.org")
		}, 403, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Check(request(c.mod), &Options{})
			rf, ok := err.(*Refusal)
			if !ok || rf.Status != c.status {
				t.Fatalf("Check = %v, want a %d refusal", err, c.status)
			}
			rec := httptest.NewRecorder()
			rf.Write(rec)
			if rec.Code != c.status || !strings.Contains(rec.Body.String(), rf.Reason) || rf.Reason == "" {
				t.Errorf("written: %d %q, want %d with the reason %q", rec.Code, rec.Body.String(), c.status, rf.Reason)
			}
			if c.header != "" {
				k, v, _ := strings.Cut(c.header, ": ")
				if got := rec.Header().Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestOrigins(t *testing.T) {
	for _, c := range []struct {
		patterns []string
		host     string
		origin   string // "" for none
		ok       bool
	}{
		{nil, "example.org", "", true},
		{nil, "example.org", "http://example.org", true},
		{nil, "example.org", "https://example.org", true},
		{nil, "Example.ORG", "http://example.org", true},
		{nil, "example.org:80", "http://example.org", true},
		{nil, "example.org", "https://example.org:443", true},
		{nil, "example.org:8080", "http://example.org:8080", true},
		{nil, "example.org:8080", "http://example.org", false},
		{nil, "example.org", "http://example.org.evil.com", false},
		{nil, "example.org", "http://sub.example.org", false},
		{nil, "example.org", "null", false},
		{nil, "example.org", "file://", false},
		{[]string{"https://*.example.org"}, "api.example.org", "https://app.example.org", true},
		{[]string{"https://*.example.org"}, "api.example.org", "https://a.b.example.org", true},
		{[]string{"https://*.example.org"}, "api.example.org", "http://app.example.org", false},
		{[]string{"https://*.example.org"}, "api.example.org", "https://example.org", false},
		{[]string{"https://*.example.org"}, "api.example.org", "https://evil.com/.example.org", true}, // no browser sends a path in Origin
		{[]string{"https://*.example.org"}, "api.example.org", "https://example.org.evil.com", false},
		{[]string{"HTTP://LOCALHOST:*"}, "x", "http://localhost:3000", true},
		{[]string{"http://localhost:*"}, "x", "http://localhost.evil:3000", false},
		{[]string{"*"}, "example.org", "https://anything.example", true},
		{[]string{"null"}, "example.org", "null", true},
		{[]string{"https://a.example"}, "example.org", "https://b.example", false},
		// Patterns replace the same-origin rule.
		{[]string{"https://a.example"}, "example.org", "https://example.org", false},
	} {
		o, err := NewOrigins(c.patterns)
		if err != nil {
			t.Fatal(err)
		}
		r := request(func(r *http.Request) {
			r.Host = c.host
			if c.origin != "" {
				r.Header.Set("Origin", c.origin)
			}
		})
		rf := o.check(r)
		if (rf == nil) != c.ok {
			t.Errorf("patterns %q, host %q, origin %q: refusal %v, want allowed %v", c.patterns, c.host, c.origin, rf, c.ok)
		}
	}
}

func TestOriginPatternsRefused(t *testing.T) {
	for _, p := range []string{"", "example.org", "*.example.org", "https://example.org/", "https://example.org/app", "https://example.org?x"} {
		if _, err := NewOrigins([]string{p}); err == nil {
			t.Errorf("NewOrigins(%q) accepted", p)
		}
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		p, s string
		ok   bool
	}{
		{"", "", true}, {"*", "", true}, {"*", "abc", true}, {"a*c", "abc", true}, {"a*c", "ac", true},
		{"a*c", "abcd", false}, {"a**c", "abbbc", true}, {"*b*", "abc", true}, {"*b*", "ac", false},
		{"a*b*c", "aXbYbZc", true}, {"a*b*c", "aXcYb", false}, {"abc", "abcd", false},
	} {
		if got := glob(c.p, c.s); got != c.ok {
			t.Errorf("glob(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

func TestProtocolSelection(t *testing.T) {
	offer := func(r *http.Request) {
		r.Header.Add("Sec-WebSocket-Protocol", "v1.chat, v2.chat")
		r.Header.Add("Sec-WebSocket-Protocol", "v3.chat")
	}
	for _, c := range []struct {
		server []string
		want   string
	}{
		{nil, ""}, {[]string{"v3.chat", "v1.chat"}, "v3.chat"}, {[]string{"v9"}, ""}, {[]string{"V1.CHAT", "v2.chat"}, "v2.chat"},
	} {
		hs, err := Check(request(offer), &Options{Protocols: c.server})
		if err != nil || hs.Protocol != c.want {
			t.Errorf("server %q: %v, %v; want %q", c.server, hs, err, c.want)
		}
	}
	var seen []string
	hs, err := Check(request(offer), &Options{Protocols: []string{"v1.chat"}, SelectProtocol: func(_ *http.Request, offered []string) string {
		seen = offered
		return "v2.chat"
	}})
	if err != nil || hs.Protocol != "v2.chat" || strings.Join(seen, " ") != "v1.chat v2.chat v3.chat" {
		t.Errorf("SelectProtocol: %v, %v, offered %q", hs, err, seen)
	}
	_, err = Check(request(offer), &Options{SelectProtocol: func(*http.Request, []string) string { return "v9" }})
	if rf, ok := err.(*Refusal); !ok || rf.Status != 500 {
		t.Errorf("SelectProtocol choosing what was not offered: %v, want a 500 refusal", err)
	}
}

func TestNegotiateDeflate(t *testing.T) {
	for _, c := range []struct {
		offer string
		opts  *DeflateOptions
		ext   string
		d     Deflate
	}{
		{"permessage-deflate; client_max_window_bits", &DeflateOptions{}, // Chromium's
			"permessage-deflate; server_no_context_takeover", Deflate{false, 15, 15}},
		{"permessage-deflate", &DeflateOptions{}, "permessage-deflate; server_no_context_takeover", Deflate{false, 15, 15}},
		{"permessage-deflate; client_max_window_bits", &DeflateOptions{ClientMaxWindowBits: 10},
			"permessage-deflate; server_no_context_takeover; client_max_window_bits=10", Deflate{false, 15, 10}},
		{"permessage-deflate; client_max_window_bits=9", &DeflateOptions{ClientMaxWindowBits: 10},
			"permessage-deflate; server_no_context_takeover", Deflate{false, 15, 9}},
		// A window may not be named to a client that did not offer the parameter.
		{"permessage-deflate", &DeflateOptions{ClientMaxWindowBits: 10}, "permessage-deflate; server_no_context_takeover", Deflate{false, 15, 15}},
		{"permessage-deflate", &DeflateOptions{ClientNoContextTakeover: true},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover", Deflate{true, 15, 15}},
		{"permessage-deflate; client_no_context_takeover; server_no_context_takeover; server_max_window_bits=10", &DeflateOptions{},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10", Deflate{true, 10, 15}},
		{`permessage-deflate; server_max_window_bits="12"`, &DeflateOptions{}, "permessage-deflate; server_no_context_takeover; server_max_window_bits=12", Deflate{false, 12, 15}},
		{"PerMessage-Deflate; Server_Max_Window_Bits=8", &DeflateOptions{}, "permessage-deflate; server_no_context_takeover; server_max_window_bits=8", Deflate{false, 8, 15}},
		// Offers the server must decline; the next acceptable one wins.
		{"permessage-deflate; server_max_window_bits=7, permessage-deflate; server_max_window_bits=9", &DeflateOptions{},
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=9", Deflate{false, 9, 15}},
		{"permessage-deflate; foo, permessage-deflate", &DeflateOptions{}, "permessage-deflate; server_no_context_takeover", Deflate{false, 15, 15}},
		{"x-webkit-deflate-frame, permessage-deflate", &DeflateOptions{}, "permessage-deflate; server_no_context_takeover", Deflate{false, 15, 15}},
	} {
		ext, d := negotiateDeflate([]string{c.offer}, c.opts)
		if ext != c.ext || d == nil || *d != c.d {
			t.Errorf("offer %q: %q %+v, want %q %+v", c.offer, ext, d, c.ext, c.d)
		}
	}
	for _, offer := range []string{
		"permessage-deflate; server_max_window_bits", "permessage-deflate; server_max_window_bits=16",
		"permessage-deflate; server_max_window_bits=08", "permessage-deflate; client_max_window_bits=7",
		"permessage-deflate; server_no_context_takeover=1", "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
		"permessage-deflate; unknown", "x-webkit-deflate-frame", "permessage-deflate; ;;", "",
	} {
		if ext, d := negotiateDeflate([]string{offer}, &DeflateOptions{}); d != nil {
			t.Errorf("offer %q accepted: %q", offer, ext)
		}
	}
	if ext, d := negotiateDeflate([]string{"permessage-deflate"}, nil); d != nil {
		t.Errorf("with compression off, accepted: %q", ext)
	}
}

// Accept on a real connection: the 101 with the settlement and the
// handler's headers, and bytes the client sent after its request handed
// back.
func TestAccept(t *testing.T) {
	type result struct {
		leftover []byte
		err      error
	}
	got := make(chan result, 1)
	const frame = "\x81\x80abcd"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hs, err := Check(r, &Options{Protocols: []string{"v2"}, Deflate: &DeflateOptions{}})
		if err != nil {
			err.(*Refusal).Write(w)
			got <- result{err: err}
			return
		}
		w.Header().Set("Set-Cookie", "a=b")
		w.Header().Set("Content-Type", "text/plain") // not for a 101
		conn, leftover, err := Accept(w, hs)
		if err == nil {
			// What net/http had not read yet is still in the
			// connection: leftover and the rest are the frame.
			rest := make([]byte, len(frame)-len(leftover))
			_, err = io.ReadFull(conn, rest)
			leftover = append(leftover, rest...)
			conn.Close()
		}
		got <- result{leftover, err}
	}))
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: "+srv.Listener.Addr().String()+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v1, v2\r\n"+
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"+frame)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	res := <-got
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := map[string]string{
		"Upgrade": "websocket", "Connection": "Upgrade", "Sec-Websocket-Accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
		"Sec-Websocket-Protocol": "v2", "Sec-Websocket-Extensions": "permessage-deflate; server_no_context_takeover",
		"Set-Cookie": "a=b", "Content-Type": "",
	}
	if resp.StatusCode != 101 {
		t.Errorf("status %d", resp.StatusCode)
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if string(res.leftover) != frame {
		t.Errorf("leftover %q", res.leftover)
	}
}
