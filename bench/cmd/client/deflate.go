package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
	"github.com/gobwas/ws/wsutil"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"

	"github.com/wsloop/websocket"
)

// The -deflate libraries: each client with permessage-deflate on, as its
// documentation has it, against the server's /deflate/ paths, where the
// server negotiates the extension and compresses every message it sends
// (bench/cmd/server/deflate.go). The scenarios' code is the same as
// without compression. -compress adds each one after its library.
//
//	wsloop-deflate      Config.Compression nil: Chromium's offer
//	                    ("permessage-deflate; client_max_window_bits"):
//	                    the server keeps its context, the client does not
//	                    (it never does); messages under 128 bytes go plain.
//	wsloop-deflate-nct  Compression{ServerNoContextTakeover: true}.
//	gorilla-deflate     Dialer.EnableCompression: no context takeover
//	                    either way, the only mode gorilla has; every message
//	                    compressed, level 1.
//	coder-deflate       CompressionContextTakeover: context kept both ways
//	                    (a 1.2 MB flate.Writer per connection, says its
//	                    doc); messages from 128 bytes compressed.
//	gws-deflate         PermessageDeflate with ServerContextTakeover and
//	                    ClientContextTakeover, as its doc recommends for a
//	                    client; with its own context every message is
//	                    compressed.
//	gobwas-deflate      wsflate.DefaultParameters (no context takeover
//	                    either way), the wsflate.Reader and Writer of its
//	                    README over compress/flate at BestSpeed, from
//	                    sync.Pools (one per connection, as the README has
//	                    it, is 1.2 MB a connection), the reader's
//	                    decompressor made resettable (flateReader); every
//	                    message compressed.

var (
	wsloopDeflateLib    = deflateWsloopLib("wsloop-deflate", websocket.Config{})
	wsloopDeflateNCTLib = deflateWsloopLib("wsloop-deflate-nct", websocket.Config{Compression: &websocket.Compression{ServerNoContextTakeover: true}})
	gorillaDeflateLib   = deflateLib(blockingLib("gorilla-deflate", dialGorillaDeflate))
	coderDeflateLib     = deflateLib(blockingLib("coder-deflate", dialCoderDeflate))
	gobwasDeflateLib    = deflateLib(blockingLib("gobwas-deflate", dialGobwasDeflate))
	gwsDeflateLib       = deflateLib(library{
		name: "gws-deflate",
		echo: func(url string, msg []byte, binary bool, d time.Duration) (sample, error) {
			op := gws.OpcodeText
			if binary {
				op = gws.OpcodeBinary
			}
			return gwsRounds(gwsDeflateOption(url, true), msg, op, 1, d, "echo")
		},
		recv: func(url string, d time.Duration) (sample, error) {
			return gwsRecvWith(gwsDeflateOption(url, true), d)
		},
	})
)

// deflateVariants is what -compress adds after each library.
var deflateVariants = map[string][]library{
	"wsloop":  {wsloopDeflateLib, wsloopDeflateNCTLib},
	"gorilla": {gorillaDeflateLib},
	"coder":   {coderDeflateLib},
	"gobwas":  {gobwasDeflateLib},
	"gws":     {gwsDeflateLib},
}

// deflateScenarios are the scenarios the -deflate libraries run.
var deflateScenarios = []string{"bulk", "recv"}

// deflateLib points l's echo and recv at the server's /deflate/ paths and
// marks it as compressing; it runs only bulk and recv.
func deflateLib(l library) library {
	echo, recv := l.echo, l.recv
	return library{
		name:    l.name,
		deflate: true,
		echo: func(u string, msg []byte, binary bool, d time.Duration) (sample, error) {
			return echo(deflateURL(u), msg, binary, d)
		},
		recv: func(u string, d time.Duration) (sample, error) { return recv(deflateURL(u), d) },
	}
}

func deflateWsloopLib(name string, cfg websocket.Config) library {
	return deflateLib(library{
		name: name,
		echo: func(url string, msg []byte, binary bool, d time.Duration) (sample, error) {
			return wsloopEcho(url, msg, binary, d, true, cfg)
		},
		recv: func(url string, d time.Duration) (sample, error) { return wsloopRecv(url, d, true, cfg) },
	})
}

// deflateURL is u with its path under /deflate/: ws://h/echo?x=1 becomes
// ws://h/deflate/echo?x=1.
func deflateURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || strings.HasPrefix(p.Path, "/deflate/") {
		return u
	}
	p.Path = "/deflate" + p.Path
	return p.String()
}

// withStats adds stats=1 to u's query: the server then reports the
// connection's bytes when it ends.
func withStats(u string) string {
	if strings.Contains(u, "?") {
		return u + "&stats=1"
	}
	return u + "?stats=1"
}

// extensionsOf is the extension a blocking connection negotiated, when
// its adapter tells.
func extensionsOf(c bconn) string {
	if e, ok := c.(interface{ extensions() string }); ok {
		return e.extensions()
	}
	return ""
}

// gorilla: EnableCompression on a copy of the default dialer.

type gorillaZConn struct {
	gorillaConn
	ext string
}

func (g gorillaZConn) extensions() string { return g.ext }

func dialGorillaDeflate(ctx context.Context, url string) (bconn, error) {
	d := *gorilla.DefaultDialer
	d.EnableCompression = true
	c, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	return gorillaZConn{gorillaConn{c}, resp.Header.Get("Sec-WebSocket-Extensions")}, nil
}

// coder: CompressionContextTakeover.

type coderZConn struct {
	*coderConn
	ext string
}

func (k coderZConn) extensions() string { return k.ext }

func dialCoderDeflate(ctx context.Context, url string) (bconn, error) {
	c, resp, err := coder.Dial(ctx, url, &coder.DialOptions{CompressionMode: coder.CompressionContextTakeover})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(64 << 20)
	return coderZConn{&coderConn{c: c}, resp.Header.Get("Sec-WebSocket-Extensions")}, nil
}

// gws: PermessageDeflate, with both contexts kept or neither.

func gwsDeflateOption(url string, takeover bool) *gws.ClientOption {
	o := gwsOption(url)
	o.PermessageDeflate = gws.PermessageDeflate{
		Enabled:               true,
		ServerContextTakeover: takeover,
		ClientContextTakeover: takeover,
	}
	return o
}

// gobwas: ws.Dialer offering wsflate.DefaultParameters; messages read with
// a wsutil.Reader that has a wsflate.MessageState as its extension, and
// inflated with a wsflate.Reader; written compressed by a wsflate.Writer
// into a frame with RSV1 (wsflate.SetBit), masked. The flate readers and
// writers and the buffers come from sync.Pools.

var (
	gobwasFlateReaders = sync.Pool{New: func() any {
		return wsflate.NewReader(nil, func(r io.Reader) wsflate.Decompressor { return flateReader{flate.NewReader(r)} })
	}}
	gobwasFlateWriters = sync.Pool{New: func() any {
		return wsflate.NewWriter(nil, func(w io.Writer) wsflate.Compressor {
			f, _ := flate.NewWriter(w, flate.BestSpeed)
			return f
		})
	}}
	gobwasBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// flateReader lets wsflate.Reader.Reset reuse compress/flate's
// decompressor: flate's Reset takes a dictionary too, so it is not
// wsflate's ReadResetter, and with flate.NewReader as the constructor
// (as gobwas's README has it) every message gets a new 40 KiB
// decompressor: 73 µs of CPU a 1 KiB message in recv against 9 µs with this.
type flateReader struct{ io.ReadCloser }

func (f flateReader) Reset(r io.Reader) { f.ReadCloser.(flate.Resetter).Reset(r, nil) }

type gobwasZConn struct {
	conn  net.Conn
	rw    io.ReadWriter
	state wsflate.MessageState // of the message being read
	ext   string
}

func dialGobwasDeflate(ctx context.Context, url string) (bconn, error) {
	d := ws.Dialer{Extensions: []httphead.Option{wsflate.DefaultParameters.Option()}}
	conn, br, hs, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	g := &gobwasZConn{conn: conn}
	for _, o := range hs.Extensions {
		var p wsflate.Parameters
		if bytes.Equal(o.Name, wsflate.ExtensionNameBytes) && p.Parse(o) == nil {
			g.ext = describeParams(p)
		}
	}
	if br == nil {
		br = bufio.NewReaderSize(conn, 4096)
	}
	g.rw = struct {
		io.Reader
		io.Writer
	}{br, conn}
	return g, nil
}

// describeParams writes p as a Sec-WebSocket-Extensions value.
func describeParams(p wsflate.Parameters) string {
	s := wsflate.ExtensionName
	if p.ServerNoContextTakeover {
		s += "; server_no_context_takeover"
	}
	if p.ClientNoContextTakeover {
		s += "; client_no_context_takeover"
	}
	if p.ServerMaxWindowBits.Defined() {
		s += "; server_max_window_bits=" + strconv.Itoa(int(p.ServerMaxWindowBits))
	}
	if p.ClientMaxWindowBits > 1 {
		s += "; client_max_window_bits=" + strconv.Itoa(int(p.ClientMaxWindowBits))
	}
	return s
}

func (g *gobwasZConn) extensions() string { return g.ext }

func (g *gobwasZConn) Send(binary bool, p []byte) error {
	if g.ext == "" {
		if binary {
			return wsutil.WriteClientMessage(g.conn, ws.OpBinary, p)
		}
		return wsutil.WriteClientMessage(g.conn, ws.OpText, p)
	}
	op := ws.OpText
	if binary {
		op = ws.OpBinary
	}
	buf := gobwasBuffers.Get().(*bytes.Buffer)
	defer gobwasBuffers.Put(buf)
	buf.Reset()
	fw := gobwasFlateWriters.Get().(*wsflate.Writer)
	fw.Reset(buf)
	_, err := fw.Write(p)
	if err == nil {
		err = fw.Close()
	}
	fw.Reset(nil)
	gobwasFlateWriters.Put(fw)
	if err != nil {
		return err
	}
	f := ws.NewFrame(op, true, buf.Bytes())
	if f.Header, err = wsflate.SetBit(f.Header); err != nil {
		return err
	}
	return ws.WriteFrame(g.conn, ws.MaskFrameInPlace(f))
}

func (g *gobwasZConn) Recv() (int, error) {
	control := wsutil.ControlFrameHandler(g.rw, ws.StateClientSide)
	rd := &wsutil.Reader{
		Source:         g.rw,
		State:          ws.StateClientSide | ws.StateExtended,
		Extensions:     []wsutil.RecvExtension{&g.state},
		OnIntermediate: control,
	}
	for {
		h, err := rd.NextFrame()
		if err != nil {
			return 0, err
		}
		if h.OpCode.IsControl() {
			if err := control(h, rd); err != nil {
				return 0, err
			}
			continue
		}
		buf := gobwasBuffers.Get().(*bytes.Buffer)
		buf.Reset()
		if g.state.IsCompressed() {
			fr := gobwasFlateReaders.Get().(*wsflate.Reader)
			fr.Reset(rd)
			_, err = buf.ReadFrom(fr)
			if err == nil {
				err = fr.Close()
			}
			fr.Reset(nil)
			gobwasFlateReaders.Put(fr)
		} else {
			_, err = buf.ReadFrom(rd)
		}
		n := buf.Len()
		gobwasBuffers.Put(buf)
		return n, err
	}
}

func (g *gobwasZConn) StartClose() error {
	return wsutil.WriteClientMessage(g.conn, ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
}

func (g *gobwasZConn) Kill() error { return g.conn.Close() }

// wireStats is what the server counted on one connection (stats=1).
type wireStats struct {
	inWire, inPayload, outWire, outPayload, msgs int64
}

// up is wire bytes over payload bytes from client to server, down the
// other way; NaN-free: 0 when no payload went that way.
func (w *wireStats) up() float64   { return ratio(w.inWire, w.inPayload) }
func (w *wireStats) down() float64 { return ratio(w.outWire, w.outPayload) }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// parseStats reads a server's "stats PATH k=v ..." line.
func parseStats(line string) (*wireStats, error) {
	f := strings.Fields(line)
	if len(f) < 3 || f[0] != "stats" {
		return nil, fmt.Errorf("not a stats line: %q", line)
	}
	c, err := countsOf(f[2:])
	if err != nil {
		return nil, fmt.Errorf("stats line %q: %v", line, err)
	}
	return &wireStats{inWire: c["in_wire"], inPayload: c["in_payload"], outWire: c["out_wire"], outPayload: c["out_payload"], msgs: c["msgs"]}, nil
}

// countsOf reads the counts of a server's line, key=value words.
func countsOf(words []string) (map[string]int64, error) {
	c := make(map[string]int64, len(words))
	for _, kv := range words {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not key=value", kv)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, err
		}
		c[k] = n
	}
	return c, nil
}

// nextStats waits up to d for the server's stats line of the connection
// that just ended.
func (s *serverProc) nextStats(d time.Duration) (*wireStats, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case line := <-s.stats:
		return parseStats(line)
	case <-t.C:
		return nil, fmt.Errorf("the server reported no stats for the connection within %v", d)
	}
}

// drainStats drops stats lines left from earlier runs.
func (s *serverProc) drainStats() {
	for {
		select {
		case <-s.stats:
		default:
			return
		}
	}
}
