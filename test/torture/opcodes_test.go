package torture_test

import (
	"fmt"
	"testing"

	websocket "github.com/wsloop/websocket"
)

// reservedOpcodes are the opcodes RFC 6455 leaves undefined: 0x3-0x7
// (data) and 0xB-0xF (control).
var reservedOpcodes = []byte{0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf}

// fragmentStates are where a frame can come: between messages or inside a
// fragmented one (of either type, after a continuation or a control frame
// or not), with its FIN bit set or clear.
var fragmentStates = []struct {
	name   string
	before []byte // what the server sends first
	fin    bool
}{
	{"Idle/FIN", nil, true},
	{"Idle/NoFIN", nil, false},
	{"AfterMessage/FIN", frame(true, opText, []byte("done")), true},
	{"InsideText/FIN", frame(false, opText, []byte("start")), true},
	{"InsideText/NoFIN", frame(false, opText, []byte("start")), false},
	{"InsideBinary/FIN", frame(false, opBinary, []byte{1}), true},
	{"InsideBinary/NoFIN", frame(false, opBinary, []byte{1}), false},
	{"AfterContinuation/FIN", cat(frame(false, opText, []byte("a")), frame(false, opCont, []byte("b"))), true},
	{"AfterContinuation/NoFIN", cat(frame(false, opText, []byte("a")), frame(false, opCont, []byte("b"))), false},
	{"AfterPingInsideMessage/NoFIN", cat(frame(false, opText, []byte("a")), frame(true, opPing, nil)), false},
}

// Every reserved opcode in every fragment state, empty or with a payload:
// 1002 at its header, the events open, error, close 1006 (plus the message
// that came complete before it).
func TestReservedOpcodes(t *testing.T) {
	for _, op := range reservedOpcodes {
		for _, st := range fragmentStates {
			for _, p := range [][]byte{nil, []byte("payload")} {
				t.Run(fmt.Sprintf("op%#x/%s/%dB", op, st.name, len(p)), func(t *testing.T) {
					input := cat(st.before, frame(st.fin, op, p))
					srv := serve(t, func(c *rawConn) {
						c.write(input)
						for {
							f := c.mustFrame()
							if f.op == opPong {
								continue
							}
							if f.op != opClose || f.closeCode() != websocket.CloseProtocolError {
								c.fatalf("client sent %v; want close(1002)", f)
							}
							break
						}
						c.expectEOF()
					})
					cl := newClient(t, srv.URL, nil)
					cl.quietPings = true
					cl.run()
					srv.wait(t)
					want := []string{traceOpen}
					if st.name == "AfterMessage/FIN" {
						want = append(want, `message OPEN text "done"`)
					}
					cl.wantTrace(append(want, failed(websocket.CloseProtocolError)...)...)
					cl.wantProtocolError(websocket.CloseProtocolError)
					cl.wantHeap(2*MiB, retainBound)
				})
			}
		}
	}
}

// RSV bits, with no extension negotiated, on every kind of frame where it
// is otherwise valid: 1002.
func TestRSVBits(t *testing.T) {
	started := frame(false, opText, []byte("start"))
	for _, rsv := range []byte{0x40, 0x20, 0x10, 0x70} {
		for _, tc := range []struct {
			name   string
			before []byte
			frame  []byte
		}{
			{"Text", nil, textFrame("x")},
			{"Binary", nil, frame(true, opBinary, []byte{1})},
			{"FirstFragment", nil, frame(false, opText, []byte("x"))},
			{"Continuation", started, frame(false, opCont, []byte("x"))},
			{"FinalContinuation", started, frame(true, opCont, []byte("x"))},
			{"Ping", nil, frame(true, opPing, nil)},
			{"PingInsideMessage", started, frame(true, opPing, nil)},
			{"Pong", nil, frame(true, opPong, nil)},
			{"Close", nil, closeFrame(1000, "")},
		} {
			t.Run(fmt.Sprintf("%#x/%s", rsv, tc.name), func(t *testing.T) {
				f := append([]byte(nil), tc.frame...)
				f[0] |= rsv
				violation(t, nil, websocket.CloseProtocolError, 2*MiB, tc.before, f)
			})
		}
	}
}
