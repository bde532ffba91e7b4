package compression_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/peers"
)

// timeout bounds one socket's work: a blocking call still waiting after it
// is a failure. It is a bound, never a wait; the slowest mode (12 MiB each
// way, in messages up to 4 MiB) takes 2 to 4 s under the race detector.
const timeout = 60 * time.Second

// peer is a permessage-deflate server.
type peer struct {
	name  string
	start func(testing.TB, peers.Deflate) string
	// refusesSmallerRequest: the server refuses the handshake, with 400,
	// when the client asks for a window smaller than the one it is
	// configured with (Node's ws, which can accept none of the offers and
	// does not go on without the extension), rather than settling the
	// smaller one (Python).
	refusesSmallerRequest bool
}

var (
	python = peer{name: "Python", start: peers.PythonDeflate}
	node   = peer{name: "Node", start: peers.NodeDeflate, refusesSmallerRequest: true}
	// allPeers are the servers every test runs against.
	allPeers = []peer{python, node}
)

// mode is one negotiation: the server's configuration and the client's
// offer.
type mode struct {
	name   string
	server peers.Deflate
	// client is the client's Compression; nil is Chromium's offer.
	client *websocket.Compression
	// off is Config.NoCompression.
	off bool
	// all sends every size of the burst in all four kinds (see
	// messages); extra are messages sent after those.
	all   bool
	extra []msg
}

func (m mode) config() *websocket.Config {
	return &websocket.Config{Compression: m.client, NoCompression: m.off}
}

// threshold is the client's compression threshold in m.
func (m mode) threshold() int {
	if m.client != nil && m.client.Threshold > 0 {
		return m.client.Threshold
	}
	return websocket.DefaultCompressionThreshold
}

// settlement is what a mode must negotiate.
type settlement struct {
	// declined: no extension (Extensions() is "").
	declined bool
	// refused: the server answers the handshake with 400.
	refused bool
	// params are the response's parameters: name to value, "" for none.
	params map[string]string
	// resolved is the settlement with the windows resolved, as the
	// server's extension holds it.
	resolved peers.DeflateParams
}

// settle is what p answers to m, by RFC 7692 section 7.1 and the two
// libraries' documented choices: a parameter the client asks for and the
// server is configured with is the smaller of the two (Python), or the
// handshake is refused when the client asks less (Node); a valueless
// client_max_window_bits gets the server's window, or nothing.
func settle(p peer, m mode) settlement {
	if m.off || m.server.Off {
		return settlement{declined: true}
	}
	var c websocket.Compression
	if m.client != nil {
		c = *m.client
	}
	s := m.server
	if p.refusesSmallerRequest &&
		(s.ServerMaxWindowBits != 0 && c.ServerMaxWindowBits != 0 && s.ServerMaxWindowBits > c.ServerMaxWindowBits ||
			s.ClientMaxWindowBits != 0 && c.ClientMaxWindowBits != 0 && s.ClientMaxWindowBits > c.ClientMaxWindowBits) {
		return settlement{refused: true}
	}
	pick := func(server, client int) int {
		switch {
		case server == 0:
			return client
		case client == 0:
			return server
		}
		return min(server, client)
	}
	r := peers.DeflateParams{
		ServerNoContextTakeover: s.ServerNoContextTakeover || c.ServerNoContextTakeover,
		ClientNoContextTakeover: s.ClientNoContextTakeover || c.ClientNoContextTakeover,
		ServerMaxWindowBits:     pick(s.ServerMaxWindowBits, c.ServerMaxWindowBits),
		ClientMaxWindowBits:     pick(s.ClientMaxWindowBits, c.ClientMaxWindowBits),
	}
	params := map[string]string{}
	if r.ServerNoContextTakeover {
		params["server_no_context_takeover"] = ""
	}
	if r.ClientNoContextTakeover {
		params["client_no_context_takeover"] = ""
	}
	if r.ServerMaxWindowBits != 0 {
		params["server_max_window_bits"] = strconv.Itoa(r.ServerMaxWindowBits)
	} else {
		r.ServerMaxWindowBits = 15
	}
	if r.ClientMaxWindowBits != 0 {
		params["client_max_window_bits"] = strconv.Itoa(r.ClientMaxWindowBits)
	} else {
		r.ClientMaxWindowBits = 15
	}
	return settlement{params: params, resolved: r}
}

func (s settlement) String() string {
	if s.refused {
		return "refused"
	}
	if s.declined {
		return `""`
	}
	keys := slices.Sorted(maps.Keys(s.params))
	parts := []string{"permessage-deflate"}
	for _, k := range keys {
		if v := s.params[k]; v != "" {
			k += "=" + v
		}
		parts = append(parts, k)
	}
	return strings.Join(parts, "; ")
}

// checkExtensions checks that ext, as Extensions() returned it, is the
// settlement: one permessage-deflate with exactly its parameters, in any
// order.
func checkExtensions(t *testing.T, ext string, want settlement) {
	t.Helper()
	if want.declined {
		if ext != "" {
			t.Errorf("Extensions() = %q; want none", ext)
		}
		return
	}
	if strings.Contains(ext, ",") {
		t.Errorf("Extensions() = %q: more than one extension; want %s", ext, want)
		return
	}
	parts := strings.Split(ext, ";")
	if strings.TrimSpace(parts[0]) != "permessage-deflate" {
		t.Errorf("Extensions() = %q; want %s", ext, want)
		return
	}
	got := map[string]string{}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if _, dup := got[k]; dup {
			t.Errorf("Extensions() = %q: %s twice", ext, k)
		}
		got[k] = strings.Trim(v, `"`)
	}
	if !maps.Equal(got, want.params) {
		t.Errorf("Extensions() = %q; want %s (in any order)", ext, want)
	}
}

// dial opens a socket with the blocking API; it is closed by t.Cleanup
// if the test has not closed it.
func dial(t *testing.T, url string, cfg *websocket.Config) (*websocket.WebSocket, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	ws, err := websocket.Dial(ctx, url, cfg)
	if err != nil {
		t.Fatalf("Dial(%q): %v", url, err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws, ctx
}

// serverStats asks the server for its "!stats".
func serverStats(t *testing.T, ctx context.Context, ws *websocket.WebSocket) peers.DeflateStats {
	t.Helper()
	if err := ws.SendText("!stats"); err != nil {
		t.Fatalf("sending !stats: %v", err)
	}
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil {
		t.Fatalf("waiting for the answer to !stats: %v", err)
	}
	var st peers.DeflateStats
	if err := json.Unmarshal(m.Data, &st); err != nil {
		t.Fatalf("the answer to !stats %q: %v", m.Data, err)
	}
	return st
}

// checkServerSettlement checks that the server holds the settlement, and
// that the client's Extensions() is its header word for word.
func checkServerSettlement(t *testing.T, st peers.DeflateStats, ext string, want settlement) {
	t.Helper()
	if st.Header != ext {
		t.Errorf("Extensions() = %q; the server's header is %q", ext, st.Header)
	}
	switch {
	case want.declined && st.Params != nil:
		t.Errorf("the server holds %+v; want no extension", *st.Params)
	case !want.declined && st.Params == nil:
		t.Errorf("the server holds no extension; want %+v", want.resolved)
	case !want.declined && *st.Params != want.resolved:
		t.Errorf("the server holds %+v; want %+v", *st.Params, want.resolved)
	}
}
