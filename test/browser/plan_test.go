package browser_test

import (
	"fmt"
	"strings"
	"time"
)

// scenario is one comparison: what the server does, what the client does,
// and how the server's record is used.
type scenario struct {
	name   string
	client plan
	// server runs on the connection once the upgrade request is read; nil
	// when no client may connect (the constructor throws).
	server func(p *peer)
	// maybeConn: whether a client connects at all is a race (close() right
	// after the constructor); the wire record is neither awaited nor
	// compared.
	maybeConn bool
	// quirk names the deliberate difference (see parity_test.go) this
	// scenario exercises, when it is one that only some scenarios may
	// show.
	quirk string
	// deviation names the known deviation (see knownDeviations in
	// parity_test.go) this scenario shows: a difference from Chromium that
	// is not deliberate. Both sides are still printed; the comparison is
	// skipped while the deviation shows.
	deviation string
}

// plan is what the client does, the same in JavaScript and in Go. Steps
// run in order; every step but "await" records a "call" entry, with the
// readyState and bufferedAmount read right after it.
type plan struct {
	// url is the URL given to the constructor; "{host}" stands for the
	// server's 127.0.0.1:port. Empty: ws://{host}/ws/<name>.
	url string
	// protocols is the constructor's second argument; nil leaves it out.
	protocols []string
	now       []step // right after the constructor
	onOpen    []step // in the open handler
	onMessage []step // in the first message's handler
	onClose   []step // in the close handler
	// echo: every message received is sent back as it came, text or
	// binary, in its handler (before onMessage's steps), with a "call"
	// entry of its own.
	echo bool
	// closeTimeout is the Go client's Config.CloseTimeout; zero means
	// goCloseTimeout.
	closeTimeout time.Duration
}

// goCloseTimeout is the Go client's CloseTimeout unless a scenario says
// otherwise: above every wait of a well-behaved server here, below the
// scenario bounds.
const goCloseTimeout = 3 * time.Second

// step is one call on the socket.
type step struct {
	Label  string  `json:"label"`
	Do     string  `json:"do"` // send, sendBinary, close, read, later, await
	Text   string  `json:"text"`
	Size   int     `json:"size,omitempty"`
	Code   *int    `json:"code,omitempty"`
	Reason *string `json:"reason,omitempty"`
}

func send(s string) step {
	return step{Label: fmt.Sprintf("send(%s)", jsString(s)), Do: "send", Text: s}
}

func sendBinary(n int) step {
	return step{Label: fmt.Sprintf("send(new ArrayBuffer(%d))", n), Do: "sendBinary", Size: n}
}

func closeNoArgs() step { return step{Label: "close()", Do: "close"} }

func closeCode(code int) step {
	return step{Label: fmt.Sprintf("close(%d)", code), Do: "close", Code: &code}
}

func closeWith(code int, reason string) step {
	return step{Label: fmt.Sprintf("close(%d, %s)", code, jsString(reason)), Do: "close", Code: &code, Reason: &reason}
}

// readBuffered calls nothing: its entry reads bufferedAmount (and
// readyState) where it stands in the task.
func readBuffered() step { return step{Label: "read bufferedAmount", Do: "read"} }

// later ends the task: the steps after it run in a task of their own,
// started by setTimeout(0) in the page and SetTimeout(0) in Go, and its
// entry reads the state at that task's start. Not for onClose: the page
// posts its trace once the close handler returns.
func later() step { return step{Label: "setTimeout(0) fired", Do: "later"} }

// echoLabel is the label of an echo's "call" entry (plan.echo).
const echoLabel = "send(the message received)"

// awaitRequest waits until the server has read the client's upgrade
// request (and is holding the answer back).
func awaitRequest() step { return step{Label: "await the server's view of the request", Do: "await"} }

// jsString renders a step argument for a label, shortening long ones.
func jsString(s string) string {
	if n := len(s); n > 24 {
		r := []rune(s)
		return fmt.Sprintf("%q (%d bytes)", string(r[:8])+"…", n)
	}
	return fmt.Sprintf("%q", s)
}

// url is the constructor's URL for this scenario, with "{host}" replaced by
// host (127.0.0.1:port) and "{port}" by its port.
func (sc *scenario) url(host string) string {
	if sc.client.url == "" {
		return "ws://" + host + "/ws/" + sc.name
	}
	_, port, _ := strings.Cut(host, ":")
	return strings.NewReplacer("{host}", host, "{port}", port).Replace(sc.client.url)
}

// pageScenario is a scenario as the page receives it.
type pageScenario struct {
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	Protocols *[]string `json:"protocols"`
	Now       []step    `json:"now"`
	OnOpen    []step    `json:"onOpen"`
	OnMessage []step    `json:"onMessage"`
	OnClose   []step    `json:"onClose"`
	Echo      bool      `json:"echo"`
}

func (sc *scenario) pageJSON(host string) pageScenario {
	ps := pageScenario{
		Name: sc.name, URL: sc.url(host),
		Now: sc.client.now, OnOpen: sc.client.onOpen, OnMessage: sc.client.onMessage, OnClose: sc.client.onClose,
		Echo: sc.client.echo,
	}
	if sc.client.protocols != nil {
		p := sc.client.protocols
		ps.Protocols = &p
	}
	return ps
}
