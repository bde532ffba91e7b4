package chaos

import (
	"net"
	"sync"
)

// link is one proxied connection: the client's socket, the upstream one,
// and the two pipes between them.
type link struct {
	p      *Proxy
	client *net.TCPConn
	done   chan struct{} // closed when state leaves open: the pipes stop forwarding

	// Guarded by p.mu.
	upstream *net.TCPConn // nil until dialled
	pipes    [2]*pipe     // client to upstream, upstream to client; nil until dialled
	state    state
	orphan   bool // HalfOpen: upstream reset, the client left silent
}

type state uint8

const (
	// open: forwarding under the proxy's fault.
	open state = iota
	// draining: CloseAll sent a FIN both ways; the pipes' readers read
	// to the end and discard, so that the final Close finds nothing
	// unread (which would make the kernel send an RST).
	draining
	// closed: reset by the proxy, or ended by both peers.
	closed
)

// serve dials upstream for l and runs its pipes until they have all
// ended, then closes its sockets and forgets it.
func (p *Proxy) serve(l *link) {
	defer p.finish(l)
	var d net.Dialer
	c, err := d.DialContext(p.ctx, "tcp", p.upstream)
	if !p.attach(l, c, err) {
		return
	}
	var wg sync.WaitGroup
	for _, pp := range l.pipes { // set by attach, here; read under p.mu elsewhere
		wg.Go(pp.read)
		wg.Go(pp.write)
	}
	wg.Wait()
}

// attach gives l the upstream socket dialled for it, or resets the client
// when the dial failed (the server is down: the client sees what it would
// see without the proxy). It reports whether l's pipes should run.
func (p *Proxy) attach(l *link, c net.Conn, err error) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.abortLocked(l)
		return false
	}
	up := c.(*net.TCPConn)
	l.upstream = up
	l.pipes = [2]*pipe{
		{l: l, src: l.client, dst: up, q: make(chan chunk, queueLen), count: &p.toUpstream},
		{l: l, src: up, dst: l.client, q: make(chan chunk, queueLen), count: &p.toClient, fromUpstream: true},
	}
	switch {
	case l.state == closed:
		reset(up)
		return false
	case l.orphan: // SetFault(HalfOpen) came during the dial
		reset(up)
	case l.state == draining: // CloseAll came during the dial
		_ = up.CloseWrite()
	case p.fault.kind == halfOpen:
		l.orphan = true
		reset(up)
	}
	return true
}

// finish closes l's sockets, once its pipes have ended, and forgets it.
// By then both sockets were read to their end (or l was reset), so Close
// sends a FIN, if any, not an RST.
func (p *Proxy) finish(l *link) {
	p.mu.Lock()
	if l.state == open {
		close(l.done)
		p.ioDone.Broadcast()
	}
	l.state = closed
	delete(p.links, l)
	up := l.upstream
	p.mu.Unlock()
	_ = l.client.Close()
	if up != nil {
		_ = up.Close()
	}
}

// abortLocked resets both of l's sockets, whose pipes then end.
func (p *Proxy) abortLocked(l *link) {
	if l.state == closed {
		return
	}
	if l.state == open {
		close(l.done)
		p.ioDone.Broadcast()
	}
	l.state = closed
	reset(l.client)
	if l.upstream != nil {
		reset(l.upstream)
	}
}

// abort is abortLocked for a pipe, which does not hold p.mu.
func (p *Proxy) abort(l *link) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.abortLocked(l)
}

// drainLocked sends a FIN to both of l's peers and stops forwarding: the
// writers end, after a write the deadline interrupts, and the readers read
// to the end, discarding.
func (p *Proxy) drainLocked(l *link) {
	if l.state != open {
		return
	}
	l.state = draining
	close(l.done)
	p.ioDone.Broadcast()
	_ = l.client.CloseWrite()
	_ = l.client.SetWriteDeadline(past)
	if l.upstream != nil && !l.orphan {
		_ = l.upstream.CloseWrite()
		_ = l.upstream.SetWriteDeadline(past)
	}
}

// view is what a pipe needs to know of the proxy and of l, at one moment.
type view struct {
	fault   Fault
	epoch   uint64          // the fault's, for pipe.enter
	changed <-chan struct{} // closed when the fault changes
	state   state
	orphan  bool
}

func (l *link) view() view {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	return view{l.p.fault, l.p.epoch, l.p.changed, l.state, l.orphan}
}

// reset closes c with an RST rather than a FIN.
func reset(c *net.TCPConn) {
	_ = c.SetLinger(0)
	_ = c.Close()
}
