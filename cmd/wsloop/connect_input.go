package main

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/wsloop/websocket"
)

// lineSource gives the input one line at a time, without its line ending.
// io.EOF ends the input, after which connect waits for the replies;
// errInterrupted ends it and closes at once.
type lineSource interface {
	readLine() (string, error)
}

// errInterrupted is Ctrl-C at the prompt: the terminal in raw mode sends
// no SIGINT, so the line editor reports it.
var errInterrupted = errors.New("interrupted")

// lineReader reads lines from a pipe or a file.
type lineReader struct {
	br  *bufio.Reader
	err error // met after the last line
}

func newLineReader(r io.Reader) *lineReader { return &lineReader{br: bufio.NewReader(r)} }

func (r *lineReader) readLine() (string, error) {
	if r.err != nil {
		return "", r.err
	}
	// ReadString rather than a Scanner: a line has no length limit here,
	// beyond the server's own.
	line, err := r.br.ReadString('\n')
	if err != nil {
		r.err = err
		if line == "" {
			return "", err
		}
		// A last line without its newline is a line all the same.
	}
	return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
}

// pump sends each line of src as a message until the input ends. It runs
// on a goroutine of its own, since reading blocks, and stops early once
// the socket refuses data, which means it is closing.
func (s *session) pump(src lineSource) {
	for {
		line, err := src.readLine()
		switch {
		case errors.Is(err, errInterrupted):
			s.interrupt()
			return
		case err != nil:
			if err != io.EOF {
				s.warn("reading input: %v\n", err)
			}
			s.loop.Post(s.endOfInput)
			return
		}
		data, binary, err := s.encodeLine(line)
		if err != nil {
			s.warn("skipped a line: %v\n", err)
			continue
		}
		if !s.waitForRoom() {
			return
		}
		if err := s.send(data, binary); err != nil {
			if !errors.Is(err, websocket.ErrClosed) {
				s.warn("send: %v\n", err)
			}
			return
		}
	}
}

// encodeLine turns a line into a message's payload: the line as text, or
// with -binary its bytes, decoded from -hex or -base64 when one is given.
func (s *session) encodeLine(line string) (data []byte, binary bool, err error) {
	if !s.o.binary {
		if !utf8.ValidString(line) {
			// A text message must be UTF-8: the server would fail the
			// connection over it.
			return nil, false, errors.New("not valid UTF-8, as a text message must be (-binary sends bytes)")
		}
		return []byte(line), false, nil
	}
	switch s.o.enc {
	case encodingHex:
		data, err = hex.DecodeString(strings.TrimSpace(line))
		if err != nil {
			return nil, true, errors.New("not hex: " + err.Error())
		}
	case encodingBase64:
		data, err = base64.StdEncoding.DecodeString(strings.TrimSpace(line))
		if err != nil {
			return nil, true, errors.New("not base64: " + err.Error())
		}
	default:
		data = []byte(line)
	}
	return data, true, nil
}

func (s *session) send(data []byte, binary bool) error {
	if binary {
		return s.ws.Send(data)
	}
	return s.ws.SendText(string(data))
}

// waitForRoom holds the input while more than highWater bytes wait to be
// sent, until OnBufferedAmountLow says the backlog has drained. It
// returns false once the connection is over.
func (s *session) waitForRoom() bool {
	for s.ws.BufferedAmount() > highWater {
		select {
		case <-s.room:
		case <-s.closed:
			return false
		}
	}
	return true
}
