package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsloop/websocket"
)

// The bench tests run the command in-process against the serve command,
// also in-process (startServe), for a few hundred milliseconds each.

// fakeFDLimits is an open-file limit of the test's choosing.
type fakeFDLimits struct {
	soft, hard uint64
	refuse     func(soft uint64) bool // set refuses these
	asked      []uint64               // what set was asked
}

func (l *fakeFDLimits) get() (uint64, uint64, bool, error) { return l.soft, l.hard, true, nil }

func (l *fakeFDLimits) set(soft uint64) error {
	l.asked = append(l.asked, soft)
	if l.refuse != nil && l.refuse(soft) {
		return os.ErrPermission
	}
	l.soft = soft
	return nil
}

// benchTestEnv is a system of the test's own: names resolve from a table, the
// open-file limit is ample, no progress bar, a short wait for lost echoes.
func benchTestEnv() benchEnv {
	hosts := map[string][]string{
		"localhost": {"127.0.0.1", "::1"},
		"near.test": {"127.0.0.1", "127.0.0.2"},
		"far.test":  {"127.0.0.1", "192.0.2.7"},
	}
	return benchEnv{
		lookup: func(_ context.Context, host string) ([]net.IPAddr, error) {
			ips, ok := hosts[host]
			if !ok {
				return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
			}
			var addrs []net.IPAddr
			for _, ip := range ips {
				addrs = append(addrs, net.IPAddr{IP: net.ParseIP(ip)})
			}
			return addrs, nil
		},
		limits:   &fakeFDLimits{soft: 1 << 20, hard: 1 << 20},
		progress: func() progress { return noProgress{} },
		drain:    200 * time.Millisecond,
	}
}

func runBenchCmd(t *testing.T, ctx context.Context, env benchEnv, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = bench(ctx, args, &out, &errOut, env)
	return code, out.String(), errOut.String()
}

// benchJSON runs bench with --json and decodes its report.
func benchJSON(t *testing.T, env benchEnv, args ...string) (int, benchReport) {
	t.Helper()
	code, out, errOut := runBenchCmd(t, context.Background(), env, append([]string{"--json"}, args...)...)
	var r benchReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bench %q: not one JSON object (%v):\n%s\nstderr:\n%s", args, err, out, errOut)
	}
	return code, r
}

// checkBenchCounts checks that the report adds up for a run against a good
// echo server: every socket opened, every message sent came back, and
// the figures agree with each other.
func checkBenchCounts(t *testing.T, r benchReport) {
	t.Helper()
	if r.Errors != 0 || r.FirstError != "" {
		t.Errorf("errors %d %+v: %s", r.Errors, r.ErrorCounts, r.FirstError)
	}
	if r.Connected != r.Sockets || r.ConnectTime.Count != uint64(r.Sockets) {
		t.Errorf("connected %d (connect times %d) of %d sockets", r.Connected, r.ConnectTime.Count, r.Sockets)
	}
	if r.Sent == 0 || r.Echoed != r.Sent {
		t.Errorf("sent %d, echoed %d: want every message echoed", r.Sent, r.Echoed)
	}
	if r.Latency.Count != r.Echoed {
		t.Errorf("latency samples %d, echoes %d", r.Latency.Count, r.Echoed)
	}
	var rows uint64
	for _, h := range r.Histogram {
		rows += h.Count
		if h.FromUS >= h.ToUS {
			t.Errorf("histogram row from %v to %v", h.FromUS, h.ToUS)
		}
	}
	if rows != r.Echoed {
		t.Errorf("histogram rows hold %d samples, echoes %d", rows, r.Echoed)
	}
	if got, want := r.BytesPerS*r.ElapsedS, float64(r.Echoed)*float64(r.Size); !benchNear(got, want) {
		t.Errorf("bytes_per_s × elapsed_s = %v, echoed × size = %v", got, want)
	}
	if got, want := r.MessagesPerS*r.ElapsedS, float64(r.Echoed); !benchNear(got, want) {
		t.Errorf("messages_per_s × elapsed_s = %v, echoed = %v", got, want)
	}
	if r.ElapsedS < r.DurationS || r.ElapsedS > r.DurationS+1 {
		t.Errorf("elapsed %vs for a run of %vs", r.ElapsedS, r.DurationS)
	}
	if min := uint64(r.Echoed) * uint64(r.Size) * 2; r.WireBytesIn+r.WireBytesOut < min {
		t.Errorf("wire bytes %d in, %d out: less than the payloads", r.WireBytesIn, r.WireBytesOut)
	}
	checkMonotonic(t, "latency", r.Latency)
	checkMonotonic(t, "connect time", r.ConnectTime)
}

func benchNear(a, b float64) bool { return a-b < 1e-6*b+1e-6 && b-a < 1e-6*b+1e-6 }

func checkMonotonic(t *testing.T, what string, s durationStats) {
	t.Helper()
	seq := []float64{s.Min, s.P50, s.P90, s.P99, s.P999, s.Max}
	if !slices.IsSorted(seq) || s.Min <= 0 {
		t.Errorf("%s: min, p50, p90, p99, p99.9, max = %v: want positive and non-decreasing", what, seq)
	}
	if s.Mean < s.Min || s.Mean > s.Max {
		t.Errorf("%s: mean %v outside [%v, %v]", what, s.Mean, s.Min, s.Max)
	}
}

// TestBenchOneInFlight: sockets over two loops, each with one message in
// flight, against the serve command's server: every message sent is
// echoed, none lost, and the figures add up.
func TestBenchOneInFlight(t *testing.T) {
	url, _, _ := startServe(t)
	code, r := benchJSON(t, benchTestEnv(), "-n", "6", "-loops", "2", "-size", "100", "-duration", "300ms", url)
	if code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	checkBenchCounts(t, r)
	if r.Loops != 2 || r.Sockets != 6 || r.Size != 100 || r.Binary || r.Rate != 0 || r.Interrupted {
		t.Errorf("the run asked for is not the run reported: %+v", r)
	}
}

// TestBenchRate: binary messages at a rate: every one echoed, and no more
// sent than the rate allows in the time.
func TestBenchRate(t *testing.T) {
	url, _, _ := startServe(t)
	const sockets, rate = 4, 100
	code, r := benchJSON(t, benchTestEnv(), "-n", "4", "-loops", "3", "-rate", "100", "-binary", "-size", "300", "-duration", "400ms", url)
	if code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	checkBenchCounts(t, r)
	if !r.Binary || r.Loops != 3 {
		t.Errorf("binary %t on %d loops, want binary on 3", r.Binary, r.Loops)
	}
	// Each loop sends one message at its start and then as they come
	// due: never ahead of the rate.
	if most := uint64(sockets*rate*r.ElapsedS) + uint64(r.Loops); r.Sent > most {
		t.Errorf("sent %d in %vs at %d/s on %d sockets: more than %d", r.Sent, r.ElapsedS, rate, sockets, most)
	}
}

// TestBenchText: the report for people has each figure, and its
// histogram rows add up to every echo.
func TestBenchText(t *testing.T) {
	url, _, _ := startServe(t)
	code, out, errOut := runBenchCmd(t, context.Background(), benchTestEnv(), "-n", "3", "-duration", "200ms", url)
	if code != 0 {
		t.Fatalf("exit code %d, want 0; stderr:\n%s\nstdout:\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"wsloop bench " + url + ": 3 sockets on ",
		"\nconnect     3 of 3 open in ",
		"\nthroughput  ",
		"\nerrors      0\n",
		"\nlatency     p50 ",
		" p99.9 ",
		"\nlatency histogram\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the report:\n%s", want, out)
		}
	}
	rows := strings.Split(out[strings.Index(out, "latency histogram\n")+len("latency histogram\n"):], "\n")
	var percent float64
	for _, row := range rows {
		if f := strings.Fields(row); len(f) > 0 {
			p, err := strconv.ParseFloat(strings.TrimSuffix(f[len(f)-1], "%"), 64)
			if err != nil {
				t.Fatalf("histogram row %q: %v", row, err)
			}
			percent += p
		}
	}
	if percent < 99 || percent > 101 {
		t.Errorf("histogram rows add up to %v%%:\n%s", percent, out)
	}
}

// TestBenchJSONFields: the JSON object has exactly the documented fields
// (testdata/bench-json-fields.golden), each of them in the -h text.
func TestBenchJSONFields(t *testing.T) {
	url, _, _ := startServe(t)
	code, out, errOut := runBenchCmd(t, context.Background(), benchTestEnv(), "--json", "-n", "2", "-duration", "100ms", url)
	if code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, errOut)
	}
	var obj map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&obj); err != nil {
		t.Fatal(err)
	}
	if dec.More() {
		t.Errorf("more than one JSON value:\n%s", out)
	}
	got := strings.Join(jsonFieldPaths("", obj), "\n") + "\n"
	golden, err := os.ReadFile("testdata/bench-json-fields.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(golden) {
		t.Errorf("fields of --json:\n%s\nwant (testdata/bench-json-fields.golden):\n%s", got, golden)
	}
	for _, top := range jsonFieldPaths("", obj) {
		name := strings.SplitN(strings.TrimSuffix(top, "[]"), ".", 2)[0]
		name = strings.TrimSuffix(name, "[]")
		if !strings.Contains(benchUsage, name) {
			t.Errorf("field %s is not documented in the usage text", name)
		}
	}
}

// jsonFieldPaths lists v's keys as sorted paths: "a", "a.b", "c[].d".
func jsonFieldPaths(prefix string, v any) []string {
	var paths []string
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			paths = append(paths, p)
			paths = append(paths, jsonFieldPaths(p, sub)...)
		}
	case []any:
		if len(v) > 0 {
			paths = append(paths, jsonFieldPaths(prefix+"[]", v[0])...)
		}
	}
	sort.Strings(paths)
	return paths
}

// TestBenchRefusesRemote: a target that is not on this machine is
// refused before any connection, with the reason and the way past it,
// and exit code 2. No name here needs a network: literal addresses, and
// names from the test's table.
func TestBenchRefusesRemote(t *testing.T) {
	for _, tc := range []struct{ url, why string }{
		{"ws://192.0.2.1:9/", "192.0.2.1 is not a loopback address"},
		{"ws://[2001:db8::1]/", "2001:db8::1 is not a loopback address"},
		{"wss://far.test/", "far.test resolves to 192.0.2.7, which is not a loopback address"},
		{"ws://unknown.test/", "cannot tell whether unknown.test is on this machine"},
	} {
		code, out, errOut := runBenchCmd(t, context.Background(), benchTestEnv(), "-n", "1", tc.url)
		if code != exitUsage {
			t.Errorf("%s: exit code %d, want %d", tc.url, code, exitUsage)
		}
		if !strings.Contains(errOut, tc.why) || !strings.Contains(errOut, "--allow-remote") {
			t.Errorf("%s: stderr says neither why (%q) nor how to override:\n%s", tc.url, tc.why, errOut)
		}
		if out != "" {
			t.Errorf("%s: a report for a refused run:\n%s", tc.url, out)
		}
	}
}

// TestCheckTarget: loopback targets pass, by address or by a name whose
// every address is loopback.
func TestCheckTarget(t *testing.T) {
	env := benchTestEnv()
	for _, url := range []string{"ws://127.0.0.1:8080/", "ws://[::1]/", "ws://127.1.2.3/", "ws://localhost:1/", "wss://near.test/"} {
		if err := checkTarget(context.Background(), url, env.lookup, false); err != nil {
			t.Errorf("%s: %v", url, err)
		}
	}
	for _, url := range []string{"ftp://127.0.0.1/", "ws:///nohost", "ws://0.0.0.0/"} {
		if err := checkTarget(context.Background(), url, env.lookup, false); err == nil {
			t.Errorf("%s: no error", url)
		}
	}
	// --allow-remote lets any host through, but not a URL bench cannot use.
	if err := checkTarget(context.Background(), "ws://192.0.2.1/", env.lookup, true); err != nil {
		t.Errorf("192.0.2.1 allowed: %v", err)
	}
	if err := checkTarget(context.Background(), "ftp://192.0.2.1/", env.lookup, true); err == nil {
		t.Error("ftp:// allowed")
	}
	// And at the dial, whatever the name resolves to by then.
	if err := loopbackOnly("tcp4", "127.0.0.1:80", nil); err != nil {
		t.Errorf("dial to 127.0.0.1: %v", err)
	}
	if err := loopbackOnly("tcp6", "[::1]:80", nil); err != nil {
		t.Errorf("dial to ::1: %v", err)
	}
	if err := loopbackOnly("tcp4", "192.0.2.1:80", nil); err == nil {
		t.Error("dial to 192.0.2.1 allowed")
	}
}

// TestBenchFDLimit: a soft limit too low is raised to the hard one; a
// hard limit too low refuses the run, saying how many sockets fit and
// how to raise it.
func TestBenchFDLimit(t *testing.T) {
	lim := &fakeFDLimits{soft: 256, hard: 1024}
	env := benchTestEnv()
	env.limits = lim
	code, out, errOut := runBenchCmd(t, context.Background(), env, "-n", "5000", "-loops", "2", "ws://127.0.0.1:1/")
	if code != exitUsage || out != "" {
		t.Errorf("exit code %d, want %d, and no report; stdout:\n%s", code, exitUsage, out)
	}
	for _, want := range []string{"5000 sockets need about 5040 open files", "at most 1024", "ulimit -Hn", "-n 984 at most"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("no %q in:\n%s", want, errOut)
		}
	}
	if len(lim.asked) != 0 {
		t.Errorf("the limit was set to %v for a run that cannot fit", lim.asked)
	}

	// Room under the hard limit: raised to it.
	if from, err := ensureFDs(lim, 500, 2); err != nil || from != 256 || lim.soft != 1024 {
		t.Errorf("500 sockets: raised from %d (%v), soft limit now %d; want from 256 to 1024", from, err, lim.soft)
	}
	// Room under the soft limit: untouched.
	lim.asked = nil
	if from, err := ensureFDs(lim, 100, 2); err != nil || from != 0 || len(lim.asked) != 0 {
		t.Errorf("100 sockets: raised from %d (%v), set %v; want nothing done", from, err, lim.asked)
	}
	// An unlimited hard limit, which Linux will not take as the soft
	// one: what the run needs.
	unl := &fakeFDLimits{soft: 1024, hard: ^uint64(0), refuse: func(s uint64) bool { return s == ^uint64(0) }}
	if _, err := ensureFDs(unl, 3000, 1); err != nil || unl.soft != 3000+fdReserve(1) {
		t.Errorf("unlimited hard limit: %v, soft limit %d; want %d", err, unl.soft, 3000+fdReserve(1))
	}
}

// TestBenchLost: a server that swallows every message: each one sent is
// counted lost once the wait for the echoes ends, and the exit code is 1.
func TestBenchLost(t *testing.T) {
	up := &websocket.Upgrader{}
	srv := httptest.NewServer(up.Handler(func(ws *websocket.WebSocket, _ *http.Request) {
		ws.OnMessage = func(m websocket.MessageEvent) { m.Release() }
	}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		up.Shutdown(ctx)
		srv.Close()
	})
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
	code, r := benchJSON(t, benchTestEnv(), "-n", "2", "-loops", "1", "-duration", "100ms", url)
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if r.Sent != 2 || r.Echoed != 0 || r.ErrorCounts.Lost != 2 || r.Errors != 2 || r.FirstError == "" {
		t.Errorf("sent %d, echoed %d, errors %d %+v (%q): want 2 sent, 2 lost", r.Sent, r.Echoed, r.Errors, r.ErrorCounts, r.FirstError)
	}
	if r.Histogram == nil || len(r.Histogram) != 0 {
		t.Errorf("histogram %v, want []", r.Histogram)
	}
}

// TestBenchConnectFailure: nothing listens: every socket is a connect
// error, reported with its cause, and the exit code is 1.
func TestBenchConnectFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // a port that was free a moment ago, and refuses now
	code, r := benchJSON(t, benchTestEnv(), "-n", "3", "-duration", "100ms", "ws://"+addr+"/")
	if code != 1 || r.Connected != 0 || r.ErrorCounts.Connect != 3 || !strings.Contains(r.FirstError, "refused") {
		t.Errorf("exit %d, connected %d, errors %+v (%q): want 3 connect errors, refused", code, r.Connected, r.ErrorCounts, r.FirstError)
	}
}

// cancelOnRun is a progress that interrupts the run (as SIGINT does) at
// its first report of sending.
type cancelOnRun struct {
	noProgress
	cancel context.CancelFunc
}

func (p cancelOnRun) running(time.Duration, time.Duration, float64, int64) { p.cancel() }

// TestBenchInterrupted: SIGINT while sending ends the run early and
// cleanly: the sockets wait for their echoes and close, and what was
// measured is reported.
func TestBenchInterrupted(t *testing.T) {
	url, _, _ := startServe(t)
	// The deadline is a safety net: the progress cancels first.
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	env := benchTestEnv()
	env.progress = func() progress { return cancelOnRun{cancel: cancel} }
	var out, errOut bytes.Buffer
	code := bench(ctx, []string{"--json", "-n", "3", "-duration", "1h", url}, &out, &errOut, env)
	var r benchReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v:\n%s\n%s", err, out.String(), errOut.String())
	}
	if code != 0 || !r.Interrupted || r.ElapsedS > 60 || r.Errors != 0 || r.Sent != r.Echoed || r.Sent == 0 {
		t.Errorf("exit %d, interrupted %t after %vs, errors %d, sent %d, echoed %d: want a clean early end",
			code, r.Interrupted, r.ElapsedS, r.Errors, r.Sent, r.Echoed)
	}
}

// TestBenchUsage: -h exits 0 with the usage; a command line that cannot
// run exits 2.
func TestBenchUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		say  string
	}{
		{[]string{"bench", "-h"}, 0, "usage: wsloop bench"},
		{[]string{"bench", "--help"}, 0, "--allow-remote"},
		{[]string{"bench"}, exitUsage, "usage: wsloop bench"},
		{[]string{"bench", "-nope", "ws://127.0.0.1/"}, exitUsage, "usage: wsloop bench"},
		{[]string{"bench", "-n", "0", "ws://127.0.0.1/"}, exitUsage, "at least one socket"},
		{[]string{"bench", "-rate", "-1", "ws://127.0.0.1/"}, exitUsage, "not negative"},
		{[]string{"bench", "-duration", "0s", "ws://127.0.0.1/"}, exitUsage, "more than zero"},
		{[]string{"bench", "http://[::1/"}, exitUsage, "not a URL"},
		{[]string{"-h"}, 0, "bench [-n 100]"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tc.args, strings.NewReader(""), &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.say) {
			t.Errorf("wsloop %q: exit code %d, want %d, and %q in:\n%s", tc.args, code, tc.code, tc.say, stderr.String())
		}
	}
}
