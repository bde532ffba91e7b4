package websocket

import "github.com/wsloop/websocket/internal/poll"

// A send does not write: it queues its frame in the protocol core and
// marks the socket dirty, and the loop hands each dirty socket's output to
// the kernel at the end of the task that sent (a posted task, a timer, a
// message event, or the other I/O callbacks of one poller wait). So BufferedAmount reads, inside a
// task, what that task sent, as the WHATWG standard counts it ("as of the
// last time the event loop reached step 1"), a burst of small sends costs
// one system call, and sends from other goroutines are written by the
// loop, which wakes for them only when it is waiting.

// markDirtyLocked queues ws for the loop's next flush; ws.mu is held.
func (ws *WebSocket) markDirtyLocked() {
	if ws.dirty {
		return
	}
	ws.dirty = true
	l := ws.loop
	l.mu.Lock()
	l.dirty = append(l.dirty, ws)
	l.hasDirty.Store(true)
	p := l.poller
	l.mu.Unlock()
	// The loop sets parked before it looks at dirty for the last time
	// ahead of a wait, and clears it once it runs callbacks again: either
	// it sees this socket, or this sees parked.
	if p != nil && l.parked.Load() {
		p.Wake()
	}
}

// flushDirty writes the output of every socket marked since the last
// flush. It runs on the loop, at the end of each task.
func (l *EventLoop) flushDirty() {
	if !l.hasDirty.Load() {
		return
	}
	l.mu.Lock()
	d := l.dirty
	l.dirty, l.dirtySpare = l.dirtySpare[:0], nil
	l.hasDirty.Store(false)
	l.mu.Unlock()
	if b, ok := l.poller.(poll.Batcher); ok && len(d) >= 2 {
		l.flushBatch(b, d)
	} else {
		for _, ws := range d {
			ws.flushHeld()
		}
	}
	clear(d)
	l.mu.Lock()
	if l.dirtySpare == nil {
		l.dirtySpare = d[:0]
	}
	l.mu.Unlock()
}

// flushWindow is how many dirty sockets flushBatch hands to the poller at
// a time: what the batch keeps for them (its queue, the results) stays
// that small however many sockets one task sent on, as a broadcast to
// 10 000 does.
const flushWindow = 256

// flushBatch is flushDirty's work for two sockets or more, whose sends the
// poller can make in one system call for every few dozen: each socket
// whose output the batch takes stays locked until its send is made, as it
// would be for its own Write, and no handler runs until every one of its
// window is unlocked again (a handler may send on any of them). The
// sockets the batch does not take are flushed one by one after it.
func (l *EventLoop) flushBatch(b poll.Batcher, d []*WebSocket) {
	rest := 0 // d[:rest] are the sockets left to flush one by one
	for start := 0; start < len(d); start += flushWindow {
		window := d[start:min(start+flushWindow, len(d))]
		queued := 0
		for i, ws := range window {
			ws.mu.Lock()
			if ws.writableLocked() {
				if out := ws.core.Output(); len(out) > 0 && b.QueueWrite(ws.conn, out) {
					ws.dirty = false
					window[i], window[queued] = window[queued], ws
					queued++
					continue
				}
			}
			ws.mu.Unlock()
		}
		b.WriteQueued()
		low := l.lowSpare[:0]
		for i, ws := range window[:queued] {
			n, err := b.Written(i)
			if ws.wroteLocked(len(ws.core.Output()), n, err) {
				ws.flushLocked() // what the core holds beyond its first buffer
			}
			low = append(low, ws.flushedLocked())
			ws.mu.Unlock()
		}
		for i, ws := range window[:queued] {
			if low[i] {
				ws.emitLow()
			}
		}
		l.lowSpare = low[:0]
		rest += copy(d[rest:], window[queued:])
	}
	for _, ws := range d[:rest] {
		ws.flushHeld()
	}
}

// flushHeld hands the socket's held output to the kernel, and tells a
// producer whose backlog has drained to the threshold that it may send
// more.
func (ws *WebSocket) flushHeld() {
	ws.mu.Lock()
	ws.dirty = false
	ws.flushLocked()
	low := ws.flushedLocked()
	ws.mu.Unlock()
	if low {
		ws.emitLow()
	}
}

// flushedLocked follows a flush: it half-closes a socket whose closing
// frame is out, wakes the writers waiting for room, and reports whether
// the backlog has fallen to the BufferedAmountLow threshold.
func (ws *WebSocket) flushedLocked() bool {
	ws.shutdownIfDrainedLocked()
	ws.wakeWritersLocked()
	low := ws.aboveLow && ws.core.BufferedPayload() <= ws.lowThreshold
	if low {
		ws.aboveLow = false
	}
	return low
}

// emitLow dispatches BufferedAmountLow, with no lock held.
func (ws *WebSocket) emitLow() {
	if ws.ReadyState() == Open {
		emit(ws, ws.OnBufferedAmountLow, BufferedAmountLowEvent{Target: ws}, false)
	}
}

// unpark is called first by every poller callback: the poller calls them
// inside its wait, and from there on the loop flushes before it waits
// again, so a sender need not wake it.
func (l *EventLoop) unpark() {
	if l.parked.Load() {
		l.parked.Store(false)
	}
}

// drainChanLocked is a channel closed once the loop has written some of
// the backlog, or the socket's state changed: a writer waiting for room
// looks again then. ws.mu is held.
func (ws *WebSocket) drainChanLocked() chan struct{} {
	aux := ws.auxLocked()
	if aux.drained == nil {
		aux.drained = make(chan struct{})
	}
	return aux.drained
}

// wakeWritersLocked wakes the writers waiting for room; ws.mu is held.
func (ws *WebSocket) wakeWritersLocked() {
	if ws.aux != nil && ws.aux.drained != nil {
		close(ws.aux.drained)
		ws.aux.drained = nil
	}
}
