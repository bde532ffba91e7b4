package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/term"

	"github.com/wsloop/websocket"
)

// prompt is shown at an interactive terminal; received messages start
// with the arrow the other way.
const (
	prompt        = "> "
	receivedArrow = "< "
)

// terminal is the interactive mode: standard input and output are one
// terminal, put in raw mode so that x/term's line editor has the keys
// (editing, history on the arrow keys). All output goes through the
// editor, which clears the line being typed, writes, and draws the line
// again, so that a message arriving while the user types does not garble
// the line.
type terminal struct {
	t        *term.Terminal
	fd       int
	keys     *keyReader
	out      io.Writer // the terminal itself
	stopSize func()    // stops following the window's size

	mu       sync.Mutex  // guards what follows, and orders the writes
	old      *term.State // the mode to restore, while raw
	done     bool        // restored for good
	detached bool        // the line editor is done with: output goes to out
}

// openTerminal returns the interactive mode when stdin and stdout are a
// terminal. A pipe or a file gets no prompt, and nothing on its output
// but the messages.
func openTerminal(stdin io.Reader, stdout io.Writer) (*terminal, bool) {
	in, ok1 := stdin.(*os.File)
	out, ok2 := stdout.(*os.File)
	if !ok1 || !ok2 || !term.IsTerminal(int(in.Fd())) || !term.IsTerminal(int(out.Fd())) {
		return nil, false
	}
	keys := &keyReader{r: in}
	t := &terminal{fd: int(in.Fd()), keys: keys, out: out}
	t.t = term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{keys, out}, prompt)
	t.stopSize = followSize(int(out.Fd()), t.t)
	return t, true
}

// raw puts the terminal in raw mode, for the first line to read. Not
// sooner: in raw mode Ctrl-C sends no SIGINT, and while connecting,
// which may take the whole handshake timeout, SIGINT is how to give up.
func (t *terminal) raw() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.old != nil || t.done {
		return nil
	}
	old, err := term.MakeRaw(t.fd)
	if err != nil {
		return err
	}
	t.old = old
	return nil
}

// Write is where all output goes: through the line editor while the
// user may type, and straight to the terminal after.
func (t *terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.detached {
		return t.t.Write(p)
	}
	// The editor turned "\n" into "\r\n" for the raw mode; so do we,
	// which is harmless once the mode is restored.
	if _, err := t.out.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// detach ends the line editor's part in the output, writing suffix to
// leave the editor's last line as it should stay. Nothing is typed any
// more, or what is will not be sent: the editor must not draw its line
// again under later output.
func (t *terminal) detach(suffix string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.detached {
		t.detached = true
		io.WriteString(t.out, suffix)
	}
}

// interrupted takes the output below the line where the terminal shows
// ^C (or the prompt, for SIGTERM), for the close that follows.
func (t *terminal) interrupted() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.detached = true
	io.WriteString(t.out, "\r\n")
}

// restore gives the terminal back its cooked mode: at the end of input,
// so that Ctrl-C sends SIGINT again during the wait for the replies, and
// at the end.
func (t *terminal) restore() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.old != nil {
		term.Restore(t.fd, t.old)
		t.old = nil
	}
	if !t.done {
		t.done = true
		t.stopSize()
	}
}

func (t *terminal) input() lineSource { return ttyLines{t} }

func (t *terminal) printer(enc encoding) printer {
	return &ttyPrinter{textPrinter{out: t, status: t, enc: enc, prefix: receivedArrow}, t}
}

// ttyLines reads lines through the line editor.
type ttyLines struct{ t *terminal }

func (l ttyLines) readLine() (string, error) {
	if err := l.t.raw(); err != nil {
		return "", err
	}
	line, err := l.t.t.ReadLine()
	if errors.Is(err, term.ErrPasteIndicator) {
		err = nil // a pasted line is a line all the same
	}
	if err != nil {
		// The editor ends the input with io.EOF for Ctrl-D and Ctrl-C
		// alike; Ctrl-C means to close at once, as SIGINT does.
		// The cursor is on the prompt's line; what follows goes below it.
		if l.t.keys.sawCtrlC.Load() {
			err = errInterrupted
			l.t.detach("^C\r\n")
		} else {
			l.t.detach("\r\n")
		}
		l.t.restore()
	}
	return line, err
}

// keyReader passes the terminal's keys on to the line editor, noting a
// Ctrl-C.
type keyReader struct {
	r        io.Reader
	sawCtrlC atomic.Bool
}

const ctrlC = 3

func (k *keyReader) Read(p []byte) (int, error) {
	n, err := k.r.Read(p)
	if bytes.IndexByte(p[:n], ctrlC) >= 0 {
		k.sawCtrlC.Store(true)
	}
	return n, err
}

// ttyPrinter is textPrinter at the prompt, but for the close: the last
// thing printed, with no prompt after it.
type ttyPrinter struct {
	textPrinter
	t *terminal
}

func (p *ttyPrinter) close(c websocket.CloseEvent) {
	// Still at the prompt (the server closed): the editor clears its line
	// and writes the close above it, then draws the line again, with no
	// prompt now, and that is erased ("\r", then erase to the end of the
	// line): a line typed and not sent is gone with the connection.
	p.t.t.SetPrompt("")
	p.textPrinter.close(c)
	p.t.detach("\r\x1b[K")
}
