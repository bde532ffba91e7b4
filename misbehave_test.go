package websocket_test

// A server that breaks RFC 6455 after the handshake: the client must send the
// right close code (1002, 1007 or 1009) in a masked close frame, half-close,
// and fire error then close 1006 (wasClean false), ReadyState CLOSED during
// both.

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsloop/websocket"
)

// runViolation runs a server that completes the handshake, writes each of
// writes in one Write call, and then expects the client's close frame with
// wantCode followed at once by the client's EOF (its half-close: the
// client's CloseTimeout is 5 s, the server waits 2 s). It checks the trace.
func runViolation(t *testing.T, cfg *websocket.Config, wantCode int, writes ...[]byte) {
	t.Helper()
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		for _, w := range writes {
			c.write(w)
		}
		c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		c.readClose()
		c.expectEOFWithin(2 * time.Second)
	})
	var conf websocket.Config
	if cfg != nil {
		conf = *cfg
	}
	conf.CloseTimeout = 5 * time.Second
	tc := newTraceClient(t, srv.URL, &conf)
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(failTrace(wantCode)...)
	checkOnlyClose(t, rep, wantCode)
	var pe *websocket.ProtocolError
	if len(tc.Errors) == 1 && errors.As(tc.Errors[0], &pe) && len(rep.Frames) == 1 {
		if _, reason := rep.Frames[0].closeCode(); pe.Reason == "" || pe.Reason != reason {
			t.Errorf("ProtocolError.Reason = %q, close frame reason %q: want the same, non-empty", pe.Reason, reason)
		}
	}
	if tc.Elapsed > 4*time.Second {
		t.Errorf("Run took %v: the client waited for its CloseTimeout instead of half-closing", tc.Elapsed)
	}
}

func TestRawMaskedServerFrame(t *testing.T) {
	runViolation(t, nil, 1002, frameSpec{Fin: true, Op: opText, Mask: true, Key: [4]byte{9, 8, 7, 6}, Payload: []byte("hello")}.bytes())
}

func TestRawMaskedServerFrameEmptyPayload(t *testing.T) {
	runViolation(t, nil, 1002, frameSpec{Fin: true, Op: opBinary, Mask: true}.bytes())
}

func TestRawContinuationWithoutStart(t *testing.T) {
	runViolation(t, nil, 1002, frag(opCont, true, "orphan"))
}

func TestRawContinuationAfterCompleteMessage(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(textFrame("whole"), frag(opCont, true, "orphan"))
		c.readClose()
		c.expectEOFWithin(2 * time.Second)
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{CloseTimeout: 5 * time.Second})
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, `message OPEN text "whole"`, "error CLOSED ProtocolError(1002)", traceAbnormal)
	checkOnlyClose(t, rep, 1002)
}

func TestRawNewDataFrameInsideFragmentedMessage(t *testing.T) {
	t.Run("text", func(t *testing.T) {
		runViolation(t, nil, 1002, frag(opText, false, "first half"), frag(opText, true, "intruder"))
	})
	t.Run("binary", func(t *testing.T) {
		runViolation(t, nil, 1002, frag(opText, false, "first half"), frag(opBinary, false, "intruder"))
	})
}

func TestRawFragmentedPing(t *testing.T) {
	runViolation(t, nil, 1002, frameSpec{Fin: false, Op: opPing, Payload: []byte("ping")}.bytes())
}

func TestRawFragmentedPingInsideFragmentedMessage(t *testing.T) {
	runViolation(t, nil, 1002, frag(opText, false, "a"), frameSpec{Fin: false, Op: opPing, Payload: []byte("p")}.bytes())
}

func TestRawControlPayload126(t *testing.T) {
	for _, op := range []byte{opPing, opPong, opClose} {
		t.Run(fmt.Sprintf("op%#x", op), func(t *testing.T) {
			p := bytes.Repeat([]byte{'c'}, 126)
			if op == opClose {
				copy(p, []byte{0x03, 0xe8}) // code 1000, then 124 bytes of reason
			}
			runViolation(t, nil, 1002, frameSpec{Fin: true, Op: op, Payload: p}.bytes())
		})
	}
}

func TestRawReservedOpcodes(t *testing.T) {
	for _, op := range []byte{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		t.Run(fmt.Sprintf("op%#x", op), func(t *testing.T) {
			runViolation(t, nil, 1002, frameSpec{Fin: true, Op: op, Payload: []byte("x")}.bytes())
		})
	}
}

func TestRawReservedOpcodeInsideFragmentedMessage(t *testing.T) {
	runViolation(t, nil, 1002, frag(opText, false, "a"), frameSpec{Fin: true, Op: 0xB}.bytes())
}

func TestRawRSVBits(t *testing.T) {
	for _, c := range []struct {
		name string
		rsv  byte
	}{{"RSV1", rsv1}, {"RSV2", rsv2}, {"RSV3", rsv3}} {
		t.Run(c.name, func(t *testing.T) {
			runViolation(t, nil, 1002, frameSpec{Fin: true, Rsv: c.rsv, Op: opText, Payload: []byte("rsv")}.bytes())
		})
	}
}

func TestRawRSVBitOnControlFrame(t *testing.T) {
	runViolation(t, nil, 1002, frameSpec{Fin: true, Rsv: rsv1, Op: opPing, Payload: []byte("p")}.bytes())
}

func TestRawLength64TopBit(t *testing.T) {
	t.Run("top bit only", func(t *testing.T) {
		runViolation(t, nil, 1002, frameSpec{Fin: true, Op: opBinary, Enc: 64, HasLen: true, Len: 1 << 63}.bytes())
	})
	t.Run("all ones", func(t *testing.T) {
		runViolation(t, nil, 1002, frameSpec{Fin: true, Op: opBinary, Enc: 64, HasLen: true, Len: ^uint64(0)}.bytes())
	})
}

func TestRawCloseOneBytePayload(t *testing.T) {
	runViolation(t, nil, 1002, closeRawFrame([]byte{0x03}))
}

func TestRawCloseCodesInvalidOnWire(t *testing.T) {
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			runViolation(t, nil, 1002, closeFrame(code, ""))
		})
	}
}

func TestRawInvalidUTF8SingleFrame(t *testing.T) {
	for _, c := range []struct{ name, text string }{
		{"0xFF", "ab\xffcd"},
		{"lone continuation", "\x80"},
		{"overlong slash", "\xc0\xaf"},
		{"surrogate", "\xed\xa0\x80"},
		{"above U+10FFFF", "\xf4\x90\x80\x80"},
		{"truncated at the end", "euro \xe2\x82"},
	} {
		t.Run(c.name, func(t *testing.T) {
			runViolation(t, nil, 1007, textFrame(c.text))
		})
	}
}

// The header announces 100 bytes, 3 arrive, the third is 0xFF, and the
// server sends nothing more: the client must not wait for the other 97.
func TestRawInvalidUTF8MidFrame(t *testing.T) {
	runViolation(t, nil, 1007, frameSpec{Fin: true, Op: opText, HasLen: true, Len: 100, Payload: []byte("ok\xff")}.bytes())
}

func TestRawInvalidUTF8MidFrameAfterValidMultibyte(t *testing.T) {
	// "é" then a lead byte followed by ASCII: invalid at its fourth byte.
	runViolation(t, nil, 1007, frameSpec{Fin: true, Op: opText, HasLen: true, Len: 100, Payload: []byte("\xc3\xa9\xe2A")}.bytes())
}

func TestRawInvalidUTF8AcrossFragments(t *testing.T) {
	t.Run("sequence broken by the next fragment", func(t *testing.T) {
		runViolation(t, nil, 1007, frag(opText, false, "price \xe2\x82"), frag(opCont, true, "A"))
	})
	t.Run("invalid byte in a later fragment", func(t *testing.T) {
		runViolation(t, nil, 1007, frag(opText, false, "fine"), frag(opCont, false, " still fine"), frag(opCont, true, "\xff"))
	})
	t.Run("message ends inside a sequence", func(t *testing.T) {
		runViolation(t, nil, 1007, frag(opText, false, "dangling \xf0\x9f"), frag(opCont, true, ""))
	})
	t.Run("detected before the final fragment arrives", func(t *testing.T) {
		// The bad byte comes in a non-final fragment and nothing follows.
		runViolation(t, nil, 1007, frag(opText, false, "abc"), frag(opCont, false, "\xc3("))
	})
}

func TestRawCloseReasonInvalidUTF8(t *testing.T) {
	runViolation(t, nil, 1007, closeFrame(1000, "bad \xff reason"))
}

// MaxMessageSize 1024 and a header announcing 2000 bytes, with no payload:
// the client fails at the header.
func TestRawMessageTooBigAnnounced(t *testing.T) {
	cfg := &websocket.Config{MaxMessageSize: 1024}
	t.Run("16-bit length", func(t *testing.T) {
		runViolation(t, cfg, 1009, frameSpec{Fin: true, Op: opBinary, HasLen: true, Len: 2000}.bytes())
	})
	t.Run("64-bit length", func(t *testing.T) {
		runViolation(t, cfg, 1009, frameSpec{Fin: true, Op: opText, Enc: 64, HasLen: true, Len: 1 << 40}.bytes())
	})
}

func TestRawMessageTooBigFragmented(t *testing.T) {
	cfg := &websocket.Config{MaxMessageSize: 1024}
	part := strings.Repeat("z", 600)
	t.Run("second fragment", func(t *testing.T) {
		runViolation(t, cfg, 1009, frag(opText, false, part), frag(opCont, true, part))
	})
	t.Run("many small fragments", func(t *testing.T) {
		var writes [][]byte
		writes = append(writes, frag(opBinary, false, strings.Repeat("b", 100)))
		for range 9 {
			writes = append(writes, frag(opCont, false, strings.Repeat("b", 100)))
		}
		// 1000 bytes so far; 25 more is one too many.
		writes = append(writes, frag(opCont, true, strings.Repeat("b", 25)))
		runViolation(t, cfg, 1009, writes...)
	})
}

func TestRawMaxMessageSizeExactlyAccepted(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(binaryFrame(bytes.Repeat([]byte{1}, 1024)))
		c.write(frag(opText, false, strings.Repeat("t", 512)), frag(opCont, true, strings.Repeat("t", 512)))
		c.finish(1000, "")
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{MaxMessageSize: 1024})
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, "message OPEN binary len=1024", "message OPEN text len=1024", traceCleanNormal)
	checkOnlyClose(t, rep, 1000)
}

// Messages completed in the same read as the violation are delivered before
// the error.
func TestRawEventsBeforeViolationDelivered(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(textFrame("before"), pingFrame([]byte("pp")), frameSpec{Fin: true, Op: opText, Mask: true, Payload: []byte("masked")}.bytes(), textFrame("after"))
		c.readFrame() // the pong
		c.readClose()
		c.expectEOFWithin(2 * time.Second)
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{CloseTimeout: 5 * time.Second})
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, `message OPEN text "before"`, `ping OPEN "pp"`, "error CLOSED ProtocolError(1002)", traceAbnormal)
	if len(rep.Frames) != 2 || rep.Frames[0].Op != opPong || string(rep.Frames[0].Payload) != "pp" {
		t.Fatalf("client sent %v, want pong(\"pp\") then close(1002)", rep.Frames)
	}
	checkCloseFrame(t, rep.Frames[1], 1002)
}

// ---------------------------------------------------------------------------
// A server that stretches the rules without breaking them.

func TestRawFragmentedTextWithPingBetween(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		// Each pong is awaited before the next ping: two pings the client
		// reads together may be answered with one pong (RFC 6455 5.5.3).
		c.write(frag(opText, false, "Hel"))
		c.write(pingFrame([]byte("pp-1")))
		c.readFrame()
		c.write(frag(opCont, false, "lo, "))
		c.write(pingFrame(nil))
		c.readFrame()
		c.write(frag(opCont, true, "world"))
		c.finish(1000, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, `ping OPEN "pp-1"`, `ping OPEN ""`, `message OPEN text "Hello, world"`, traceCleanNormal)
	if len(rep.Frames) != 3 {
		t.Fatalf("client sent %v, want pong(pp-1), pong(), close(1000)", rep.Frames)
	}
	for i, want := range []string{"pp-1", ""} {
		if f := rep.Frames[i]; f.Op != opPong || !f.Fin || string(f.Payload) != want {
			t.Errorf("client frame %d is %v, want pong(%q)", i, f, want)
		}
	}
	checkCloseFrame(t, rep.Frames[2], 1000)
}

func TestRawCodePointSplitAcrossFragments(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		// "€" is E2 82 AC, "😀" is F0 9F 98 80: split at every byte.
		c.write(frag(opText, false, "price: \xe2"), frag(opCont, false, "\x82"), frag(opCont, false, "\xac \xf0"),
			frag(opCont, false, "\x9f"), frag(opCont, false, ""), frag(opCont, false, "\x98"), frag(opCont, true, "\x80!"))
		c.finish(1000, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, `message OPEN text "price: € 😀!"`, traceCleanNormal)
	checkOnlyClose(t, rep, 1000)
}

func TestRawMessageOneBytePerWrite(t *testing.T) {
	bin := make([]byte, 300)
	for i := range bin {
		bin[i] = byte(i)
	}
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.writeBytewise(textFrame("split into single bytes: é€"), binaryFrame(bin), pingFrame([]byte("p")),
			frag(opText, false, "frag"), frag(opCont, true, "mented"), closeFrame(1000, "byte by byte"))
		c.readFrame() // the pong
		c.readClose()
		c.closeTCP()
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, `message OPEN text "split into single bytes: é€"`, "message OPEN binary len=300",
		`ping OPEN "p"`, `message OPEN text "fragmented"`, `close CLOSED 1000 "byte by byte" clean=true`)
	if len(tc.Messages) == 3 && !bytes.Equal(tc.Messages[1].Data, bin) {
		t.Errorf("binary message corrupted")
	}
	if len(rep.Frames) != 2 || rep.Frames[0].Op != opPong || string(rep.Frames[0].Payload) != "p" {
		t.Fatalf("client sent %v, want pong(\"p\"), close(1000)", rep.Frames)
	}
	checkCloseFrame(t, rep.Frames[1], 1000)
}

func TestRawMessagesCoalesced(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(textFrame("one"), binaryFrame([]byte{1, 2, 3}), textFrame(""), binaryFrame(nil),
			frag(opText, false, "th"), frag(opCont, false, "r"), frag(opCont, true, "ee"), closeFrame(1000, "bye"))
		c.readClose()
		c.closeTCP()
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, `message OPEN text "one"`, `message OPEN binary "\x01\x02\x03"`, `message OPEN text ""`,
		`message OPEN binary ""`, `message OPEN text "three"`, `close CLOSED 1000 "bye" clean=true`)
	checkOnlyClose(t, rep, 1000)
}

// Frames written in the same Write as the 101 response are delivered after
// open.
func TestRawMessagesCoalescedWithHandshake(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.write(c.response101(), textFrame("first"), textFrame("second"), pingFrame([]byte("x")))
		c.readFrame() // the pong
		c.finish(1000, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, `message OPEN text "first"`, `message OPEN text "second"`, `ping OPEN "x"`, traceCleanNormal)
	if len(rep.Frames) != 2 || rep.Frames[0].Op != opPong || string(rep.Frames[0].Payload) != "x" {
		t.Fatalf("client sent %v, want pong(\"x\"), close(1000)", rep.Frames)
	}
	checkCloseFrame(t, rep.Frames[1], 1000)
}

func TestRawCloseCoalescedWithHandshake(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.write(c.response101(), textFrame("only"), closeFrame(1001, "going"))
		c.readClose()
		c.closeTCP()
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, `message OPEN text "only"`, `close CLOSED 1001 "going" clean=true`)
	checkOnlyClose(t, rep, 1001)
}

// A message larger than the handshake reader's buffer, coalesced with the
// 101 response: part of it is read with the response, the rest from the
// socket.
func TestRawLargeMessageCoalescedWithHandshake(t *testing.T) {
	big := make([]byte, 10000)
	for i := range big {
		big[i] = byte(i * 7)
	}
	srv := startRawServer(t, func(c *rawConn) {
		c.write(c.response101(), binaryFrame(big), textFrame("after"))
		c.finish(1000, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, "message OPEN binary len=10000", `message OPEN text "after"`, traceCleanNormal)
	if len(tc.Messages) > 0 && !bytes.Equal(tc.Messages[0].Data, big) {
		t.Errorf("large message corrupted")
	}
	checkOnlyClose(t, rep, 1000)
}

func TestRawViolationCoalescedWithHandshake(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.write(c.response101(), textFrame("ok"), frameSpec{Fin: true, Op: 0x3}.bytes())
		c.readClose()
		c.expectEOFWithin(2 * time.Second)
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{CloseTimeout: 5 * time.Second})
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, `message OPEN text "ok"`, "error CLOSED ProtocolError(1002)", traceAbnormal)
	checkOnlyClose(t, rep, 1002)
}

func TestRawUnsolicitedPong(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(pongFrame([]byte("heartbeat")))
		c.write(pongFrame(nil), textFrame("still here"))
		c.finish(1000, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, `pong OPEN "heartbeat"`, `pong OPEN ""`, `message OPEN text "still here"`, traceCleanNormal)
	checkOnlyClose(t, rep, 1000) // a pong is never answered
}

func TestRawPing125Echoed(t *testing.T) {
	payload := make([]byte, 125)
	for i := range payload {
		payload[i] = byte(255 - i)
	}
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(pingFrame(payload))
		c.readFrame()
		c.finish(1000, "")
	})
	var pinged []byte
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnPing = func(_ *websocket.WebSocket, p websocket.PingEvent) { pinged = p.Data }
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, "ping OPEN len=125", traceCleanNormal)
	if !bytes.Equal(pinged, payload) {
		t.Errorf("PingEvent.Data = %x, want %x", pinged, payload)
	}
	if len(rep.Frames) != 2 || rep.Frames[0].Op != opPong || !bytes.Equal(rep.Frames[0].Payload, payload) {
		t.Fatalf("client sent %v, want pong with the 125-byte payload, then close", rep.Frames)
	}
	checkCloseFrame(t, rep.Frames[1], 1000)
}

func TestRawServerClose4000(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(closeFrame(4000, "bye"))
		c.readClose()
		c.closeTCP()
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, `close CLOSED 4000 "bye" clean=true`)
	checkOnlyClose(t, rep, 4000)
}

func TestRawServerCloseEmpty(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(closeRawFrame(nil))
		c.readClose()
		c.closeTCP()
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, `close CLOSED 1005 "" clean=true`)
	checkOnlyClose(t, rep, -1)
}

func TestRawServerCloseReasonMaxLength(t *testing.T) {
	reason := strings.Repeat("é", 61) + "x" // 123 bytes
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(closeFrame(3333, reason))
		c.readClose()
		c.closeTCP()
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, fmt.Sprintf("close CLOSED 3333 %q clean=true", reason))
	checkOnlyClose(t, rep, 3333)
}

// Data after the server's close frame is not delivered: it fails the
// connection, as in Chromium (error, close 1006), and nothing follows the
// close echo on the wire, not even a pong.
func TestRawDataAfterServerCloseFails(t *testing.T) {
	for _, later := range []bool{false, true} {
		srv := startRawServer(t, func(c *rawConn) {
			c.accept()
			if later {
				c.write(closeFrame(1000, ""))
				c.readClose()
				c.write(textFrame("ghost"), pingFrame([]byte("ghost-ping")))
			} else {
				c.write(closeFrame(1000, ""), textFrame("ghost"), pingFrame([]byte("ghost-ping")))
			}
			c.drainUntilEOF()
		})
		tc := newTraceClient(t, srv.URL, nil)
		tc.run()
		rep := srv.report(t)
		tc.expectTrace(traceOpen, "error CLOSED ProtocolError(1002)", traceAbnormal)
		checkOnlyClose(t, rep, 1000)
	}
}

// A fragmented message cut short by the server's close frame is not
// delivered.
func TestRawCloseInsideFragmentedMessage(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(frag(opText, false, "never "), closeFrame(1000, ""))
		c.readClose()
		c.closeTCP()
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, traceCleanNormal)
	checkOnlyClose(t, rep, 1000)
}

func TestRawValidCloseCodesEchoed(t *testing.T) {
	codes := []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999}
	for _, code := range codes {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			srv := startRawServer(t, func(c *rawConn) {
				c.accept()
				c.write(closeFrame(code, "r"))
				c.readClose()
				c.closeTCP()
			})
			tc := newTraceClient(t, srv.URL, nil)
			tc.run()
			rep := srv.report(t)
			tc.expectTrace(traceOpen, fmt.Sprintf(`close CLOSED %d "r" clean=true`, code))
			checkOnlyClose(t, rep, int(code))
		})
	}
}

// MessageEvent.Data and PingEvent.Data belong to the receiver: kept after
// the handler returns, they are not overwritten by later reads, and a
// handler scribbling on them changes nothing else.
// pingPayload is a distinct payload per message index.
func pingPayload(i int) []byte { return []byte("ping-" + strconv.Itoa(i)) }

func TestRawEventDataOwnedByReceiver(t *testing.T) {
	const n = 200
	msg := func(i int) []byte { return bytes.Repeat([]byte{byte('A' + i%26)}, 500+i) }
	var wire []byte
	for i := range n {
		if i%2 == 0 {
			wire = append(wire, binaryFrame(msg(i))...)
		} else {
			half := msg(i)[:100]
			wire = append(wire, frameSpec{Op: opText, Payload: half}.bytes()...)
			wire = append(wire, pingFrame(pingPayload(i))...)
			wire = append(wire, frameSpec{Fin: true, Op: opCont, Payload: msg(i)[100:]}.bytes()...)
		}
	}
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		// Odd-sized writes, so frames straddle reads everywhere.
		for len(wire) > 0 {
			k := min(len(wire), 777)
			c.write(wire[:k])
			wire = wire[k:]
		}
		// Pings read together may be answered by one pong for the latest
		// (RFC 6455 5.5.3): read pongs until the last ping's.
		last := pingPayload(n - 1)
		for {
			if f := c.readFrame(); f.Op != opPong || bytes.Equal(f.Payload, last) {
				break
			}
		}
		c.finish(1000, "")
	})
	var pings [][]byte
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnMessage = func(_ *websocket.WebSocket, m websocket.MessageEvent) {
		if m.Binary {
			for i := range m.Data {
				m.Data[i] = '#' // the receiver may modify its own copy
			}
		}
	}
	tc.OnPing = func(_ *websocket.WebSocket, p websocket.PingEvent) { pings = append(pings, p.Data) }
	tc.run()
	rep := srv.report(t)
	if len(tc.Messages) != n {
		t.Fatalf("%d messages, want %d", len(tc.Messages), n)
	}
	for i, m := range tc.Messages {
		want := msg(i)
		if i%2 == 0 {
			want = bytes.Repeat([]byte{'#'}, len(want))
		}
		if !bytes.Equal(m.Data, want) || m.Binary != (i%2 == 0) {
			t.Fatalf("message %d changed after delivery: %d bytes starting %q", i, len(m.Data), m.Data[:min(len(m.Data), 8)])
		}
	}
	for j, p := range pings {
		if !bytes.Equal(p, pingPayload(2*j+1)) {
			t.Fatalf("ping %d changed after delivery: %q", j, p)
		}
	}
	// Every frame before the close answers a ping, in order, the last one
	// the last ping.
	if len(rep.Frames) < 2 {
		t.Fatalf("client sent %d frames, want pongs and a close", len(rep.Frames))
	}
	j := 0
	for i, f := range rep.Frames[:len(rep.Frames)-1] {
		for j < n/2 && !bytes.Equal(f.Payload, pingPayload(2*j+1)) {
			j++
		}
		if f.Op != opPong || j == n/2 {
			t.Fatalf("client frame %d = %v answers no later ping", i, f)
		}
		j++
	}
	if j != n/2 {
		t.Fatalf("the last pong answers ping %d of %d", j-1, n/2)
	}
}

// Two sockets on one loop: one server breaks the protocol, the other socket
// goes on undisturbed.
func TestRawTwoSocketsOneLoopIsolated(t *testing.T) {
	badDone := make(chan struct{})
	script := func(c *rawConn) {
		c.accept()
		if c.req.URL.Path == "/bad" {
			c.write(frameSpec{Fin: true, Op: opText, Mask: true, Payload: []byte("x")}.bytes())
			c.readClose()
			c.expectEOFWithin(2 * time.Second)
			close(badDone)
			return
		}
		select {
		case <-badDone:
		case <-time.After(rawFailBound):
			c.fail("the bad socket did not fail")
		}
		c.write(textFrame("still alive"))
		c.finish(1000, "")
	}
	srv := startRawServer(t, script, script)
	loop := websocket.NewEventLoop()
	bad := newTraceClient(t, srv.URL+"bad", &websocket.Config{Loop: loop})
	good := newTraceClient(t, srv.URL+"good", &websocket.Config{Loop: loop})
	bad.run() // runs the shared loop until both sockets are gone
	srv.report(t)
	srv.report(t)
	bad.expectTrace(failTrace(1002)...)
	good.expectTrace(traceOpen, `message OPEN text "still alive"`, traceCleanNormal)
}
