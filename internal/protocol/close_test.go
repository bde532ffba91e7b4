package protocol

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// wireCodeRef is RFC 6455 7.4 and the IANA registry spelled out
// independently of ValidWireCode.
func wireCodeRef(code uint16) bool {
	switch {
	case code < 1000:
		return false
	case code <= 1003:
		return true
	case code <= 1006: // 1004 reserved, 1005 and 1006 local only
		return false
	case code <= 1014:
		return true
	case code < 3000: // 1015 local only, the rest unassigned
		return false
	default:
		return code <= 4999
	}
}

func TestValidWireCodeAll(t *testing.T) {
	for c := 0; c <= 0xffff; c++ {
		if got, want := ValidWireCode(uint16(c)), wireCodeRef(uint16(c)); got != want {
			t.Fatalf("ValidWireCode(%d) = %v", c, got)
		}
	}
}

func TestCloseCodeClasses(t *testing.T) {
	valid := []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}
	invalid := []uint16{0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 5001, 65535}
	for _, code := range valid {
		c := NewConn(Config{})
		evs, err := feedAll(c, closeCode(code, "why"))
		if err != nil || len(evs) != 1 || evs[0].Kind != KindClose || evs[0].Code != code || evs[0].Reason != "why" {
			t.Fatalf("code %d: %v %v", code, eventsString(evs), err)
		}
		if !c.CloseReceived() || !c.CloseSent() {
			t.Fatalf("code %d: received %v sent %v", code, c.CloseReceived(), c.CloseSent())
		}
		// The echo carries the same code and reason, as browsers echo.
		frames := mustDecode(t, allOutput(c))
		if r := checkClose(t, frames, code); r != "why" || len(frames) != 1 {
			t.Fatalf("code %d: echo reason %q, %d frames", code, r, len(frames))
		}
	}
	for _, code := range invalid {
		expectViolation(t, closeCode(code, ""), 1002)
		expectViolation(t, closeCode(code, "reason"), 1002)
	}
}

func TestCloseOneBytePayload(t *testing.T) {
	expectViolation(t, closeFrame([]byte{0x03}), 1002)
	// Known from the length alone: the header suffices.
	c := NewConn(Config{})
	_, err := feedAll(c, []byte{0x88, 0x01})
	checkFailed(t, c, err, 1002)
}

func TestCloseReasonNotUTF8(t *testing.T) {
	expectViolation(t, closeCode(1000, "ok\xff"), 1007)
	expectViolation(t, closeCode(1000, "\xe2\x82"), 1007) // truncated
	expectViolation(t, closeCode(4000, "\xed\xa0\x80"), 1007)
}

func TestEmptyCloseEchoedEmpty(t *testing.T) {
	c := NewConn(Config{})
	evs, err := feedAll(c, closeFrame(nil))
	if err != nil || len(evs) != 1 || evs[0].Kind != KindClose || evs[0].Code != 0 || evs[0].Reason != "" {
		t.Fatalf("%v %v", eventsString(evs), err)
	}
	checkClose(t, mustDecode(t, allOutput(c)), 0)
}

func TestCloseSplitAcrossFeeds(t *testing.T) {
	c := NewConn(Config{})
	in := closeCode(1001, "going away")
	evs, err := feed(c, in[:3], in[3:7], in[7:])
	if err != nil || len(evs) != 1 || evs[0].Code != 1001 || evs[0].Reason != "going away" {
		t.Fatalf("%v %v", eventsString(evs), err)
	}
}

func TestNoEchoAfterOwnClose(t *testing.T) {
	c := NewConn(Config{})
	if err := c.WriteClose(1000, "done"); err != nil {
		t.Fatal(err)
	}
	evs, err := feedAll(c, closeCode(1000, ""))
	if err != nil || len(evs) != 1 || !c.CloseReceived() {
		t.Fatalf("%v %v", eventsString(evs), err)
	}
	frames := mustDecode(t, allOutput(c))
	if len(frames) != 1 || checkClose(t, frames, 1000) != "done" {
		t.Fatalf("frames %+v", frames)
	}
}

// A byte after the server's close frame fails the connection, as browsers
// do; the close frame already queued (the echo) is the only one sent.
func TestDataAfterCloseFails(t *testing.T) {
	for _, split := range []bool{false, true} {
		c := NewConn(Config{})
		in := cat(textFrame("a"), closeCode(1000, ""))
		after := textFrame("b")
		var evs []Event
		var err error
		if split {
			evs, err = feed(c, in, after)
		} else {
			evs, err = feedAll(c, cat(in, after))
		}
		var pe *Error
		if !errors.As(err, &pe) || pe.Code != 1002 || len(evs) != 2 || evs[1].Kind != KindClose {
			t.Fatalf("split=%t: %v %v", split, eventsString(evs), err)
		}
		frames := mustDecode(t, allOutput(c))
		if len(frames) != 1 || checkClose(t, frames, 1000) != "" {
			t.Fatalf("split=%t: frames %+v, want only the echo", split, frames)
		}
		if evs, err := feedAll(c, pingFrame("x")); len(evs) != 0 || err != pe {
			t.Fatalf("after failure: %v %v", eventsString(evs), err)
		}
	}
	// An empty read after the close is no violation.
	c := NewConn(Config{})
	feedAll(c, closeCode(1000, ""))
	if _, err := feedAll(c, nil); err != nil {
		t.Fatal(err)
	}
}

func TestCloseDuringFragmentedMessage(t *testing.T) {
	c := NewConn(Config{})
	evs, err := feedAll(c, cat(frame(false, ws.OpText, []byte("part")), closeCode(1000, "")))
	if err != nil || len(evs) != 1 || evs[0].Kind != KindClose {
		t.Fatalf("%v %v", eventsString(evs), err)
	}
	if c.Partial() || c.msg != nil {
		t.Fatal("partial message kept after close")
	}
}

func TestParseClosePayload(t *testing.T) {
	if code, reason, err := ParseClosePayload(nil); code != 0 || reason != "" || err != nil {
		t.Fatal(code, reason, err)
	}
	if _, _, err := ParseClosePayload([]byte{3}); err == nil || err.Code != 1002 {
		t.Fatal(err)
	}
	p := binary.BigEndian.AppendUint16(nil, 3001)
	p = append(p, "räson"...)
	if code, reason, err := ParseClosePayload(p); code != 3001 || reason != "räson" || err != nil {
		t.Fatal(code, reason, err)
	}
	if _, _, err := ParseClosePayload([]byte{0x03, 0xed}); err == nil || err.Code != 1002 {
		t.Fatal(err) // 1005
	}
	if _, _, err := ParseClosePayload([]byte{0x03, 0xe8, 0xc0}); err == nil || err.Code != 1007 {
		t.Fatal(err)
	}
}

func TestFailureReasonsFitCloseFrame(t *testing.T) {
	for _, r := range []string{reasonMasked, reasonUnmasked, reasonRsv, reasonOpcode, reasonFragmentedControl,
		reasonControlTooLong, reasonCloseOneByte, reasonLength, reasonNotMinimal, reasonContinuation,
		reasonDataInFragmented, reasonCloseCode, reasonCloseUTF8, reasonUTF8,
		reasonUTF8Truncated, reasonTooBig} {
		if len(r) > 123 || !utf8.ValidString(r) {
			t.Errorf("reason %q does not fit a close frame", r)
		}
	}
	e := &Error{Code: 1002, Reason: reasonMasked}
	if !strings.Contains(e.Error(), "1002") || !strings.Contains(e.Error(), reasonMasked) {
		t.Error(e.Error())
	}
}
