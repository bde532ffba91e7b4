package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/wsloop/websocket"
)

// printer shows a connection's events. Its methods run on the loop's
// goroutine, one at a time, so the writers need no lock.
type printer interface {
	open(ws *websocket.WebSocket)
	message(m websocket.MessageEvent)
	ping(data []byte)
	pong(data []byte)
	error(err error)
	close(c websocket.CloseEvent)
}

// textPrinter is the output for people and pipes: messages on out, one a
// line, everything else on status.
type textPrinter struct {
	out, status io.Writer
	enc         encoding
	prefix      string // before each message: "< " at the interactive prompt
}

func (p *textPrinter) open(ws *websocket.WebSocket) {
	if proto := ws.Protocol(); proto != "" {
		fmt.Fprintf(p.status, "connected to %s (protocol %s)\n", ws.URL(), proto)
	} else {
		fmt.Fprintf(p.status, "connected to %s\n", ws.URL())
	}
}

func (p *textPrinter) message(m websocket.MessageEvent) {
	fmt.Fprintf(p.out, "%s%s\n", p.prefix, formatMessage(m, p.enc))
}

// Pings and pongs are the connection's housekeeping: only -json shows
// them.
func (p *textPrinter) ping([]byte) {}
func (p *textPrinter) pong([]byte) {}

func (p *textPrinter) error(err error) { fmt.Fprintln(p.status, "error:", err) }

func (p *textPrinter) close(c websocket.CloseEvent) {
	fmt.Fprintf(p.status, "closed: code=%d reason=%q wasClean=%t\n", c.Code, c.Reason, c.WasClean)
}

// formatMessage is m as one printed message: text as it is, so that the
// output of a text protocol can be piped on; binary in enc, or as a
// marked hex dump when no encoding was asked for, since raw bytes would
// garble a terminal and could not be told from text.
func formatMessage(m websocket.MessageEvent, enc encoding) string {
	if !m.Binary {
		return m.Text()
	}
	if enc == encodingNone {
		return fmt.Sprintf("[binary %d bytes] %s", len(m.Data), hex.EncodeToString(m.Data))
	}
	return encode(m.Data, enc)
}

func encode(b []byte, enc encoding) string {
	if enc == encodingHex {
		return hex.EncodeToString(b)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// jsonPrinter writes each event as a JSON object on a line of its own
// (NDJSON), for scripts and jq.
type jsonPrinter struct {
	enc *json.Encoder
	bin encoding // base64 unless -hex
	now func() time.Time
}

// jsonEvent is one line of -json. The fields an event type does not have
// are left out; those it has are always there, even when zero or empty
// (wasClean false, an empty message), hence the pointers.
type jsonEvent struct {
	Time     string  `json:"time"`
	Type     string  `json:"type"`
	URL      string  `json:"url,omitempty"`
	Protocol *string `json:"protocol,omitempty"`
	Data     *string `json:"data,omitempty"`
	Binary   *bool   `json:"binary,omitempty"`
	Code     int     `json:"code,omitempty"`
	Reason   *string `json:"reason,omitempty"`
	WasClean *bool   `json:"wasClean,omitempty"`
}

// jsonTime is the events' time: RFC 3339 in UTC, to the microsecond, at a
// fixed width so that the lines align.
const jsonTime = "2006-01-02T15:04:05.000000Z07:00"

func newJSONPrinter(out io.Writer, enc encoding) *jsonPrinter {
	if enc == encodingNone {
		enc = encodingBase64 // JSON's usual form for bytes
	}
	je := json.NewEncoder(out)
	je.SetEscapeHTML(false) // "<" rather than "\u003c": this is no web page
	return &jsonPrinter{enc: je, bin: enc, now: time.Now}
}

func (p *jsonPrinter) emit(ev jsonEvent) {
	ev.Time = p.now().UTC().Format(jsonTime)
	// Encode writes the object and its newline in one Write. An error is
	// a closed or full output, which the next write will meet again.
	p.enc.Encode(ev)
}

func (p *jsonPrinter) open(ws *websocket.WebSocket) {
	proto := ws.Protocol()
	p.emit(jsonEvent{Type: "open", URL: ws.URL(), Protocol: &proto})
}

func (p *jsonPrinter) message(m websocket.MessageEvent) {
	data := m.Text()
	if m.Binary {
		data = encode(m.Data, p.bin)
	}
	p.emit(jsonEvent{Type: "message", Data: &data, Binary: &m.Binary})
}

func (p *jsonPrinter) ping(b []byte) { p.control("ping", b) }
func (p *jsonPrinter) pong(b []byte) { p.control("pong", b) }

// control reports a ping or pong. Their payloads are bytes, most often
// text: shown as text when they are UTF-8, else encoded and marked binary.
func (p *jsonPrinter) control(typ string, b []byte) {
	data, binary := string(b), false
	if !utf8.Valid(b) {
		data, binary = encode(b, p.bin), true
	}
	p.emit(jsonEvent{Type: typ, Data: &data, Binary: &binary})
}

func (p *jsonPrinter) error(err error) {
	msg := err.Error()
	p.emit(jsonEvent{Type: "error", Data: &msg})
}

func (p *jsonPrinter) close(c websocket.CloseEvent) {
	p.emit(jsonEvent{Type: "close", Code: c.Code, Reason: &c.Reason, WasClean: &c.WasClean})
}
