package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressTick is how often the progress bar is redrawn: often enough to
// look alive, rarely enough to cost the run nothing.
const progressTick = 200 * time.Millisecond

// progress is what bench shows while it runs. The coordinator's goroutine
// alone calls it.
type progress interface {
	connecting(settled, total int)
	running(elapsed, total time.Duration, echoesPerSec float64, errors int64)
	done()
}

// newProgress is a bar on w when w is a terminal, and nothing otherwise:
// a log file or a pipe wants the report, not a hundred redrawn lines.
func newProgress(w io.Writer) progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &progressBar{w: w}
	}
	return noProgress{}
}

type noProgress struct{}

func (noProgress) connecting(int, int)                                  {}
func (noProgress) running(time.Duration, time.Duration, float64, int64) {}
func (noProgress) done()                                                {}

// progressBar draws with github.com/schollz/progressbar: one bar at a
// time, drawn synchronously when it is set, with no goroutine of its own,
// which is all a single-phase-at-a-time command needs. (mpb, the other
// well-kept choice, is built for many bars at once, with a rendering
// goroutine and a container to wait for.) The connecting bar counts
// sockets; the running bar counts time, with the live rate beside it.
type progressBar struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	phase string
}

// show switches to the bar of phase, clearing the previous one.
func (p *progressBar) show(phase string, max int64, count bool) {
	if p.phase == phase {
		return
	}
	if p.bar != nil {
		p.bar.Finish() // with OptionClearOnFinish, erases it
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetDescription(phase),
	}
	if count {
		opts = append(opts, progressbar.OptionShowCount())
	}
	p.bar = progressbar.NewOptions64(max, opts...)
	p.phase = phase
}

func (p *progressBar) connecting(settled, total int) {
	p.show("connecting", int64(total), true)
	p.bar.Set64(int64(settled))
}

func (p *progressBar) running(elapsed, total time.Duration, echoesPerSec float64, errors int64) {
	p.show("running", total.Milliseconds(), false)
	elapsed = min(elapsed, total)
	p.bar.Describe(fmt.Sprintf("running %s/%s  %s echoes/s  %d errors",
		elapsed.Truncate(time.Second), total, siNumber(echoesPerSec), errors))
	// Short of the end, which would finish the bar and erase it while
	// the last echoes are still awaited: done erases it.
	p.bar.Set64(min(elapsed.Milliseconds(), total.Milliseconds()-1))
}

func (p *progressBar) done() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
}
