// Client is the benchmark driver: it starts the server (bench/cmd/server)
// in a process of its own, then runs each scenario with each client
// library, alternating them round by round (A B C D E A B C D E ...) so
// that drift of the machine hits all alike, and prints a Markdown table per
// scenario with the medians. See bench/README.md.
//
//	cd bench && go run ./cmd/client -scenario rt -rounds 3
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/wsloop/websocket/internal/poll"
)

// library is one client library under test; each function is one run of a
// scenario and measures its own phase with a meter.
type library struct {
	name string
	// echo sends msg and waits for its echo, again and again, for d.
	echo func(url string, msg []byte, binary bool, d time.Duration) (sample, error)
	// recv counts the messages the server pushes, for d.
	recv func(url string, d time.Duration) (sample, error)
	// fan opens n connections, then runs rounds round trips on each.
	fan func(urls []string, n, rounds int, msg []byte) (sample, error)
	// idle opens n connections and measures what holding them costs.
	idle func(urls []string, n int) (sample, error)
	// burst sends k copies of msg (text) in one go, waits for their k
	// echoes, and again, for d; an operation is one message.
	burst func(url string, msg []byte, k int, d time.Duration) (sample, error)
	// deflate: the library with permessage-deflate on, against the
	// server's /deflate/ paths; it runs only bulk and recv (deflate.go).
	deflate bool
}

var allLibs = []library{wsloopLib, gorillaLib, coderLib, gobwasLib, gwsLib, wsloopPortableLib, wsloopKeepLib, wsloopKALib, wsloopBlockingLib,
	wsloopDeflateLib, wsloopDeflateNCTLib, gorillaDeflateLib, coderDeflateLib, gobwasDeflateLib, gwsDeflateLib}

// Set from the flags.
var (
	dialWindow       = 128
	phaseTimeout     = 30 * time.Second
	handshakeTimeout = 30 * time.Second
	// serverCPUs, when set, is the CPU list (taskset -c) the servers run
	// on; run the driver itself under taskset on the others, so that
	// client and server never share a core.
	serverCPUs string
)

// connectTimeout bounds opening n connections.
func connectTimeout(n int) time.Duration {
	return phaseTimeout + time.Duration(n)*5*time.Millisecond
}

type options struct {
	scenarios  string
	libs       string
	rounds     int
	duration   time.Duration
	rtSize     int
	bulkSize   int
	pushSize   int
	fanConns   int
	fanRounds  int
	fanSize    int
	idleConns  int
	burstCount int
	burstSize  int
	addrs      int
	serverBin  string
	k100Conns  int
	k100Procs  int
	k100Server int
	pause      time.Duration

	kaInterval    time.Duration
	kaWindow      time.Duration
	kaPongTimeout time.Duration

	compress    bool
	idleMsgSize int

	// The server-side scenarios (server-idle, server-echo).
	serversBin string
	echoConns  int
	echoSizes  string
}

// text reports whether bulk and recv send compressible text (and ask the
// server for its byte counts): with -compress, or when -libs names a
// -deflate library.
func (o options) text(libs []library) bool {
	if o.compress {
		return true
	}
	for _, l := range libs {
		if l.deflate {
			return true
		}
	}
	return false
}

func main() {
	var o options
	flag.StringVar(&o.scenarios, "scenario", "all", "comma-separated scenarios: rt, bulk, recv, fan, idle, burst, idle-100k, idle-keepalive, idle-deflate, server-idle, server-echo; all = every one but idle-100k, idle-keepalive, idle-deflate and the server-side ones; server = server-idle,server-echo")
	flag.StringVar(&o.libs, "libs", "wsloop,gorilla,coder,gobwas,gws", "comma-separated libraries, in the order they alternate; wsloop-portable (wsloop on the portable poller), wsloop-keep (wsloop not releasing messages), wsloop-ka (wsloop with keepalive armed) and wsloop-blocking (wsloop's blocking API) can be added, and the -deflate variants (wsloop-deflate, wsloop-deflate-nct, gorilla-deflate, coder-deflate, gobwas-deflate, gws-deflate), which run bulk and recv only")
	flag.BoolVar(&o.compress, "compress", false, "bulk, recv: after each library of -libs, run it with permessage-deflate on (its -deflate variants) against the server's /deflate/ paths; every library then sends and receives compressible text (JSON lines), and the tables add the extension negotiated and the server's count of wire bytes per payload byte each way")
	flag.IntVar(&o.idleMsgSize, "idle-msg-size", 1024, "idle-deflate, server-idle: size of the one compressible text message each socket sends and gets back")
	flag.StringVar(&o.serversBin, "servers-bin", "", "server-idle, server-echo: prebuilt servers under test (default: go build bench/cmd/servers)")
	flag.IntVar(&o.echoConns, "echo-conns", 100, "server-echo: connections, each with one message in flight")
	flag.StringVar(&o.echoSizes, "echo-sizes", "1024,32", "server-echo: comma-separated text message sizes, a table each")
	flag.IntVar(&loadLoops, "load-loops", loadLoops, "server-idle, server-echo: event loops the wsloop load client spreads its sockets over (default GOMAXPROCS)")
	flag.IntVar(&o.rounds, "rounds", 5, "rounds: each library runs once per round")
	flag.DurationVar(&o.duration, "duration", 2*time.Second, "length of one run of rt, bulk, recv and burst")
	flag.IntVar(&o.rtSize, "rt-size", 32, "rt: text message size in bytes")
	flag.IntVar(&o.bulkSize, "bulk-size", 1<<20, "bulk: binary message size in bytes")
	flag.IntVar(&o.pushSize, "push-size", 1024, "recv: size of the messages the server pushes")
	flag.IntVar(&o.fanConns, "fan-conns", 1000, "fan: connections")
	flag.IntVar(&o.fanRounds, "fan-rounds", 100, "fan: round trips per connection")
	flag.IntVar(&o.fanSize, "fan-size", 64, "fan: text message size in bytes")
	flag.IntVar(&fanLoops, "fan-loops", fanLoops, "fan: event loops wsloop spreads the connections over (default GOMAXPROCS)")
	flag.IntVar(&o.idleConns, "idle-conns", 0, "idle, idle-keepalive: connections (0: as many as the fd limit allows, at most 19000); idle-deflate, server-idle: (0: 10000)")
	flag.DurationVar(&o.kaInterval, "ka-interval", 30*time.Second, "idle-keepalive: PingInterval")
	flag.DurationVar(&o.kaWindow, "ka-window", 0, "idle-keepalive: how long the CPU time, pings and pongs are measured once every connection is open (0: twice -ka-interval)")
	flag.DurationVar(&o.kaPongTimeout, "ka-pong-timeout", 0, "idle-keepalive: PongTimeout (0: -ka-interval, the library's default)")
	flag.IntVar(&o.burstCount, "burst-n", 64, "burst: messages sent in one go before their echoes are awaited")
	flag.IntVar(&o.burstSize, "burst-size", 32, "burst: text message size in bytes")
	flag.StringVar(&serverCPUs, "server-cpus", "", "run the servers on these CPUs only (a taskset -c list, such as 1); start the driver under taskset on the other CPUs (taskset -c 0 go run ./cmd/client -server-cpus 1) so that client and server never share a core")
	flag.IntVar(&o.addrs, "addrs", 8, "loopback addresses the server listens on: 127.0.0.1 to 127.0.0.N")
	flag.StringVar(&o.serverBin, "server-bin", "", "prebuilt server binary (default: go build bench/cmd/server)")
	flag.IntVar(&o.k100Conns, "k100-conns", 100000, "idle-100k: connections in total")
	flag.IntVar(&o.k100Procs, "k100-procs", 6, "idle-100k: client processes")
	flag.IntVar(&o.k100Server, "k100-servers", 6, "idle-100k: server processes")
	flag.DurationVar(&o.pause, "pause", 200*time.Millisecond, "pause between two runs (idle: 5x)")
	flag.IntVar(&dialWindow, "dial-window", dialWindow, "connections opened at once (fan, idle)")
	flag.DurationVar(&phaseTimeout, "timeout", phaseTimeout, "base time-out of each phase of a run")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (all libraries) to this file; use it with one library in -libs")
	countWrites := flag.Bool("count-writes", false, "add a writes/op column: the client's write, writev, sendto and sendmsg system calls (and kin) per operation, counted on the kernel's sys_enter tracepoint (needs root or CAP_PERFMON and tracefs; slows every system call on the machine a little while on)")
	worker := flag.Bool("worker", false, "internal: run as an idle-100k client process")
	workerConns := flag.Int("worker-conns", 0, "internal: connections of this worker")
	workerURLs := flag.String("worker-urls", "", "internal: comma-separated server URLs of this worker")
	flag.Parse()

	if *worker {
		os.Exit(runWorker(strings.Split(*workerURLs, ","), *workerConns))
	}
	if *countWrites {
		c, err := openWriteCounter()
		if err != nil {
			fmt.Fprintln(os.Stderr, "client: -count-writes:", err)
			os.Exit(1)
		}
		writeCounter = c
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "client:", err)
			os.Exit(1)
		}
		defer stop()
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1) //nolint:gocritic // the profile of a failed run is of no use
	}
}

// pollerName is the type poll.New gives on this machine, which every new
// wsloop EventLoop takes, and what WSLOOP_POLLER says.
func pollerName() string {
	env, set := os.LookupEnv("WSLOOP_POLLER")
	if !set {
		env = "unset"
	} else {
		env = fmt.Sprintf("%q", env)
	}
	p, err := poll.New()
	if err != nil {
		return fmt.Sprintf("error (%v), so *poll.Portable (WSLOOP_POLLER %s)", err, env)
	}
	defer p.Close()
	return fmt.Sprintf("%T (WSLOOP_POLLER %s)", p, env)
}

func run(o options) error {
	scen, err := parseScenarios(o.scenarios)
	if err != nil {
		return err
	}
	libs, err := parseLibs(o.libs)
	if err != nil {
		return err
	}
	if o.compress {
		libs = withDeflateVariants(libs)
	}
	if o.rounds < 1 {
		return fmt.Errorf("-rounds must be at least 1")
	}
	if o.addrs < 1 || o.addrs > 254 {
		return fmt.Errorf("-addrs must be 1 to 254")
	}

	limit, err := fdLimit()
	if err != nil {
		return fmt.Errorf("fd limit: %w", err)
	}
	if limit < 2000 {
		return fmt.Errorf("fd limit too low: soft limit raised to the hard limit is %d; the benchmarks need at least 2000 (the fan scenario alone opens %d connections): raise it with ulimit -Hn", limit, o.fanConns)
	}

	// The server-side scenarios start servers of their own.
	bin, cleanup := "", func() {}
	if !allServerSide(scen) {
		if bin, cleanup, err = buildServer(o.serverBin); err != nil {
			return err
		}
	}
	defer cleanup()

	// An interrupt must not leave servers or workers behind.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "client: %v: stopping the child processes\n", s)
		killChildren()
		cleanup()
		os.Exit(130)
	}()

	printHeader(o, limit)
	failed := false
	for _, name := range scen {
		var err error
		switch name {
		case "idle-100k":
			err = runIdle100k(o, bin, limit)
		case "idle-keepalive":
			err = runIdleKeepalive(o, libs, bin, limit)
		case "idle-deflate":
			err = runIdleDeflate(o, libs, bin, limit)
		case "server-idle":
			err = runServerIdle(o, libs, limit)
		case "server-echo":
			err = runServerEcho(o, libs, limit)
		default:
			err = runScenario(o, name, libs, bin, limit)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "client: %s: %v\n", name, err)
			failed = true
		}
	}
	if failed {
		return fmt.Errorf("some runs failed (see above)")
	}
	return nil
}

func parseScenarios(s string) ([]string, error) {
	valid := []string{"rt", "bulk", "recv", "fan", "idle", "burst", "idle-100k", "idle-keepalive", "idle-deflate", "server-idle", "server-echo"}
	const optional = 5 // the last ones, run only when named
	var out []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
		case name == "all":
			out = append(out, valid[:len(valid)-optional]...)
		case name == "server":
			out = append(out, "server-idle", "server-echo")
		case contains(valid, name):
			out = append(out, name)
		default:
			return nil, fmt.Errorf("unknown scenario %q (have %s, all)", name, strings.Join(valid, ", "))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scenario given")
	}
	return out, nil
}

func parseLibs(s string) ([]library, error) {
	var out []library
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		found := false
		for _, l := range allLibs {
			if l.name == name {
				out = append(out, l)
				found = true
			}
		}
		if !found {
			var have []string
			for _, l := range allLibs {
				have = append(have, l.name)
			}
			return nil, fmt.Errorf("unknown library %q (have %s)", name, strings.Join(have, ", "))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no library given")
	}
	return out, nil
}

// withDeflateVariants puts after each library its -deflate variants
// (-compress), unless -libs names them already.
func withDeflateVariants(libs []library) []library {
	named := make(map[string]bool)
	for _, l := range libs {
		named[l.name] = true
	}
	var out []library
	for _, l := range libs {
		out = append(out, l)
		for _, v := range deflateVariants[l.name] {
			if !named[v.name] {
				out = append(out, v)
				named[v.name] = true
			}
		}
	}
	return out
}

// allServerSide reports whether every scenario is a server-side one,
// which needs no bench/cmd/server.
func allServerSide(scen []string) bool {
	for _, s := range scen {
		if !strings.HasPrefix(s, "server-") {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func printHeader(o options, limit uint64) {
	host, _ := os.Hostname()
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Printf("# wsloop client benchmarks\n\n")
	fmt.Printf("- date: %s, host %s, kernel %s\n", time.Now().Format("2006-01-02 15:04"), host, strings.TrimSpace(string(kernel)))
	fmt.Printf("- %s, GOMAXPROCS %d, %d CPUs, fd limit %d\n", runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU(), limit)
	if serverCPUs != "" {
		fmt.Printf("- pinned: this client on CPUs %s, the servers on CPUs %s (-server-cpus)\n", ownCPUs(), serverCPUs)
	}
	fmt.Printf("- wsloop: %s; poller: %s\n", libraryVersion(), pollerName())
	if strings.Contains(o.libs, "wsloop-portable") {
		restore := portable()
		fmt.Printf("- wsloop-portable poller: %s\n", pollerName())
		restore()
	}
	scen, _ := parseScenarios(o.scenarios)
	if !allServerSide(scen) {
		fmt.Printf("- server: bench/cmd/server (gobwas/ws, a goroutine per connection) in its own process, on 127.0.0.1-127.0.0.%d\n", o.addrs)
	}
	if slices.ContainsFunc(scen, func(s string) bool { return strings.HasPrefix(s, "server-") }) {
		fmt.Printf("- server-side scenarios: the servers under test are bench/cmd/servers -lib X, a process per run, on 127.0.0.1-127.0.0.%d; the load is this process, wsloop on %d loops\n", o.addrs, loadLoops)
	}
	order := o.libs
	if libs, err := parseLibs(o.libs); err == nil && o.compress {
		var names []string
		for _, l := range withDeflateVariants(libs) {
			names = append(names, l.name)
		}
		order = strings.Join(names, ",")
	}
	fmt.Printf("- %d rounds, libraries alternating in the order %s; medians over the rounds\n\n", o.rounds, order)
}

// libraryVersion names the library's commit, and says whether the work
// tree differs from it (outside bench/), when git can tell.
func libraryVersion() string {
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "commit unknown"
	}
	dir := strings.TrimSpace(string(top))
	head, err := exec.Command("git", "-C", dir, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "commit unknown"
	}
	v := "commit " + strings.TrimSpace(string(head))
	st, err := exec.Command("git", "-C", dir, "status", "--porcelain", "--", ".", ":(exclude)bench").Output()
	if err == nil && len(bytes.TrimSpace(st)) > 0 {
		v += " with uncommitted changes"
	}
	return v
}
