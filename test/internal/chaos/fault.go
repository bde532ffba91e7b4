package chaos

import (
	"fmt"
	"time"
)

// Fault is how the proxy treats its connections: Pass, Stall, Blackhole,
// Delay(d), HalfOpen or Refuse. The zero Fault is Pass. Faults are
// comparable values; set one with Proxy.SetFault.
type Fault struct {
	kind  kind
	delay time.Duration // for Delay
}

type kind uint8

const (
	pass kind = iota
	stall
	blackhole
	delay
	halfOpen
	refuse
)

// The faults that take no parameter. They are variables only because a
// struct can not be a constant: never assign to them.
var (
	// Pass forwards both ways, the default.
	Pass = Fault{kind: pass}
	// Stall stops reading from both sockets of every connection, so that
	// the kernel's buffers fill and the peers' writes block; it forwards
	// nothing and sends no FIN or RST. Bytes the proxy had read but not
	// yet written wait too. Pass (or any fault that reads) resumes, and
	// what piled up is forwarded in order.
	Stall = Fault{kind: stall}
	// Blackhole reads both sockets and discards what it reads, along with
	// what it had read but not yet written: the peers' writes succeed and
	// nothing arrives. A FIN or RST that arrives meanwhile is held back
	// until the fault changes, as TCP would keep retransmitting it.
	Blackhole = Fault{kind: blackhole}
	// HalfOpen resets the upstream socket of every connection (SetLinger(0)
	// then Close) and leaves the client's open and silent for good: the
	// proxy never writes to it again, discards what the client sends, and
	// sends it no FIN or RST until the client closes its end, or until
	// ResetAll, CloseAll or Close. New connections get the same: their
	// upstream socket is dialled and reset at once. Setting another fault
	// later does not bring the upstream back.
	HalfOpen = Fault{kind: halfOpen}
	// Refuse resets every new connection as soon as it is accepted (it
	// still counts in Accepted), as a host with no server listening does;
	// connections already open are forwarded as under Pass.
	Refuse = Fault{kind: refuse}
)

// Delay returns the fault that forwards each chunk d after the proxy read
// it, in order, in each direction. Reading goes on meanwhile, so it adds
// latency without capping throughput (up to the proxy's queue, queueLen
// chunks of at most chunkSize bytes per direction). A round trip through
// the proxy takes at least 2*d. Delay(0) forwards as Pass does.
func Delay(d time.Duration) Fault { return Fault{kind: delay, delay: d} }

// String names the fault as the package does: "Pass", "Delay(100ms)"...
func (f Fault) String() string {
	switch f.kind {
	case pass:
		return "Pass"
	case stall:
		return "Stall"
	case blackhole:
		return "Blackhole"
	case delay:
		return fmt.Sprintf("Delay(%v)", f.delay)
	case halfOpen:
		return "HalfOpen"
	case refuse:
		return "Refuse"
	}
	return fmt.Sprintf("Fault(%d)", f.kind)
}
