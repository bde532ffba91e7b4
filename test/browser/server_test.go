package browser_test

// The scenario server: one listener on 127.0.0.1:0 that serves the test page
// and its endpoints over HTTP, and takes over the connection of every
// WebSocket upgrade (paths /ws/<scenario>) to run the scenario's script with
// byte-level control. Both clients connect to the same URLs; the server
// tells them apart by User-Agent (the Go client sends "wsloop") and keeps
// one wire record per scenario and client.

import (
	"bufio"
	"crypto/sha1"
	_ "embed"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	// ioBound is the deadline of every server read or write: a client
	// that hangs fails its scenario instead of the suite.
	ioBound = 6 * time.Second
	// guid is RFC 6455's magic string for Sec-WebSocket-Accept.
	guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
)

//go:embed page.html
var pageHTML []byte

// wireRecord is what the server saw a client do on one scenario's
// connection.
type wireRecord struct {
	// Connected: the client sent an upgrade request.
	Connected bool
	// Target is the request line's target and Host the Host header: the
	// constructor's URL as the client serialized it.
	Target, Host string
	// Protocols is the Sec-WebSocket-Protocol list the client offered.
	Protocols string
	// Extensions is the request's Sec-WebSocket-Extensions header, its
	// values joined with ", ": the client's permessage-deflate offer, as
	// both clients word it (Chromium's is "permessage-deflate;
	// client_max_window_bits").
	Extensions string
	// Frames is what the client sent after the handshake: whole messages
	// and control frames, in order (see assembler).
	Frames []string
	// FailFast, for scenarios that send half of a bad frame or message and
	// wait: "failed early" when the client's close frame came before the
	// rest was sent, "waited" otherwise.
	FailFast string
	// Problems are the script's own failures: a deadline, an I/O error.
	Problems []string
	// Extra counts connections after the first.
	Extra int

	// Not compared (they depend on timing or on how a client chunks its
	// writes); logged.
	FrameCount int
	End        string // how the client's side ended: "EOF", "reset", ...
	// Deflated is each compressed message's size on the wire and
	// inflated ("wire→inflated"): the clients' compressors differ.
	Deflated []string
}

func (w *wireRecord) String() string {
	if w == nil || !w.Connected {
		return "no connection"
	}
	frames := strings.Join(w.Frames, " | ")
	if len(w.Frames) == 0 {
		frames = "(none)"
	}
	s := fmt.Sprintf("GET %s Host: %s, offered protocols=%q extensions=%q\n\t\tframes: %s", w.Target, w.Host, w.Protocols, w.Extensions, frames)
	if w.FailFast != "" {
		s += "\n\t\tfail fast: " + w.FailFast
	}
	if len(w.Problems) > 0 {
		s += "\n\t\tserver script problems: " + strings.Join(w.Problems, "; ")
	}
	if w.Extra > 0 {
		s += fmt.Sprintf("\n\t\t%d more connections", w.Extra)
	}
	return s
}

// slot is one scenario's connection from one client.
type slot struct {
	requested chan struct{} // closed once the upgrade request has been read
	done      chan struct{} // closed once the script and the drain ended
	rec       *wireRecord
	count     int
}

type slotKey struct{ scenario, client string }

// pageResult is what the page posts for one scenario.
type pageResult struct {
	Name  string  `json:"name"`
	Trace []entry `json:"trace"`
}

type server struct {
	ln        net.Listener
	hs        *http.Server
	host      string // 127.0.0.1:port
	scenarios map[string]*scenario

	queue chan any      // scenarios (or the final "done") for the page's /next
	ready chan struct{} // closed on the page's first /next
	hits  atomic.Int64  // requests served, of any kind

	mu      sync.Mutex
	slots   map[slotKey]*slot
	results map[string]chan pageResult
	logs    []string
	conns   map[net.Conn]bool // hijacked, closed at shutdown
	wg      sync.WaitGroup    // scripts running
	readyOK bool
}

func startServer(scs []*scenario) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{
		ln:        ln,
		host:      ln.Addr().String(),
		scenarios: map[string]*scenario{},
		queue:     make(chan any),
		ready:     make(chan struct{}),
		slots:     map[slotKey]*slot{},
		results:   map[string]chan pageResult{},
		conns:     map[net.Conn]bool{},
	}
	for _, sc := range scs {
		s.scenarios[sc.name] = sc
	}
	s.hs = &http.Server{Handler: s, ReadHeaderTimeout: ioBound}
	go s.hs.Serve(ln)
	return s, nil
}

// shutdown stops serving and ends every script still running.
func (s *server) shutdown() {
	s.hs.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(ioBound):
	}
}

func (s *server) slot(scenario, client string) *slot {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := slotKey{scenario, client}
	sl := s.slots[k]
	if sl == nil {
		sl = &slot{requested: make(chan struct{}), done: make(chan struct{}), rec: &wireRecord{}}
		s.slots[k] = sl
	}
	return sl
}

func (s *server) result(name string) chan pageResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.results[name]
	if ch == nil {
		ch = make(chan pageResult, 1)
		s.results[name] = ch
	}
	return ch
}

func (s *server) pageLogs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.logs...)
}

// clientOf tells the two clients apart.
func clientOf(r *http.Request) string {
	if strings.Contains(r.UserAgent(), "wsloop") {
		return "go"
	}
	return "chromium"
}

// requested reports whether any request has reached the server.
func (s *server) requested() bool { return s.hits.Load() > 0 }

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || strings.HasPrefix(r.URL.Path, "/ws/") {
		name, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/ws/"), "/")
		if q := r.URL.Query().Get("s"); q != "" {
			name = q
		}
		s.serveWS(w, r, name)
		return
	}
	switch r.URL.Path {
	case "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(pageHTML)
	case "/next":
		s.mu.Lock()
		if !s.readyOK {
			s.readyOK = true
			close(s.ready)
		}
		s.mu.Unlock()
		select {
		case v := <-s.queue:
			writeJSON(w, v)
		case <-r.Context().Done():
		}
	case "/scenario":
		sc := s.scenarios[r.URL.Query().Get("name")]
		if sc == nil {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, sc.pageJSON(s.host))
	case "/result":
		var res pageResult
		if err := json.NewDecoder(r.Body).Decode(&res); err != nil {
			s.logf("bad result: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case s.result(res.Name) <- res:
		default:
			s.logf("second result for %s dropped", res.Name)
		}
	case "/log":
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		s.logf("page: %s", b)
	case "/await":
		sl := s.slot(r.URL.Query().Get("s"), r.URL.Query().Get("c"))
		select {
		case <-sl.requested:
		case <-time.After(ioBound):
			http.Error(w, "no upgrade request", http.StatusGatewayTimeout)
		case <-r.Context().Done():
		}
	default:
		http.NotFound(w, r)
	}
}

func (s *server) logf(format string, args ...any) {
	s.mu.Lock()
	s.logs = append(s.logs, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

// serveWS runs the scenario's script on the connection of an upgrade
// request.
func (s *server) serveWS(w http.ResponseWriter, r *http.Request, name string) {
	sc := s.scenarios[name]
	if sc == nil || sc.server == nil {
		http.Error(w, "no such scenario", http.StatusNotFound)
		return
	}
	nc, brw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		s.logf("%s: hijack: %v", name, err)
		return
	}
	s.mu.Lock()
	s.conns[nc] = true
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		nc.Close()
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
		s.wg.Done()
	}()

	sl := s.slot(name, clientOf(r))
	s.mu.Lock()
	sl.count++
	first := sl.count == 1
	if !first {
		sl.rec.Extra++
	}
	s.mu.Unlock()
	if !first {
		return // a retry: counted, not served
	}
	rec := sl.rec
	rec.Connected = true
	rec.Target, rec.Host = r.RequestURI, r.Host
	var offered []string
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			offered = append(offered, strings.TrimSpace(p))
		}
	}
	rec.Protocols = strings.Join(offered, ", ")
	rec.Extensions = strings.Join(r.Header.Values("Sec-WebSocket-Extensions"), ", ")
	close(sl.requested)

	p := &peer{nc: nc.(*net.TCPConn), br: brw.Reader, req: r, rec: rec, offered: offered}
	nc.SetDeadline(time.Now().Add(ioBound))
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if v := recover(); v != nil {
				rec.Problems = append(rec.Problems, fmt.Sprintf("script panicked: %v", v))
			}
		}()
		sc.server(p)
		if !p.closed {
			p.drain()
		}
	}()
	<-done
	if rec.End == "" {
		rec.End = "server closed"
	}
	close(sl.done)
}

// peer is the server's side of one connection, as a script sees it.
type peer struct {
	nc      *net.TCPConn
	br      *bufio.Reader
	req     *http.Request
	rec     *wireRecord
	offered []string
	asm     assembler
	closed  bool
}

// fail records a script failure and ends the script.
func (p *peer) fail(format string, args ...any) {
	p.rec.Problems = append(p.rec.Problems, fmt.Sprintf(format, args...))
	p.closeTCP()
	runtime.Goexit()
}

// accept answers the upgrade correctly, with extra header lines.
func (p *peer) accept(extra ...string) { p.write(p.response(extra...)) }

// response is a correct 101 response with extra header lines.
func (p *peer) response(extra ...string) []byte {
	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
	b.WriteString("Sec-WebSocket-Accept: " + p.acceptKey() + "\r\n")
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

func (p *peer) acceptKey() string {
	h := sha1.Sum([]byte(p.req.Header.Get("Sec-WebSocket-Key") + guid))
	return base64.StdEncoding.EncodeToString(h[:])
}

// refuse writes a raw HTTP response and closes the connection.
func (p *peer) refuse(resp string) {
	p.write([]byte(resp))
	p.closeTCP()
}

// write writes the parts in one Write call.
func (p *peer) write(parts ...[]byte) {
	var b []byte
	for _, x := range parts {
		b = append(b, x...)
	}
	if _, err := p.nc.Write(b); err != nil {
		p.fail("write: %v", err)
	}
}

// writeBytewise writes the parts one byte per Write call (TCP_NODELAY is
// on: one segment each).
func (p *peer) writeBytewise(parts ...[]byte) {
	for _, x := range parts {
		for _, c := range x {
			if _, err := p.nc.Write([]byte{c}); err != nil {
				p.fail("write: %v", err)
			}
		}
	}
}

// readFrame reads and records the client's next frame. It returns false
// when the client's side ended (EOF or reset), which it notes.
func (p *peer) readFrame() (clientFrame, bool) {
	var f clientFrame
	var h [2]byte
	if _, err := io.ReadFull(p.br, h[:]); err != nil {
		return f, p.ended(err)
	}
	f.fin, f.rsv, f.op = h[0]&0x80 != 0, h[0]>>4&7, h[0]&0xf
	f.masked = h[1]&0x80 != 0
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(p.br, b[:]); err != nil {
			return f, p.ended(err)
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(p.br, b[:]); err != nil {
			return f, p.ended(err)
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 16<<20 {
		p.fail("client frame announces %d bytes", n)
	}
	var key [4]byte
	if f.masked {
		if _, err := io.ReadFull(p.br, key[:]); err != nil {
			return f, p.ended(err)
		}
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(p.br, f.payload); err != nil {
		return f, p.ended(err)
	}
	if f.masked {
		for i := range f.payload {
			f.payload[i] ^= key[i%4]
		}
	}
	p.rec.FrameCount++
	if line, ok := p.asm.add(f); ok {
		p.rec.Frames = append(p.rec.Frames, line)
		p.rec.Deflated = p.asm.sizes
	}
	return f, true
}

// ended notes how the client's side ended; a deadline is a failure.
func (p *peer) ended(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		p.rec.End = "EOF"
	case errors.Is(err, syscall.ECONNRESET):
		p.rec.End = "reset"
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		p.fail("no frame or EOF from the client within the deadline")
	default:
		p.rec.End = err.Error()
	}
	return false
}

// readMessage reads frames until a whole data message and returns it;
// control frames are recorded on the way (the client answers pings by
// itself).
func (p *peer) readMessage() (op byte, data []byte) {
	for {
		f, ok := p.readFrame()
		if !ok {
			p.fail("the client ended before sending a message")
		}
		switch f.op {
		case opText, opBinary:
			op, data = f.op, append([]byte(nil), f.payload...)
		case opCont:
			data = append(data, f.payload...)
		case opClose:
			p.fail("the client closed before sending a message")
		default:
			continue
		}
		if f.fin {
			return op, data
		}
	}
}

// readClose reads frames until the client's close frame and returns its
// payload; ok is false when the client ended without one.
func (p *peer) readClose() (payload []byte, ok bool) {
	for {
		f, ok := p.readFrame()
		if !ok {
			return nil, false
		}
		if f.op == opClose {
			return f.payload, true
		}
	}
}

// failedEarly waits up to d for the client's close frame, for a client that
// should fail the connection before the rest of a message arrives.
func (p *peer) failedEarly(d time.Duration) bool {
	p.nc.SetReadDeadline(time.Now().Add(d))
	defer p.nc.SetReadDeadline(time.Now().Add(ioBound))
	for {
		f, err := p.tryFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				p.rec.FailFast = "waited"
				return false
			}
			p.rec.FailFast = "failed early"
			return true
		}
		if f.op == opClose {
			p.rec.FailFast = "failed early"
			return true
		}
	}
}

// tryFrame is readFrame that returns the read error instead of noting it.
func (p *peer) tryFrame() (clientFrame, error) {
	if _, err := p.br.Peek(2); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return clientFrame{}, err
		}
		p.ended(err)
		return clientFrame{}, err
	}
	f, ok := p.readFrame()
	if !ok {
		return f, io.EOF
	}
	return f, nil
}

// finish closes from the server's side: close frame, the client's close
// frame, then TCP.
func (p *peer) finish(code uint16, reason string) {
	p.write(closeFrame(code, reason))
	p.readClose()
	p.closeTCP()
}

// echoClose answers the client's closing handshake with the same payload.
func (p *peer) echoClose() {
	payload, ok := p.readClose()
	if ok {
		p.write(closePayload(payload))
	}
	p.closeTCP()
}

// waitEOF waits (up to d) for the client to end its side, recording what
// it sends meanwhile.
func (p *peer) waitEOF(d time.Duration) {
	p.nc.SetReadDeadline(time.Now().Add(d))
	defer p.nc.SetReadDeadline(time.Now().Add(ioBound))
	for {
		if _, err := p.tryFrame(); err != nil {
			return
		}
	}
}

// drain records what the client sends until it ends its side.
func (p *peer) drain() {
	for {
		if _, ok := p.readFrame(); !ok {
			return
		}
	}
}

func (p *peer) closeTCP() {
	if !p.closed {
		p.closed = true
		p.nc.Close()
	}
}

// reset aborts the connection with a TCP RST.
func (p *peer) reset() {
	p.nc.SetLinger(0)
	p.closeTCP()
}
