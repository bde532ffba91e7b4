package interop_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	websocket "github.com/wsloop/websocket"
)

// scenario is one check, run with one API against a peer. url is a server
// the peer started with no subprotocols, shared by the scenarios that need
// nothing else.
type scenario struct {
	name string
	run  func(t *testing.T, p peer, url string)
}

// scenarios is every check, each with the event loop and the blocking API.
var scenarios = []scenario{
	{"Echo/TextAndBinary/Loop", echoLoop(typedMessages)},
	{"Echo/TextAndBinary/Blocking", echoBlocking(typedMessages)},
	{"Echo/Empty/Loop", echoLoop(emptyMessages)},
	{"Echo/Empty/Blocking", echoBlocking(emptyMessages)},
	{"Echo/UTF8/Loop", echoLoop(utf8Messages)},
	{"Echo/UTF8/Blocking", echoBlocking(utf8Messages)},
	{"Echo/Binary16MiB/Loop", echoLoop(largeBinary)},
	{"Echo/Binary16MiB/Blocking", echoBlocking(largeBinary)},
	{"Echo/Text1MiB/Loop", echoLoop(largeText)},
	{"Echo/Text1MiB/Blocking", echoBlocking(largeText)},
	{"Echo/10000x32B/Loop", echoLoop(manySmall)},
	{"Echo/10000x32B/Blocking", echoBlocking(manySmall)},

	{"Echo/Fan64x20/Loop", echoFanLoop},

	{"Echo/ReleaseSomeKeepOthers/Loop", echoRecycledLoop},
	{"Echo/ReleaseSomeKeepOthers/Blocking", echoRecycledBlocking},
	{"Echo/FromAnotherGoroutine/Loop", echoFromGoroutineLoop},

	{"Ping/Client/Loop", clientPingLoop},
	{"Ping/Client/Blocking", clientPingBlocking},
	{"Ping/Server/Loop", serverPingLoop},
	{"Ping/Server/Blocking", serverPingBlocking},

	{"Close/ClientWithCode/Loop", clientCloseLoop(4001, "bye")},
	{"Close/ClientWithCode/Blocking", clientCloseBlocking(4001, "bye")},
	{"Close/ClientNoCode/Loop", clientCloseLoop(0, "")},
	{"Close/ClientNoCode/Blocking", clientCloseBlocking(0, "")},
	{"Close/FromAnotherGoroutine/DuringReceive/Blocking", closeDuringReceiveBlocking},
	{"Close/FromAnotherGoroutine/BeforeReceive/Blocking", closeBeforeReceiveBlocking},
	{"Close/Server/Loop", serverCloseLoop},
	{"Close/Server/Blocking", serverCloseBlocking},

	// These start servers of their own, with subprotocols.
	{"Protocol/Selected/Loop", protocolLoop([]string{"b", "c"}, []string{"a", "c", "b"}, "c")},
	{"Protocol/Selected/Blocking", protocolBlocking([]string{"b", "c"}, []string{"a", "c", "b"}, "c")},
	{"Protocol/NoneOffered/Loop", protocolLoop([]string{"b", "c"}, nil, "")},
	{"Protocol/NoneOffered/Blocking", protocolBlocking([]string{"b", "c"}, nil, "")},
	// A server selecting none of the protocols offered fails the
	// connection, as in a browser (the WHATWG standard, stricter than
	// RFC 6455).
	{"Protocol/NoneMatch/Loop", protocolRefusedLoop([]string{"d"}, []string{"a", "c", "b"})},
	{"Protocol/NoneMatch/Blocking", protocolRefusedBlocking([]string{"d"}, []string{"a", "c", "b"})},
	{"Protocol/ServerHasNone/Loop", protocolRefusedLoop(nil, []string{"a", "c", "b"})},
	{"Protocol/ServerHasNone/Blocking", protocolRefusedBlocking(nil, []string{"a", "c", "b"})},
}

// runScenarios runs every scenario against p, in parallel: each has a
// connection of its own.
func runScenarios(t *testing.T, p peer) {
	url := p.start(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, p, url)
		})
	}
}

// Message sets for the echo scenarios.

func typedMessages() []msg {
	return []msg{
		text("hello"),
		binary([]byte{0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff}),
		// The same bytes as both types: the type must survive the echo.
		binary([]byte("hello")),
		text("\x00 NUL is valid UTF-8"),
		// Near a command, but not one.
		text("!pingx"),
	}
}

func emptyMessages() []msg {
	return []msg{
		text(""),
		binary([]byte{}),
		binary(nil),
		text("between"),
		text(""),
	}
}

func utf8Messages() []msg {
	// Two-, three- and four-byte sequences, and a combining mark.
	const s = "héllo wörld · Ελληνικά · 日本語 · 🎉𝄞 · e\u0301"
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) == len(s) {
		panic("utf8Messages: not a multi-byte UTF-8 string")
	}
	return []msg{text(s), text("ü"), text("€"), text("😀")}
}

// largeBinary is 16 MiB of pseudo-random bytes: every byte value, no
// pattern a framing bug could hide in.
func largeBinary() []msg {
	p := make([]byte, 16<<20)
	rand.NewChaCha8([32]byte{'w', 's'}).Read(p)
	return []msg{binary(p)}
}

// largeText is 1 MiB exactly of UTF-8 mixing one- to four-byte characters.
func largeText() []msg {
	const size = 1 << 20
	const unit = "aé日🎉" // 1+2+3+4 bytes
	var b strings.Builder
	b.Grow(size)
	for b.Len()+len(unit) <= size {
		b.WriteString(unit)
	}
	b.WriteString(strings.Repeat("z", size-b.Len()))
	return []msg{text(b.String())}
}

// manySmall is 10 000 messages of 32 bytes, every third one binary, each
// numbered so that a reordering or a loss shows.
func manySmall() []msg {
	msgs := make([]msg, 10000)
	for i := range msgs {
		p := fmt.Appendf(nil, "message %05d/10000 %-12s", i, strings.Repeat("#", i%13))
		if len(p) != 32 {
			panic(fmt.Sprintf("manySmall: message %d is %d bytes", i, len(p)))
		}
		msgs[i] = msg{binary: i%3 == 2, data: p}
	}
	return msgs
}

// echoLoop sends every message back to back from OnOpen and expects each
// echoed, in order, with its type. When the last echo arrives, the server
// has received every byte, so BufferedAmount must be 0 then. The client
// then closes with 1000.
func echoLoop(messages func() []msg) func(*testing.T, peer, string) {
	return func(t *testing.T, _ peer, url string) {
		msgs := messages()
		total := 0
		for _, m := range msgs {
			total += len(m.data)
		}
		s := newLoopSocket(t, url, websocket.Config{})
		next := 0
		s.ws.OnOpen = func(websocket.OpenEvent) {
			for i, m := range msgs {
				if err := send(s.ws, m); err != nil {
					s.fail("sending message %d (%v): %v", i, m, err)
					return
				}
			}
			// Whatever the kernel did not take yet is counted; never more
			// than was sent.
			n := s.ws.BufferedAmount()
			if n < 0 || n > total {
				s.fail("BufferedAmount after sending %d bytes = %d", total, n)
				return
			}
			t.Logf("BufferedAmount after sending %d bytes: %d", total, n)
		}
		s.ws.OnMessage = func(e websocket.MessageEvent) {
			switch {
			case next >= len(msgs):
				s.fail("message %d echoed, of %d sent: %v", next, len(msgs), describe(e))
				return
			case !sameMessage(e, msgs[next]):
				s.fail("message %d echoed as %v; want %v", next, describe(e), msgs[next])
				return
			case e.Target != s.ws:
				s.fail("message %d: Target is not the socket", next)
				return
			}
			next++
			if next < len(msgs) {
				return
			}
			if n := s.ws.BufferedAmount(); n != 0 {
				s.fail("BufferedAmount when the last echo arrived = %d; want 0", n)
				return
			}
			if err := s.ws.CloseWith(websocket.CloseNormal, ""); err != nil {
				s.fail("CloseWith(1000): %v", err)
			}
		}
		s.run()
		if next != len(msgs) {
			t.Errorf("%d messages echoed; want %d", next, len(msgs))
		}
		s.wantClose(websocket.CloseEvent{Code: websocket.CloseNormal, WasClean: true})
	}
}

// echoBlocking sends every message, then takes the echoes with
// WaitForNextMessage, which writes what the kernel did not take at once
// while it waits.
func echoBlocking(messages func() []msg) func(*testing.T, peer, string) {
	return func(t *testing.T, _ peer, url string) {
		msgs := messages()
		ws, ctx := dial(t, url, nil)
		for i, m := range msgs {
			if err := send(ws, m); err != nil {
				t.Fatalf("sending message %d (%v): %v", i, m, err)
			}
		}
		for i, want := range msgs {
			got, err := ws.WaitForNextMessage(ctx)
			if err != nil {
				// BufferedAmount tells a stalled write from a stalled read.
				t.Fatalf("WaitForNextMessage for message %d of %d: %v (readyState %v, BufferedAmount %d)",
					i, len(msgs), err, ws.ReadyState(), ws.BufferedAmount())
			}
			if !sameMessage(got, want) {
				t.Fatalf("message %d echoed as %v; want %v", i, describe(got), want)
			}
			if got.Target != ws {
				t.Fatalf("message %d: Target is not the socket", i)
			}
		}
		if n := ws.BufferedAmount(); n != 0 {
			t.Errorf("BufferedAmount after the last echo = %d; want 0", n)
		}
		if ws.IsMessageBuffered() || ws.IsDataPending() {
			t.Errorf("IsMessageBuffered %t, IsDataPending %t after every echo; want false",
				ws.IsMessageBuffered(), ws.IsDataPending())
		}
		if err := ws.CloseWith(websocket.CloseNormal, ""); err != nil {
			t.Fatalf("CloseWith(1000): %v", err)
		}
		wantClosedError(t, ws, ctx, websocket.CloseEvent{Code: websocket.CloseNormal, WasClean: true})
	}
}

// recycledMessages is 3000 binary messages of 64 to 4 099 bytes, sizes
// that MessageEvent.Release recycles, each filled with a pattern of its
// own so that a buffer handed out twice shows.
func recycledMessages() []msg {
	msgs := make([]msg, 3000)
	for i := range msgs {
		p := make([]byte, 64+(i*37)%4036)
		for j := range p {
			p[j] = byte(i*131 + j*7)
		}
		msgs[i] = msg{binary: true, data: p}
	}
	return msgs
}

// checkKept checks, after the last echo, that every message the test kept
// still holds what it held on arrival: Release of the others never handed
// a kept buffer to a later message.
func checkKept(t *testing.T, kept map[int][]byte, msgs []msg) {
	t.Helper()
	if len(kept) == 0 {
		t.Fatal("no message kept")
	}
	for i, data := range kept {
		if !bytes.Equal(data, msgs[i].data) {
			t.Fatalf("kept message %d was overwritten after other messages were released", i)
		}
	}
}

// echoRecycledLoop releases two echoes in three and keeps the third;
// every echo must arrive intact, and every kept one stay so.
func echoRecycledLoop(t *testing.T, _ peer, url string) {
	msgs := recycledMessages()
	kept := map[int][]byte{}
	s := newLoopSocket(t, url, websocket.Config{})
	next := 0
	s.ws.OnOpen = func(websocket.OpenEvent) {
		for i, m := range msgs {
			if err := send(s.ws, m); err != nil {
				s.fail("sending message %d: %v", i, err)
				return
			}
		}
	}
	s.ws.OnMessage = func(e websocket.MessageEvent) {
		if next >= len(msgs) || !sameMessage(e, msgs[next]) {
			s.fail("message %d echoed as %v", next, describe(e))
			return
		}
		if next%3 == 0 {
			kept[next] = e.Data
		} else {
			e.Release()
		}
		if next++; next == len(msgs) {
			s.ws.CloseWith(websocket.CloseNormal, "")
		}
	}
	s.run()
	if next != len(msgs) {
		t.Fatalf("%d messages echoed; want %d", next, len(msgs))
	}
	checkKept(t, kept, msgs)
	s.wantClose(websocket.CloseEvent{Code: websocket.CloseNormal, WasClean: true})
}

// echoRecycledBlocking is echoRecycledLoop with WaitForNextMessage.
func echoRecycledBlocking(t *testing.T, _ peer, url string) {
	msgs := recycledMessages()
	kept := map[int][]byte{}
	ws, ctx := dial(t, url, nil)
	for i, m := range msgs {
		if err := send(ws, m); err != nil {
			t.Fatalf("sending message %d: %v", i, err)
		}
	}
	for i, want := range msgs {
		got, err := ws.WaitForNextMessage(ctx)
		if err != nil {
			t.Fatalf("WaitForNextMessage for message %d: %v", i, err)
		}
		if !sameMessage(got, want) {
			t.Fatalf("message %d echoed as %v", i, describe(got))
		}
		if i%3 == 0 {
			kept[i] = got.Data
		} else {
			got.Release()
		}
	}
	checkKept(t, kept, msgs)
	if err := ws.CloseWith(websocket.CloseNormal, ""); err != nil {
		t.Fatalf("CloseWith(1000): %v", err)
	}
	wantClosedError(t, ws, ctx, websocket.CloseEvent{Code: websocket.CloseNormal, WasClean: true})
}

// echoFromGoroutineLoop: Send and SendText are safe from any goroutine; a
// goroutine started by OnOpen sends while the loop runs, and every message
// is echoed in order.
func echoFromGoroutineLoop(t *testing.T, _ peer, url string) {
	msgs := manySmall()[:1000]
	s := newLoopSocket(t, url, websocket.Config{})
	sent := make(chan error, 1)
	next := 0
	s.ws.OnOpen = func(websocket.OpenEvent) {
		go func() {
			for i, m := range msgs {
				if err := send(s.ws, m); err != nil {
					sent <- fmt.Errorf("sending message %d: %w", i, err)
					return
				}
			}
			sent <- nil
		}()
	}
	s.ws.OnMessage = func(e websocket.MessageEvent) {
		if next >= len(msgs) || !sameMessage(e, msgs[next]) {
			s.fail("message %d echoed as %v", next, describe(e))
			return
		}
		next++
		if next == len(msgs) {
			s.ws.CloseWith(websocket.CloseNormal, "")
		}
	}
	s.run()
	if err := <-sent; err != nil {
		t.Error(err)
	}
	if next != len(msgs) {
		t.Errorf("%d messages echoed; want %d", next, len(msgs))
	}
	s.wantClose(websocket.CloseEvent{Code: websocket.CloseNormal, WasClean: true})
}

// pingPayloads are the client's pings: empty, text, and the largest a
// control frame carries, with every byte value below 125.
func pingPayloads() [][]byte {
	full := make([]byte, 125)
	for i := range full {
		full[i] = byte(i)
	}
	return [][]byte{{}, []byte("client ping"), full}
}

// clientPingLoop: each ws.Ping fires OnPong with the same payload, in
// order; pongs are not messages.
func clientPingLoop(t *testing.T, _ peer, url string) {
	payloads := pingPayloads()
	s := newLoopSocket(t, url, websocket.Config{})
	pongs := 0
	s.ws.OnOpen = func(websocket.OpenEvent) {
		if err := s.ws.Ping(make([]byte, 126)); !errors.Is(err, websocket.ErrPayloadTooLong) {
			s.fail("Ping with 126 bytes: %v; want ErrPayloadTooLong", err)
			return
		}
		for _, p := range payloads {
			if err := s.ws.Ping(p); err != nil {
				s.fail("Ping(%q): %v", p, err)
				return
			}
		}
	}
	s.ws.OnPong = func(e websocket.PongEvent) {
		switch {
		case pongs >= len(payloads):
			s.fail("pong %d, of %d pings: %q", pongs, len(payloads), e.Data)
			return
		case string(e.Data) != string(payloads[pongs]):
			s.fail("pong %d carries %q; want %q", pongs, e.Data, payloads[pongs])
			return
		case e.Target != s.ws:
			s.fail("pong %d: Target is not the socket", pongs)
			return
		}
		pongs++
		if pongs == len(payloads) {
			s.ws.CloseWith(websocket.CloseNormal, "")
		}
	}
	s.ws.OnMessage = func(e websocket.MessageEvent) {
		s.fail("message event %v; only pongs were expected", describe(e))
	}
	s.run()
	if pongs != len(payloads) {
		t.Errorf("%d pongs; want %d", pongs, len(payloads))
	}
	s.wantClose(websocket.CloseEvent{Code: websocket.CloseNormal, WasClean: true})
}

// clientPingBlocking: LowLevelReceive returns the pongs; WaitForNextMessage
// skips a pong that comes before a message.
func clientPingBlocking(t *testing.T, _ peer, url string) {
	ws, ctx := dial(t, url, nil)
	payloads := pingPayloads()
	for _, p := range payloads {
		if err := ws.Ping(p); err != nil {
			t.Fatalf("Ping(%q): %v", p, err)
		}
	}
	for i, want := range payloads {
		e, err := ws.LowLevelReceive(ctx)
		if err != nil {
			t.Fatalf("LowLevelReceive for pong %d: %v", i, err)
		}
		pong, ok := e.(websocket.PongEvent)
		if !ok || string(pong.Data) != string(want) || pong.Target != ws {
			t.Fatalf("received %T %+v; want the pong %q of the socket", e, e, want)
		}
	}
	// The server answers the ping before it reads the message after it.
	if err := ws.Ping([]byte("skipped")); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := ws.SendText("after the ping"); err != nil {
		t.Fatalf("SendText: %v", err)
	}
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil || !sameMessage(m, text("after the ping")) {
		t.Fatalf("WaitForNextMessage: %v, %v; want %v", describe(m), err, text("after the ping"))
	}
	if ws.IsDataPending() {
		t.Errorf("IsDataPending after the pong was skipped; want false")
	}
	if err := ws.CloseWith(websocket.CloseNormal, ""); err != nil {
		t.Fatalf("CloseWith(1000): %v", err)
	}
	wantClosedError(t, ws, ctx, websocket.CloseEvent{Code: websocket.CloseNormal, WasClean: true})
}

// serverPingMessage is what shows that the client answered the server's
// ping "!ping PAYLOAD": a peer that reports pongs says "pong:PAYLOAD";
// otherwise the client sends marker once it saw the ping and gets its echo.
func serverPingMessage(p peer, payload, marker string) msg {
	if p.reportsPong {
		return text("pong:" + payload)
	}
	return text(marker)
}

// serverPingLoop: "!ping hello" fires OnPing with "hello" while Open, and
// the client's automatic pong reaches the server.
func serverPingLoop(t *testing.T, p peer, url string) {
	const marker = "after the ping"
	want := serverPingMessage(p, "hello", marker)
	s := newLoopSocket(t, url, websocket.Config{})
	pings, messages := 0, 0
	s.ws.OnOpen = func(websocket.OpenEvent) {
		if err := s.ws.SendText("!ping hello"); err != nil {
			s.fail("SendText: %v", err)
		}
	}
	s.ws.OnPing = func(e websocket.PingEvent) {
		pings++
		switch {
		case pings != 1:
			s.fail("ping %d: %q; want one", pings, e.Data)
			return
		case string(e.Data) != "hello" || e.Target != s.ws:
			s.fail("ping carries %q (own target %t); want %q", e.Data, e.Target == s.ws, "hello")
			return
		case s.ws.ReadyState() != websocket.Open:
			s.fail("readyState in OnPing = %v; want OPEN", s.ws.ReadyState())
			return
		}
		if !p.reportsPong {
			if err := s.ws.SendText(marker); err != nil {
				s.fail("SendText: %v", err)
			}
		}
	}
	s.ws.OnMessage = func(e websocket.MessageEvent) {
		messages++
		switch {
		case pings != 1:
			s.fail("message %v before the ping", describe(e))
			return
		case messages != 1 || !sameMessage(e, want):
			s.fail("message %d: %v; want only %v", messages, describe(e), want)
			return
		}
		s.ws.CloseWith(websocket.CloseNormal, "")
	}
	s.run()
	if pings != 1 || messages != 1 {
		t.Errorf("%d pings and %d messages; want 1 and 1 (%v)", pings, messages, want)
	}
	s.wantClose(websocket.CloseEvent{Code: websocket.CloseNormal, WasClean: true})
}

// serverPingBlocking: LowLevelReceive returns the ping, then the message
// that shows the pong arrived; WaitForNextMessage skips a ping.
func serverPingBlocking(t *testing.T, p peer, url string) {
	ws, ctx := dial(t, url, nil)

	const marker = "after the ping"
	if err := ws.SendText("!ping hello"); err != nil {
		t.Fatalf("SendText: %v", err)
	}
	e, err := ws.LowLevelReceive(ctx)
	if err != nil {
		t.Fatalf("LowLevelReceive for the ping: %v", err)
	}
	if ping, ok := e.(websocket.PingEvent); !ok || string(ping.Data) != "hello" || ping.Target != ws {
		t.Fatalf("received %T %+v; want the ping %q of the socket", e, e, "hello")
	}
	if !p.reportsPong {
		if err := ws.SendText(marker); err != nil {
			t.Fatalf("SendText: %v", err)
		}
	}
	want := serverPingMessage(p, "hello", marker)
	e, err = ws.LowLevelReceive(ctx)
	if err != nil {
		t.Fatalf("LowLevelReceive for %v: %v", want, err)
	}
	if m, ok := e.(websocket.MessageEvent); !ok || !sameMessage(m, want) {
		t.Fatalf("received %T %+v; want the message %v", e, e, want)
	}

	// WaitForNextMessage passes over the ping.
	if err := ws.SendText("!ping again"); err != nil {
		t.Fatalf("SendText: %v", err)
	}
	if !p.reportsPong {
		// The ping is on the wire before the echo of a later message.
		if err := ws.SendText(marker); err != nil {
			t.Fatalf("SendText: %v", err)
		}
	}
	want = serverPingMessage(p, "again", marker)
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil || !sameMessage(m, want) {
		t.Fatalf("WaitForNextMessage: %v, %v; want %v", describe(m), err, want)
	}
	if err := ws.CloseWith(websocket.CloseNormal, ""); err != nil {
		t.Fatalf("CloseWith(1000): %v", err)
	}
	wantClosedError(t, ws, ctx, websocket.CloseEvent{Code: websocket.CloseNormal, WasClean: true})
}

// clientCloseWant is the close event after the client closed with code
// (0: Close, with no code) and reason: the server's answer echoes the code,
// and the reason when the peer does so; an empty close frame is echoed
// empty, which the client reports as 1005.
func clientCloseWant(p peer, code int, reason string) websocket.CloseEvent {
	if code == 0 {
		return websocket.CloseEvent{Code: websocket.CloseNoStatus, WasClean: true}
	}
	if !p.closeEchoesReason {
		reason = ""
	}
	return websocket.CloseEvent{Code: code, Reason: reason, WasClean: true}
}

func clientClose(ws *websocket.WebSocket, code int, reason string) error {
	if code == 0 {
		return ws.Close()
	}
	return ws.CloseWith(code, reason)
}

// clientCloseLoop: once a message is echoed, the client closes; it is then
// CLOSING, sending is refused and counted in BufferedAmount, and the close
// event is clean with the server's echo of the code.
func clientCloseLoop(code int, reason string) func(*testing.T, peer, string) {
	return func(t *testing.T, p peer, url string) {
		s := newLoopSocket(t, url, websocket.Config{})
		messages := 0
		s.ws.OnOpen = func(websocket.OpenEvent) {
			if err := s.ws.SendText("before the close"); err != nil {
				s.fail("SendText: %v", err)
			}
		}
		s.ws.OnMessage = func(e websocket.MessageEvent) {
			messages++
			if messages != 1 || !sameMessage(e, text("before the close")) {
				s.fail("message %d: %v; want only the echo of %q", messages, describe(e), "before the close")
				return
			}
			if err := clientClose(s.ws, code, reason); err != nil {
				s.fail("closing with %d %q: %v", code, reason, err)
				return
			}
			if got := s.ws.ReadyState(); got != websocket.Closing {
				s.fail("readyState right after the close call = %v; want CLOSING", got)
				return
			}
			if n := s.ws.BufferedAmount(); n != 0 {
				s.fail("BufferedAmount after the close call = %d; want 0", n)
				return
			}
			// As the standard says: dropped, yet counted.
			if err := s.ws.SendText("dropped"); !errors.Is(err, websocket.ErrClosed) {
				s.fail("SendText while CLOSING: %v; want ErrClosed", err)
				return
			}
			if err := s.ws.Send([]byte{1, 2, 3}); !errors.Is(err, websocket.ErrClosed) {
				s.fail("Send while CLOSING: %v; want ErrClosed", err)
				return
			}
			if n := s.ws.BufferedAmount(); n != len("dropped")+3 {
				s.fail("BufferedAmount after dropping 10 bytes = %d; want 10", n)
				return
			}
			if err := s.ws.Ping(nil); !errors.Is(err, websocket.ErrClosed) {
				s.fail("Ping while CLOSING: %v; want ErrClosed", err)
				return
			}
			// A second close call does nothing.
			if err := s.ws.CloseWith(4999, "again"); err != nil {
				s.fail("second CloseWith: %v; want nil", err)
			}
		}
		s.run()
		if messages != 1 {
			t.Errorf("%d messages; want 1", messages)
		}
		s.wantClose(clientCloseWant(p, code, reason))
	}
}

// clientCloseBlocking: on a dialed socket the close call runs the closing
// handshake and returns once the socket is CLOSED, the close event fired
// during the call; receive calls then return the ClosedError.
func clientCloseBlocking(code int, reason string) func(*testing.T, peer, string) {
	return func(t *testing.T, p peer, url string) {
		ws, ctx := dial(t, url, nil)
		var closes []websocket.CloseEvent
		ws.OnClose = func(e websocket.CloseEvent) { closes = append(closes, e) }
		if err := ws.SendText("before the close"); err != nil {
			t.Fatalf("SendText: %v", err)
		}
		m, err := ws.WaitForNextMessage(ctx)
		if err != nil || !sameMessage(m, text("before the close")) {
			t.Fatalf("WaitForNextMessage: %v, %v; want the echo", describe(m), err)
		}
		if err := clientClose(ws, code, reason); err != nil {
			t.Fatalf("closing with %d %q: %v", code, reason, err)
		}
		want := clientCloseWant(p, code, reason)
		want.Target = ws
		if got := ws.ReadyState(); got != websocket.Closed {
			t.Errorf("readyState once the close call returned = %v; want CLOSED", got)
		}
		if len(closes) != 1 || closes[0] != want {
			t.Errorf("close events during the close call: %d, %+v; want one, %v", len(closes), closes, describeClose(want, ws))
		}
		wantClosedError(t, ws, ctx, want)
		if len(closes) != 1 {
			t.Errorf("%d close events in all; want 1", len(closes))
		}
	}
}

// closeDuringReceiveBlocking: a goroutine closes the socket while another
// is blocked in WaitForNextMessage, both waiting on the socket's
// background loop: the close call returns once the socket is closed, and
// the reader gets the ClosedError, never a "loop busy" error.
func closeDuringReceiveBlocking(t *testing.T, p peer, url string) {
	ws, ctx := dial(t, url, nil)
	if err := ws.SendText("before"); err != nil {
		t.Fatalf("SendText: %v", err)
	}
	if m, err := ws.WaitForNextMessage(ctx); err != nil || !sameMessage(m, text("before")) {
		t.Fatalf("WaitForNextMessage: %v, %v; want the echo", describe(m), err)
	}
	read := make(chan error, 1)
	go func() {
		_, err := ws.WaitForNextMessage(ctx)
		read <- err
	}()
	if err := ws.CloseWith(4001, "bye"); err != nil {
		t.Fatalf("CloseWith: %v", err)
	}
	if got := ws.ReadyState(); got != websocket.Closed {
		t.Errorf("readyState once CloseWith returned = %v; want CLOSED", got)
	}
	want := clientCloseWant(p, 4001, "bye")
	want.Target = ws
	select {
	case err := <-read:
		var ce *websocket.ClosedError
		if !errors.As(err, &ce) || ce.Event != want {
			t.Errorf("reader got %v; want a ClosedError carrying %v", err, describeClose(want, ws))
		}
	case <-ctx.Done():
		t.Fatal("the blocked reader did not return after the close")
	}
	wantClosedError(t, ws, ctx, want)
}

// closeBeforeReceiveBlocking: a goroutine closes the socket and, while its
// close call runs the closing handshake on the socket's loop, the reader
// calls WaitForNextMessage: it must get the ClosedError, as a reader that
// came first does, not an error about the loop being busy. Close is
// documented as safe from any goroutine; the reader makes no second
// concurrent receive call.
func closeBeforeReceiveBlocking(t *testing.T, p peer, url string) {
	ws, ctx := dial(t, url, nil)
	start := make(chan struct{})
	closed := make(chan error, 1)
	go func() {
		close(start)
		closed <- ws.CloseWith(4001, "bye")
	}()
	<-start
	wantClosedError(t, ws, ctx, clientCloseWant(p, 4001, "bye"))
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("CloseWith: %v", err)
		}
	case <-ctx.Done():
		t.Errorf("CloseWith did not return")
	}
}

const serverCloseCommand = "!close 4002 server bye"

var serverCloseWant = websocket.CloseEvent{Code: 4002, Reason: "server bye", WasClean: true}

// serverCloseLoop: the server closes with 4002 "server bye"; the client
// answers and reports it, clean, CLOSED in OnClose.
func serverCloseLoop(t *testing.T, _ peer, url string) {
	s := newLoopSocket(t, url, websocket.Config{})
	s.ws.OnOpen = func(websocket.OpenEvent) {
		if err := s.ws.SendText(serverCloseCommand); err != nil {
			s.fail("SendText: %v", err)
		}
	}
	s.ws.OnMessage = func(e websocket.MessageEvent) {
		s.fail("message %v; want none", describe(e))
	}
	s.run()
	s.wantClose(serverCloseWant)
}

// serverCloseBlocking: a message received before the server's close is
// still returned; then the ClosedError.
func serverCloseBlocking(t *testing.T, _ peer, url string) {
	ws, ctx := dial(t, url, nil)
	for _, s := range []string{"before the close", serverCloseCommand} {
		if err := ws.SendText(s); err != nil {
			t.Fatalf("SendText(%q): %v", s, err)
		}
	}
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil || !sameMessage(m, text("before the close")) {
		t.Fatalf("WaitForNextMessage: %v, %v; want the echo", describe(m), err)
	}
	wantClosedError(t, ws, ctx, serverCloseWant)
}

// protocolLoop: the server supporting supported and the client offering
// offered, Protocol() is want in OnOpen, and "" before.
func protocolLoop(supported, offered []string, want string) func(*testing.T, peer, string) {
	return func(t *testing.T, p peer, _ string) {
		url := p.start(t, supported...)
		s := newLoopSocket(t, url, websocket.Config{Protocols: offered})
		if got := s.ws.Protocol(); got != "" {
			t.Errorf("Protocol() while CONNECTING = %q; want \"\"", got)
		}
		opened := false
		s.ws.OnOpen = func(websocket.OpenEvent) {
			opened = true
			if got := s.ws.Protocol(); got != want {
				t.Errorf("Protocol() in OnOpen = %q; want %q (server supports %q, client offers %q)",
					got, want, supported, offered)
			}
			s.ws.Close()
		}
		s.run()
		if !opened {
			t.Errorf("no open event")
		}
		s.wantClose(websocket.CloseEvent{Code: websocket.CloseNoStatus, WasClean: true})
		if got := s.ws.Protocol(); got != want {
			t.Errorf("Protocol() after the close = %q; want %q", got, want)
		}
	}
}

func protocolBlocking(supported, offered []string, want string) func(*testing.T, peer, string) {
	return func(t *testing.T, p peer, _ string) {
		url := p.start(t, supported...)
		ws, ctx := dial(t, url, &websocket.Config{Protocols: offered})
		if got := ws.Protocol(); got != want {
			t.Errorf("Protocol() after Dial = %q; want %q (server supports %q, client offers %q)",
				got, want, supported, offered)
		}
		// The connection works with the protocol selected.
		if err := ws.SendText("in " + want); err != nil {
			t.Fatalf("SendText: %v", err)
		}
		m, err := ws.WaitForNextMessage(ctx)
		if err != nil || !sameMessage(m, text("in "+want)) {
			t.Fatalf("WaitForNextMessage: %v, %v; want the echo", describe(m), err)
		}
		ws.Close()
		wantClosedError(t, ws, ctx, websocket.CloseEvent{Code: websocket.CloseNoStatus, WasClean: true})
	}
}

// protocolRefusedLoop: the client offering offered and the server
// supporting none of them (supported), the connection fails: no open,
// an error event carrying a *HandshakeError, then close 1006.
func protocolRefusedLoop(supported, offered []string) func(*testing.T, peer, string) {
	return func(t *testing.T, p peer, _ string) {
		url := p.start(t, supported...)
		s := newLoopSocket(t, url, websocket.Config{Protocols: offered})
		var errs []error
		var errStates []websocket.ReadyState
		s.ws.OnError = func(e websocket.ErrorEvent) {
			errs = append(errs, e.Err)
			errStates = append(errStates, s.ws.ReadyState())
		}
		s.ws.OnOpen = func(websocket.OpenEvent) {
			s.fail("open event with protocol %q; want the connection to fail (server supports %q, client offers %q)",
				s.ws.Protocol(), supported, offered)
		}
		s.run()
		var he *websocket.HandshakeError
		switch {
		case len(errs) != 1:
			t.Errorf("%d error events; want 1", len(errs))
		case !errors.As(errs[0], &he):
			t.Errorf("error event carries %v (%T); want a *websocket.HandshakeError", errs[0], errs[0])
		case errStates[0] != websocket.Closed:
			t.Errorf("readyState in OnError = %v; want CLOSED", errStates[0])
		}
		s.wantClose(websocket.CloseEvent{Code: websocket.CloseAbnormal})
		if got := s.ws.Protocol(); got != "" {
			t.Errorf("Protocol() after the failure = %q; want \"\"", got)
		}
	}
}

// protocolRefusedBlocking: as protocolRefusedLoop, Dial returns the
// *HandshakeError and no socket.
func protocolRefusedBlocking(supported, offered []string) func(*testing.T, peer, string) {
	return func(t *testing.T, p peer, _ string) {
		url := p.start(t, supported...)
		ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
		defer cancel()
		ws, err := websocket.Dial(ctx, url, &websocket.Config{Protocols: offered})
		var he *websocket.HandshakeError
		if !errors.As(err, &he) {
			if ws != nil {
				ws.Close()
			}
			t.Fatalf("Dial: %v (%T); want a *websocket.HandshakeError (server supports %q, client offers %q)",
				err, err, supported, offered)
		}
		if ws != nil {
			t.Errorf("Dial returned a socket with its error")
		}
	}
}

// echoFanLoop runs 64 sockets on one loop, each making 20 round trips of
// its own in lockstep with the others, text and binary of 1 byte to 40 KB:
// the loop reads the sockets ready together in one system call and writes
// what their handlers sent in another (internal/poll's batches), so this
// is where a read given to the wrong socket, a send cut short, or one lost
// between the two would show.
func echoFanLoop(t *testing.T, _ peer, url string) {
	const sockets, rounds = 64, 20
	message := func(i, j int) msg {
		rng := rand.New(rand.NewPCG(uint64(i), uint64(j)))
		p := make([]byte, 1+rng.IntN(40000))
		if j%2 == 0 {
			for k := range p {
				p[k] = 'a' + byte(rng.IntN(26))
			}
			return text(string(p))
		}
		rand.NewChaCha8([32]byte{byte(i), byte(j)}).Read(p)
		return binary(p)
	}
	first := newLoopSocket(t, url, websocket.Config{})
	open := sockets
	for i := range sockets {
		ws := first.ws
		if i > 0 {
			var err error
			if ws, err = websocket.NewWithConfig(url, &websocket.Config{Loop: first.loop}); err != nil {
				t.Fatal(err)
			}
			ws.OnError = func(e websocket.ErrorEvent) { t.Errorf("socket %d: error event: %v", i, e.Err) }
			ws.OnClose = func(e websocket.CloseEvent) {
				if !e.WasClean || e.Code != websocket.CloseNormal {
					t.Errorf("socket %d: close %d %q clean %v", i, e.Code, e.Reason, e.WasClean)
				}
			}
		}
		next, sent := 0, msg{}
		sendNext := func() {
			sent = message(i, next)
			if err := send(ws, sent); err != nil {
				t.Errorf("socket %d: sending message %d: %v", i, next, err)
				ws.Close()
			}
		}
		ws.OnOpen = func(websocket.OpenEvent) { sendNext() }
		ws.OnMessage = func(e websocket.MessageEvent) {
			if !sameMessage(e, sent) {
				t.Errorf("socket %d: message %d echoed as %v; want %v", i, next, describe(e), sent)
				ws.Close()
				return
			}
			if next++; next < rounds {
				sendNext()
				return
			}
			if open--; open == 0 {
				t.Logf("all %d sockets made %d round trips", sockets, rounds)
			}
			ws.CloseWith(websocket.CloseNormal, "")
		}
	}
	first.run()
	if open != 0 {
		t.Errorf("%d sockets did not finish", open)
	}
	first.wantClose(websocket.CloseEvent{Code: websocket.CloseNormal, WasClean: true})
}
