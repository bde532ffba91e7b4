package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// benchReport is the --json output, one object. Its fields are listed in
// benchUsage, for the scripts that read them; a change here is a change
// there and in testdata/bench-json-fields.golden.
type benchReport struct {
	URL          string        `json:"url"`
	Sockets      int           `json:"sockets"`
	Loops        int           `json:"loops"`
	Size         int           `json:"size"`
	Binary       bool          `json:"binary"`
	Rate         float64       `json:"rate"`
	DurationS    float64       `json:"duration_s"`
	ElapsedS     float64       `json:"elapsed_s"`
	Interrupted  bool          `json:"interrupted"`
	Connected    int           `json:"connected"`
	ConnectS     float64       `json:"connect_s"`
	ConnectTime  durationStats `json:"connect_time_us"`
	Sent         uint64        `json:"sent"`
	Echoed       uint64        `json:"echoed"`
	MessagesPerS float64       `json:"messages_per_s"`
	BytesPerS    float64       `json:"bytes_per_s"`
	WireBytesOut uint64        `json:"wire_bytes_out"`
	WireBytesIn  uint64        `json:"wire_bytes_in"`
	Errors       uint64        `json:"errors"`
	ErrorCounts  errorCounts   `json:"error_counts"`
	FirstError   string        `json:"first_error"`
	Latency      durationStats `json:"latency_us"`
	Histogram    []histRowJSON `json:"histogram"`
}

// durationStats are a histogram's figures, in microseconds.
type durationStats struct {
	Count uint64  `json:"count"`
	Min   float64 `json:"min"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
}

type histRowJSON struct {
	FromUS float64 `json:"from_us"`
	ToUS   float64 `json:"to_us"`
	Count  uint64  `json:"count"`
}

// micros is d in microseconds, as the JSON gives durations: fine enough
// for a loopback round trip, plain enough for a script.
func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func statsOf(h *histogram) durationStats {
	return durationStats{
		Count: h.n,
		Min:   micros(h.min),
		Mean:  micros(h.mean()),
		P50:   micros(h.quantile(0.50)),
		P90:   micros(h.quantile(0.90)),
		P99:   micros(h.quantile(0.99)),
		P999:  micros(h.quantile(0.999)),
		Max:   micros(h.max),
	}
}

// perSecond is n over the run's sending time; zero for a run that did
// not send.
func (run *benchRun) perSecond(n uint64) float64 {
	if run.elapsed <= 0 {
		return 0
	}
	return float64(n) / run.elapsed.Seconds()
}

func (run *benchRun) report() *benchReport {
	p := run.plan
	r := &benchReport{
		URL:          p.url,
		Sockets:      p.sockets,
		Loops:        p.loops,
		Size:         p.size,
		Binary:       p.binary,
		Rate:         p.rate,
		DurationS:    p.duration.Seconds(),
		ElapsedS:     run.elapsed.Seconds(),
		Interrupted:  run.interrupted,
		Connected:    run.connected,
		ConnectS:     run.connectTime.Seconds(),
		ConnectTime:  statsOf(&run.connect),
		Sent:         run.sent,
		Echoed:       run.echoed,
		MessagesPerS: run.perSecond(run.echoed),
		BytesPerS:    run.perSecond(run.echoedBytes),
		WireBytesOut: run.wireOut,
		WireBytesIn:  run.wireIn,
		Errors:       run.errs.total(),
		ErrorCounts:  run.errs,
		FirstError:   run.firstErr,
		Latency:      statsOf(&run.latency),
		Histogram:    []histRowJSON{}, // [] rather than null for a run with no echo
	}
	for _, row := range run.latency.rows() {
		r.Histogram = append(r.Histogram, histRowJSON{FromUS: micros(row.From), ToUS: micros(row.To), Count: row.Count})
	}
	return r
}

func writeJSON(w io.Writer, r *benchReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeText is the report for people: the run, then a line for each of
// connect, throughput, errors and latency, then the histogram.
func writeText(w io.Writer, run *benchRun) {
	p := run.plan
	kind := "text"
	if p.binary {
		kind = "binary"
	}
	pace := "one in flight per socket"
	if p.rate > 0 {
		pace = fmt.Sprintf("%s messages/s per socket", siNumber(p.rate))
	}
	fmt.Fprintf(w, "wsloop bench %s: %d sockets on %d loops, %d-byte %s messages, %s, for %s\n",
		p.url, p.sockets, p.loops, p.size, kind, pace, p.duration)
	if run.interrupted {
		fmt.Fprintf(w, "interrupted after %s of sending\n", fmtDur(run.elapsed))
	}
	c := &run.connect
	fmt.Fprintf(w, "connect     %d of %d open in %s", run.connected, p.sockets, fmtDur(run.connectTime))
	if c.n > 0 {
		fmt.Fprintf(w, "; each p50 %s, p99 %s, max %s", fmtDur(c.quantile(0.5)), fmtDur(c.quantile(0.99)), fmtDur(c.max))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "throughput  %d echoes of %d sent in %s: %s messages/s, %sB/s of payload each way\n",
		run.echoed, run.sent, fmtDur(run.elapsed), siNumber(run.perSecond(run.echoed)), siNumber(run.perSecond(run.echoedBytes)))
	writeErrors(w, run)
	h := &run.latency
	if h.n == 0 {
		fmt.Fprintln(w, "latency     no echo")
		return
	}
	fmt.Fprintf(w, "latency     p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (mean %s, min %s)\n",
		fmtDur(h.quantile(0.5)), fmtDur(h.quantile(0.9)), fmtDur(h.quantile(0.99)), fmtDur(h.quantile(0.999)),
		fmtDur(h.max), fmtDur(h.mean()), fmtDur(h.min))
	fmt.Fprintln(w)
	writeHistogram(w, h)
}

func writeErrors(w io.Writer, run *benchRun) {
	e := &run.errs
	if e.total() == 0 {
		fmt.Fprintln(w, "errors      0")
		return
	}
	var parts []string
	for _, k := range []struct {
		name string
		n    uint64
	}{{"connect", e.Connect}, {"send", e.Send}, {"closed", e.Closed}, {"mismatch", e.Mismatch}, {"lost", e.Lost}} {
		if k.n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k.name, k.n))
		}
	}
	fmt.Fprintf(w, "errors      %d: %s\n", e.total(), strings.Join(parts, ", "))
	fmt.Fprintf(w, "            first: %s\n", run.firstErr)
}

// histWidth is the longest bar of the histogram, in characters.
const histWidth = 40

func writeHistogram(w io.Writer, h *histogram) {
	rows := h.rows()
	var most uint64
	labels := make([]string, len(rows))
	labelWidth := 0
	for i, r := range rows {
		most = max(most, r.Count)
		labels[i] = fmtScale(r.From) + " - " + fmtScale(r.To)
		labelWidth = max(labelWidth, len([]rune(labels[i])))
	}
	countWidth := len(strconv.FormatUint(most, 10))
	fmt.Fprintln(w, "latency histogram")
	for i, r := range rows {
		// A row with any sample gets at least one mark, so that a rare
		// tail shows.
		n := int(math.Ceil(float64(r.Count) / float64(most) * histWidth))
		pad := labelWidth - len([]rune(labels[i]))
		fmt.Fprintf(w, "  %s%s  %-*s  %*d  %5.1f%%\n", strings.Repeat(" ", pad), labels[i],
			histWidth, strings.Repeat("#", n), countWidth, r.Count, 100*float64(r.Count)/float64(h.n))
	}
}

// fmtDur writes d with three significant digits in the unit that suits
// it: 812ns, 12.3µs, 1.20ms, 3.41s. time.Duration's own String gives
// every digit, which a column of figures does not want.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		return sig3(float64(d)/1e3) + "µs"
	case d < time.Second:
		return sig3(float64(d)/1e6) + "ms"
	default:
		return sig3(d.Seconds()) + "s"
	}
}

// fmtScale writes a value of the 1-2-5 scale, which needs no decimals:
// 50µs, not 50.0µs.
func fmtScale(d time.Duration) string {
	s := fmtDur(d)
	num := strings.TrimRight(s, "nµms")
	if strings.Contains(num, ".") {
		num = strings.TrimRight(strings.TrimRight(num, "0"), ".")
	}
	return num + s[len(strings.TrimRight(s, "nµms")):]
}

// sig3 writes v, at least 1, with three significant digits (or more,
// for v of 1000 and over).
func sig3(v float64) string {
	decimals := 2 - int(math.Floor(math.Log10(v)))
	return strconv.FormatFloat(v, 'f', max(decimals, 0), 64)
}

// siNumber writes v with an SI prefix: 812, 41.2k, 1.23M, 2.05G.
func siNumber(v float64) string {
	for _, u := range []struct {
		scale  float64
		prefix string
	}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if v >= u.scale {
			return sig3(v/u.scale) + u.prefix
		}
	}
	if v < 1 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return sig3(v)
}
