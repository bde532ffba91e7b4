package chaos

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy forwards TCP connections from 127.0.0.1 to one upstream address,
// under the Fault set by SetFault. Its methods are safe for concurrent use.
type Proxy struct {
	ln       *net.TCPListener
	upstream string
	ctx      context.Context // cancelled by Close, to abandon dials
	cancel   context.CancelFunc
	wg       sync.WaitGroup // the accept loop and one serve per link

	toUpstream, toClient atomic.Int64

	mu        sync.Mutex
	ioDone    sync.Cond // signalled when a pipe's I/O ends or a link stops forwarding
	fault     Fault
	epoch     uint64        // 1 + SetFault's calls: 0 means none in pipe.reading
	changed   chan struct{} // closed and replaced by SetFault
	accepted  int
	acceptedC chan struct{} // closed and replaced at each accept, and by Close
	links     map[*link]struct{}
	closed    bool
	acceptErr error // what stopped the accept loop, if not Close
}

// Listen starts a proxy on 127.0.0.1, on a port of the kernel's choice,
// that forwards every connection to upstream (host:port), which must be a
// loopback address or localhost: the proxy is test tooling, and its
// traffic stays on the machine.
func Listen(upstream string) (*Proxy, error) {
	if err := checkLoopback(upstream); err != nil {
		return nil, err
	}
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		ln:        ln,
		epoch:     1,
		upstream:  upstream,
		ctx:       ctx,
		cancel:    cancel,
		changed:   make(chan struct{}),
		acceptedC: make(chan struct{}),
		links:     make(map[*link]struct{}),
	}
	p.ioDone.L = &p.mu
	p.wg.Go(p.accept)
	return p, nil
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("chaos: upstream %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("chaos: upstream %q is not on loopback", addr)
	}
	return nil
}

// Addr is the address clients dial, 127.0.0.1:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// accept runs until the listener is closed, registering each connection
// before it dials upstream, so that ResetAll, CloseAll and Close reach a
// connection from the moment Accepted counts it.
func (p *Proxy) accept() {
	for {
		c, err := p.ln.AcceptTCP()
		p.mu.Lock()
		if err != nil {
			if !p.closed {
				p.acceptErr = err
			}
			p.mu.Unlock()
			return
		}
		p.accepted++
		close(p.acceptedC)
		p.acceptedC = make(chan struct{})
		if p.closed || p.fault.kind == refuse {
			p.mu.Unlock()
			reset(c)
			continue
		}
		l := &link{p: p, client: c, done: make(chan struct{})}
		p.links[l] = struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() { p.serve(l) })
	}
}

// SetFault makes f the proxy's behaviour, for the connections open now as
// for those to come, and returns once f is in effect: a read or write the
// proxy was blocked in, or about to start, under the fault before has been
// interrupted and has returned. So under Stall no byte is read or
// forwarded after SetFault returns but those the kernel already had.
func (p *Proxy) SetFault(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
	p.epoch++
	epoch := p.epoch
	close(p.changed)
	p.changed = make(chan struct{})
	for l := range p.links {
		if l.state != open {
			continue
		}
		if f.kind == halfOpen && !l.orphan {
			l.orphan = true
			if l.upstream != nil {
				reset(l.upstream)
			}
		}
		// The pipes clear the deadline, then look at the fault again.
		_ = l.client.SetDeadline(past)
		if l.upstream != nil && !l.orphan {
			_ = l.upstream.SetDeadline(past)
		}
	}
	// A read woken by the deadline can still return data that arrived
	// meanwhile, and a write go on writing: wait for them to return.
	for p.ioBefore(epoch) {
		p.ioDone.Wait()
	}
}

// ioBefore reports whether a pipe of an open link is reading or writing
// under a fault older than epoch.
func (p *Proxy) ioBefore(epoch uint64) bool {
	for l := range p.links {
		if l.state != open {
			continue // stopped forwarding: draining reads are not the fault's
		}
		for _, pp := range l.pipes {
			if pp == nil {
				continue
			}
			if r, w := pp.reading, pp.writing; r != 0 && r < epoch || w != 0 && w < epoch {
				return true
			}
		}
	}
	return false
}

// past is a deadline that has expired: setting it interrupts blocked I/O.
var past = time.Unix(1, 0)

// Accepted is the number of connections the proxy has accepted so far,
// refused ones included, so that a reconnect test can count attempts.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// WaitAccepted blocks until Accepted() >= n, and returns nil then, or
// ctx's error when ctx ends first, or net.ErrClosed when the proxy is
// closed first.
func (p *Proxy) WaitAccepted(ctx context.Context, n int) error {
	for {
		p.mu.Lock()
		got, next, closed := p.accepted, p.acceptedC, p.closed
		p.mu.Unlock()
		switch {
		case got >= n:
			return nil
		case closed:
			return net.ErrClosed
		}
		select {
		case <-next:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Open is the number of connections accepted and not yet closed, by
// either peer or by the proxy. A connection counts from its accept, before
// its upstream socket is dialled; under HalfOpen it counts until the client
// closes its end; after CloseAll or ResetAll it no longer counts.
func (p *Proxy) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for l := range p.links {
		if l.state == open {
			n++
		}
	}
	return n
}

// ToUpstream is the number of bytes the proxy has written to upstream
// sockets. It is added after each write returns, so it may trail what the
// server has already read by one chunk; once Close returns it is exact.
func (p *Proxy) ToUpstream() int64 { return p.toUpstream.Load() }

// ToClient is the number of bytes the proxy has written to client
// sockets, with the same lag as ToUpstream.
func (p *Proxy) ToClient() int64 { return p.toClient.Load() }

// ResetAll aborts every current connection with an RST to both peers
// (SetLinger(0), then Close), as a crashed middlebox or host does. The
// client's next read gets ECONNRESET. The fault is unchanged.
func (p *Proxy) ResetAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		p.abortLocked(l)
	}
}

// CloseAll ends every open connection with a FIN to both peers, after
// what was already written to them: the client's next reads get the rest,
// then EOF. The proxy then reads both sockets to their end, discarding,
// and closes them once the peers have closed theirs, so that unread bytes
// never turn the FIN into an RST. The fault is unchanged.
func (p *Proxy) CloseAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		p.drainLocked(l)
	}
}

// Close stops listening, resets every connection, as ResetAll does, and
// returns once every goroutine the proxy started has ended and every
// socket it opened is closed. It returns the error that had stopped the
// proxy from accepting before Close, if any. Calling it again only waits.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		p.cancel()
		_ = p.ln.Close()
		close(p.acceptedC) // wakes WaitAccepted, which sees closed
		p.acceptedC = make(chan struct{})
		for l := range p.links {
			p.abortLocked(l)
		}
	}
	p.mu.Unlock()
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.acceptErr
}
