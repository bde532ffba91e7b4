package browser_test

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	websocket "github.com/wsloop/websocket"
)

// scenarioBound bounds one client's run of a scenario. It decides failures
// only: every scenario ends on events well before it.
const scenarioBound = 20 * time.Second

// goRun is the Go client running a scenario's plan on an event loop of its
// own, the way the page runs it in Chromium.
type goRun struct {
	sc       *scenario
	srv      *server
	loop     *websocket.EventLoop
	ws       *websocket.WebSocket
	trace    []entry
	messages int
}

// runGo runs the scenario with the Go client and returns its trace.
func runGo(sc *scenario, srv *server) []entry {
	r := &goRun{sc: sc, srv: srv, loop: websocket.NewEventLoop()}
	r.loop.OnPanic = func(v any, stack []byte) {
		r.trace = append(r.trace, entry{Ev: "problem", Data: fmt.Sprintf("panic in a callback: %v\n%s", v, stack)})
	}
	ct := sc.client.closeTimeout
	if ct == 0 {
		ct = goCloseTimeout
	}
	ws, err := websocket.NewWithConfig(sc.url(srv.host), &websocket.Config{
		Protocols:    sc.client.protocols,
		Loop:         r.loop,
		CloseTimeout: ct,
	})
	if err != nil {
		return []entry{{Ev: "ctor", Threw: domExceptionName(err), RS: -1, BA: -1}}
	}
	r.ws = ws
	r.trace = append(r.trace, entry{
		Ev: "ctor", RS: int(ws.ReadyState()), BA: ws.BufferedAmount(),
		URL: ws.URL(), Protocol: ws.Protocol(), Extensions: ws.Extensions(),
	})
	ws.OnOpen = func(websocket.OpenEvent) {
		e := r.at("open")
		e.Protocol, e.Extensions = ws.Protocol(), ws.Extensions()
		r.trace = append(r.trace, e)
		r.steps(sc.client.onOpen)
	}
	ws.OnMessage = func(m websocket.MessageEvent) {
		e := r.at("message")
		e.Kind = "text"
		if m.Binary {
			e.Kind = "binary"
		}
		e.Data = describeData(m.Data, m.Binary)
		r.trace = append(r.trace, e)
		if sc.client.echo {
			var err error
			if m.Binary {
				err = ws.Send(bytes.Clone(m.Data))
			} else {
				err = ws.SendText(string(m.Data))
			}
			e := r.at("call")
			e.Label, e.Threw = echoLabel, domExceptionName(err)
			r.trace = append(r.trace, e)
		}
		if r.messages++; r.messages == 1 {
			r.steps(sc.client.onMessage)
		}
	}
	// The cause the ErrorEvent carries has no counterpart in the browser;
	// the trace keeps the event alone (see the deliberate differences).
	ws.OnError = func(websocket.ErrorEvent) { r.trace = append(r.trace, r.at("error")) }
	ws.OnClose = func(c websocket.CloseEvent) {
		e := r.at("close")
		e.Code, e.Reason, e.Clean = c.Code, c.Reason, c.WasClean
		r.trace = append(r.trace, e)
		r.steps(sc.client.onClose)
	}
	// As in the page, the steps run right after the constructor, before
	// the loop runs anything.
	r.steps(sc.client.now)

	timedOut := make(chan struct{})
	watchdog := time.AfterFunc(scenarioBound, func() {
		close(timedOut)
		r.loop.Stop()
	})
	runErr := r.loop.Run()
	watchdog.Stop()
	select {
	case <-timedOut:
		r.trace = append(r.trace, entry{Ev: "timeout", Data: fmt.Sprintf("loop.Run still running after %v", scenarioBound)})
	default:
	}
	if runErr != nil {
		r.trace = append(r.trace, entry{Ev: "problem", Data: "loop.Run: " + runErr.Error()})
	}
	return r.trace
}

// at is an entry of type ev with the socket's state now.
func (r *goRun) at(ev string) entry {
	return entry{Ev: ev, RS: int(r.ws.ReadyState()), BA: r.ws.BufferedAmount()}
}

// steps runs steps on the loop's goroutine (or before the loop runs). An
// await step hands the rest to a goroutine that waits for the server, then
// posts it back to the loop, as the page's await does; a later step hands
// it to a timer of no delay, as the page's setTimeout(0).
func (r *goRun) steps(steps []step) {
	for i, s := range steps {
		if s.Do == "later" {
			rest := steps[i+1:]
			r.loop.SetTimeout(func() {
				e := r.at("call")
				e.Label = s.Label
				r.trace = append(r.trace, e)
				r.steps(rest)
			}, 0)
			return
		}
		if s.Do == "await" {
			rest := steps[i+1:]
			sl := r.srv.slot(r.sc.name, "go")
			go func() {
				select {
				case <-sl.requested:
				case <-time.After(ioBound):
				}
				r.loop.Post(func() { r.steps(rest) })
			}()
			return
		}
		var err error
		switch s.Do {
		case "send":
			err = r.ws.SendText(s.Text)
		case "sendBinary":
			err = r.ws.Send(pattern(s.Size))
		case "read":
		case "close":
			switch {
			case s.Code == nil:
				err = r.ws.Close()
			case s.Reason == nil:
				err = r.ws.CloseWith(*s.Code, "")
			default:
				err = r.ws.CloseWith(*s.Code, *s.Reason)
			}
		default:
			err = fmt.Errorf("unknown step %q", s.Do)
		}
		e := r.at("call")
		e.Label, e.Threw = s.Label, domExceptionName(err)
		r.trace = append(r.trace, e)
	}
}

// domExceptionName maps an error to the name of the DOMException the
// browser throws in its place. ErrClosed has none: the browser drops the
// data silently (see the deliberate differences).
func domExceptionName(err error) string {
	var se *websocket.SyntaxError
	var ia *websocket.InvalidAccessError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &se):
		return "SyntaxError"
	case errors.As(err, &ia):
		return "InvalidAccessError"
	case errors.Is(err, websocket.ErrInvalidState):
		return "InvalidStateError"
	case errors.Is(err, websocket.ErrClosed):
		return "ErrClosed"
	}
	return fmt.Sprintf("Go error %T: %v", err, err)
}
