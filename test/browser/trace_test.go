package browser_test

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// entry is one line of a client's trace, in the same shape whichever client
// made it: the page's JavaScript posts a JSON array of these, the Go side
// builds them in its callbacks. Each entry notes the readyState and
// bufferedAmount at the moment it was recorded.
type entry struct {
	// Ev is what happened: "ctor" (the constructor returned or threw),
	// "call" (one step of the scenario's client plan), "open", "message",
	// "error", "close", "timeout" (the scenario's bound ran out) or
	// "problem" (the Go harness saw a panic or an error from Run).
	Ev string `json:"ev"`
	// Label names the call, for Ev "call".
	Label string `json:"label,omitempty"`
	// Threw is the DOMException name the call or constructor threw, or on
	// the Go side the name the returned error maps to; empty: none.
	Threw string `json:"threw,omitempty"`
	// RS and BA are readyState and bufferedAmount, -1 when there is no
	// socket (the constructor threw).
	RS int `json:"rs"`
	BA int `json:"ba"`
	// URL, Protocol and Extensions are the attributes, for "ctor" and
	// "open".
	URL        string `json:"url,omitempty"`
	Protocol   string `json:"protocol,omitempty"`
	Extensions string `json:"extensions,omitempty"`
	// Kind and Data describe a message: Kind is "text" or "binary"; Data is
	// the text itself or the bytes in hex when the message is at most
	// smallData bytes, else "len=N fnv=XXXXXXXX" over its bytes (UTF-8 for
	// text).
	Kind string `json:"kind,omitempty"`
	Data string `json:"data,omitempty"`
	// Code, Reason and Clean are the close event's fields.
	Code   int    `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
	Clean  bool   `json:"clean,omitempty"`
}

// smallData is the largest message whose content a trace spells out; the
// page uses the same limit.
const smallData = 64

var stateNames = [...]string{"CONNECTING", "OPEN", "CLOSING", "CLOSED"}

func stateName(rs int) string {
	if rs >= 0 && rs < len(stateNames) {
		return stateNames[rs]
	}
	return fmt.Sprintf("rs=%d", rs)
}

// String renders the entry; two entries are equal when their strings are.
func (e entry) String() string {
	at := fmt.Sprintf("[%s ba=%d]", stateName(e.RS), e.BA)
	switch e.Ev {
	case "ctor":
		if e.Threw != "" {
			return "new WebSocket threw " + e.Threw
		}
		return fmt.Sprintf("new WebSocket %s url=%s protocol=%q extensions=%q", at, e.URL, e.Protocol, e.Extensions)
	case "call":
		res := "ok"
		if e.Threw != "" {
			res = "threw " + e.Threw
		}
		return fmt.Sprintf("%s -> %s %s", e.Label, res, at)
	case "open":
		return fmt.Sprintf("open %s protocol=%q extensions=%q", at, e.Protocol, e.Extensions)
	case "message":
		if e.Kind == "text" && !strings.HasPrefix(e.Data, "len=") {
			return fmt.Sprintf("message %s text %q", at, e.Data)
		}
		return fmt.Sprintf("message %s %s %s", at, e.Kind, e.Data)
	case "error":
		return "error " + at
	case "close":
		return fmt.Sprintf("close %s code=%d reason=%q wasClean=%t", at, e.Code, e.Reason, e.Clean)
	case "timeout":
		return "TIMEOUT: " + e.Data
	case "problem":
		return "PROBLEM: " + e.Data
	}
	return fmt.Sprintf("%s %s (unknown entry)", e.Ev, at)
}

// describeData gives a message's Data as the page does.
func describeData(p []byte, binary bool) string {
	switch {
	case len(p) > smallData:
		return fmt.Sprintf("len=%d fnv=%08x", len(p), fnv32a(p))
	case binary:
		return hex.EncodeToString(p)
	}
	return string(p)
}

// fnv32a is FNV-1a, 32 bits; the page has the same ten lines in JavaScript,
// which has no synchronous digest.
func fnv32a(p []byte) uint32 {
	h := uint32(0x811c9dc5)
	for _, b := range p {
		h ^= uint32(b)
		h *= 0x01000193
	}
	return h
}

// pattern is the content of a binary message of n bytes sent by a client
// plan; the page computes the same bytes.
func pattern(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*31 + 7)
	}
	return p
}

func traceLines(tr []entry) []string {
	out := make([]string, len(tr))
	for i, e := range tr {
		out[i] = e.String()
	}
	return out
}
