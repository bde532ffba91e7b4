package peers_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/wsloop/websocket/test/internal/peers"
)

// deflateServers are the permessage-deflate peers, by name.
var deflateServers = []struct {
	name  string
	start func(testing.TB, peers.Deflate) string
}{
	{"Python", peers.PythonDeflate},
	{"Node", peers.NodeDeflate},
}

// deflateConn is a raw gobwas/ws client connection that offered
// permessage-deflate as Chromium does; header is the server's
// Sec-WebSocket-Extensions.
type deflateConn struct {
	net.Conn
	r      io.Reader
	header string
}

func (c *deflateConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func dialDeflate(t *testing.T, url string) *deflateConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	offer := httphead.Option{Name: []byte("permessage-deflate")}
	offer.Parameters.Set([]byte("client_max_window_bits"), nil)
	nc, br, hs, err := ws.Dialer{Extensions: []httphead.Option{offer}}.Dial(ctx, url)
	if err != nil {
		t.Fatalf("Dial(%q): %v", url, err)
	}
	// The header as the servers write it, from gobwas's parse.
	var exts []string
	for _, e := range hs.Extensions {
		words := []string{string(e.Name)}
		e.Parameters.ForEach(func(k, v []byte) bool {
			if len(v) > 0 {
				k = append(append(k[:len(k):len(k)], '='), v...)
			}
			words = append(words, string(k))
			return true
		})
		exts = append(exts, strings.Join(words, "; "))
	}
	header := strings.Join(exts, ", ")
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(ioTimeout))
	c := &deflateConn{Conn: nc, r: nc, header: header}
	if br != nil {
		c.r = br
	}
	return c
}

// send sends p in one frame, compressed on its own when compress.
func (c *deflateConn) send(t *testing.T, op ws.OpCode, p []byte, compress bool) {
	t.Helper()
	f := ws.NewFrame(op, true, bytes.Clone(p)) // masked in place
	if compress {
		var err error
		if f, err = wsflate.CompressFrame(f); err != nil {
			t.Fatalf("compressing: %v", err)
		}
	}
	if err := ws.WriteFrame(c, ws.MaskFrameInPlace(f)); err != nil {
		t.Fatalf("writing: %v", err)
	}
}

// maxFrame bounds the frames receive reads: the bomb is 1000000 zeros
// compressed, about a thousandth of that.
const maxFrame = 1 << 20

// receive reads a message's frames and returns its payload, inflated when
// its first frame has RSV1, whether it had, and its frames.
func (c *deflateConn) receive(t *testing.T) (p []byte, compressed bool, frames int) {
	t.Helper()
	var payload []byte
	r := bufio.NewReader(c)
	for {
		h, err := ws.ReadHeader(r)
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		if h.Length > maxFrame {
			t.Fatalf("a frame of %d bytes; want at most %d", h.Length, maxFrame)
		}
		f := ws.Frame{Header: h, Payload: make([]byte, h.Length)}
		if _, err := io.ReadFull(r, f.Payload); err != nil {
			t.Fatalf("reading: %v", err)
		}
		if frames == 0 {
			compressed = f.Header.Rsv1()
		} else if f.Header.Rsv1() || f.Header.OpCode != ws.OpContinuation {
			t.Fatalf("frame %d: opcode %v, RSV1 %t; want a continuation without RSV1", frames, f.Header.OpCode, f.Header.Rsv1())
		}
		frames++
		payload = append(payload, f.Payload...)
		if f.Header.Fin {
			break
		}
	}
	if r.Buffered() > 0 {
		t.Fatalf("%d bytes read past the message", r.Buffered())
	}
	if !compressed {
		return payload, false, frames
	}
	p, err := wsflate.DefaultHelper.Decompress(payload)
	if err != nil {
		t.Fatalf("inflating %d bytes: %v", len(payload), err)
	}
	return p, true, frames
}

func (c *deflateConn) stats(t *testing.T) peers.DeflateStats {
	t.Helper()
	c.send(t, ws.OpText, []byte("!stats"), false)
	p, _, _ := c.receive(t)
	var st peers.DeflateStats
	if err := json.Unmarshal(p, &st); err != nil {
		t.Fatalf("the answer to !stats %q: %v", p, err)
	}
	return st
}

// TestDeflate checks the permessage-deflate servers with gobwas/ws and its
// wsflate, without the client under test: their settlement and header,
// echoes of compressed and uncompressed messages, "!stats", "!frag" and
// "!bomb". The server compresses each message on its own
// (server_no_context_takeover), since wsflate inflates each on its own.
func TestDeflate(t *testing.T) {
	for _, s := range deflateServers {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			c := dialDeflate(t, s.start(t, peers.Deflate{ServerNoContextTakeover: true, ServerMaxWindowBits: 10}))
			if want := "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"; c.header != want {
				t.Errorf("Sec-WebSocket-Extensions: %q; want %q", c.header, want)
			}
			text := bytes.Repeat([]byte("compress me, "), 100)
			c.send(t, ws.OpText, text, true)
			if p, compressed, _ := c.receive(t); !compressed || !bytes.Equal(p, text) {
				t.Errorf("echo: %d bytes, compressed %t; want the %d bytes sent, compressed", len(p), compressed, len(text))
			}
			c.send(t, ws.OpBinary, []byte{1, 2, 3}, false)
			if p, _, _ := c.receive(t); !bytes.Equal(p, []byte{1, 2, 3}) {
				t.Errorf("echo: %q; want 01 02 03", p)
			}
			wire, _ := wsflate.DefaultHelper.Compress(text)
			st := c.stats(t)
			wantParams := peers.DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 15}
			if st.Header != c.header || st.Params == nil || *st.Params != wantParams {
				t.Errorf("!stats: header %q, params %+v; want %q, %+v", st.Header, st.Params, c.header, wantParams)
			}
			wantIn := peers.DeflateCounts{Messages: 2, Compressed: 1, Wire: len(wire) + 3, Plain: len(text) + 3}
			if st.Received != wantIn {
				t.Errorf("!stats: received %+v; want %+v", st.Received, wantIn)
			}
			if st.Sent.Messages != 2 || st.Sent.Plain != len(text)+3 || st.Sent.Compressed < 1 {
				t.Errorf("!stats: sent %+v; want 2 messages, %d bytes, the first compressed", st.Sent, len(text)+3)
			}
			if again := c.stats(t); again.Received != (peers.DeflateCounts{}) || again.Sent != (peers.DeflateCounts{}) {
				t.Errorf("!stats again: received %+v, sent %+v; want nothing since the last", again.Received, again.Sent)
			}

			c.send(t, ws.OpText, []byte("!frag 3"), false)
			c.send(t, ws.OpText, text, true)
			if p, compressed, frames := c.receive(t); !compressed || frames < 3 || !bytes.Equal(p, text) {
				t.Errorf("fragmented echo: %d bytes in %d frames, compressed %t; want the %d bytes sent, compressed, in 3 or more", len(p), frames, compressed, len(text))
			}
			c.send(t, ws.OpText, []byte("!frag 1"), false)
			if st := c.stats(t); st.Received.Messages != 3 || st.Sent != (peers.DeflateCounts{}) {
				t.Errorf("!stats after the fragments: received %+v, sent %+v; want 3 messages received (the commands too), none sent (fragmented echoes are not counted)", st.Received, st.Sent)
			}

			c.send(t, ws.OpText, []byte("!bomb 1000000"), false)
			if p, compressed, _ := c.receive(t); !compressed || !bytes.Equal(p, make([]byte, 1000000)) {
				t.Errorf("bomb: %d bytes, compressed %t; want 1000000 zeros, compressed", len(p), compressed)
			}
		})
	}
}

// TestDeflateOff checks that a server configured with Off accepts no
// extension and sends uncompressed.
func TestDeflateOff(t *testing.T) {
	for _, s := range deflateServers {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			c := dialDeflate(t, s.start(t, peers.Deflate{Off: true}))
			if c.header != "" {
				t.Errorf("Sec-WebSocket-Extensions: %q; want none", c.header)
			}
			text := bytes.Repeat([]byte("do not compress me, "), 100)
			c.send(t, ws.OpText, text, false)
			if p, compressed, _ := c.receive(t); compressed || !bytes.Equal(p, text) {
				t.Errorf("echo: %d bytes, compressed %t; want the %d bytes sent, uncompressed", len(p), compressed, len(text))
			}
			st := c.stats(t)
			want := peers.DeflateCounts{Messages: 1, Wire: len(text), Plain: len(text)}
			if st.Header != "" || st.Params != nil || st.Received != want || st.Sent != want {
				t.Errorf("!stats %+v; want no header, no params, %+v each way", st, want)
			}
		})
	}
}
