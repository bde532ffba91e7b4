package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/wsloop/websocket"
)

// idle-100k: more wsloop connections than one process may hold. The
// driver starts several server processes (each listening on every loopback
// address) and several copies of itself with -worker; each worker opens
// its share on one event loop, reports, holds them until the driver says
// close, and closes them.

type workerResult struct {
	Conns      int     `json:"conns"`
	ElapsedNs  int64   `json:"elapsed_ns"`
	CPUNs      int64   `json:"cpu_ns"`
	Mallocs    uint64  `json:"mallocs"`
	RSSPerConn float64 `json:"rss_per_conn"`
	GorPerConn float64 `json:"goroutines_per_conn"`
	RSS        int64   `json:"rss"`
	Goroutines int     `json:"goroutines"`
	Poller     string  `json:"poller"`
}

// runWorker is the worker process: it prints "RESULT {json}" once its
// connections are open, waits for a "close" line (or the end) of its
// standard input, closes them and prints "CLOSED".
func runWorker(urls []string, n int) int {
	limit, err := fdLimit()
	if err != nil || uint64(n+2*dialWindow+200) > limit {
		fmt.Printf("ERROR fd limit too low: %d connections need %d descriptors, the limit is %d\n", n, n+2*dialWindow+200, limit)
		return 1
	}
	_, err = wsloopIdle(urls, n, func(s sample) <-chan struct{} {
		r := workerResult{
			Conns: n, ElapsedNs: int64(s.elapsed), CPUNs: int64(s.cpu), Mallocs: s.mallocs,
			RSSPerConn: s.rssPerConn, GorPerConn: s.gorPerConn,
			RSS: rssBytes(), Goroutines: runtime.NumGoroutine(), Poller: pollerName(),
		}
		b, _ := json.Marshal(r)
		fmt.Printf("RESULT %s\n", b)
		release := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(os.Stdin)
			for sc.Scan() {
				if sc.Text() == "close" {
					break
				}
			}
			close(release)
		}()
		return release
	}, websocket.Config{})
	if err != nil {
		fmt.Printf("ERROR %v\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return 1
	}
	fmt.Println("CLOSED")
	return 0
}

type workerProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	result chan workerResult
	errc   chan error
	closed chan struct{}
	exit   chan struct{}
}

func startWorker(urls []string, n int) (*workerProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-worker", "-worker-conns", fmt.Sprint(n),
		"-worker-urls", strings.Join(urls, ","),
		"-dial-window", fmt.Sprint(dialWindow), "-timeout", phaseTimeout.String())
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childAttr()
	w := &workerProc{
		cmd:    cmd,
		result: make(chan workerResult, 1),
		errc:   make(chan error, 2),
		closed: make(chan struct{}),
		exit:   make(chan struct{}),
	}
	if w.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	track(cmd)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "RESULT "):
				var r workerResult
				if err := json.Unmarshal([]byte(line[len("RESULT "):]), &r); err != nil {
					w.errc <- fmt.Errorf("worker %d: %v", cmd.Process.Pid, err)
				} else {
					w.result <- r
				}
			case strings.HasPrefix(line, "ERROR "):
				w.errc <- fmt.Errorf("worker %d: %s", cmd.Process.Pid, line[len("ERROR "):])
			case line == "CLOSED":
				close(w.closed)
			default:
				fmt.Fprintf(os.Stderr, "worker %d: %s\n", cmd.Process.Pid, line)
			}
		}
		cmd.Wait()
		close(w.exit)
	}()
	return w, nil
}

func (w *workerProc) kill() {
	w.cmd.Process.Kill()
	<-w.exit
}

func runIdle100k(o options, bin string, limit uint64) error {
	total, procs, nsrv := o.k100Conns, o.k100Procs, o.k100Server
	if total < 1 || procs < 1 || nsrv < 1 {
		return fmt.Errorf("-k100-conns, -k100-procs and -k100-servers must be positive")
	}
	perProc := (total + procs - 1) / procs
	perSrv := (total + nsrv - 1) / nsrv
	if need := perProc + 2*dialWindow + 200; uint64(need) > limit {
		return fmt.Errorf("fd limit too low: %d connections per client process need %d descriptors, the limit is %d: raise -k100-procs", perProc, need, limit)
	}
	if need := perSrv + o.addrs + 200; uint64(need) > limit {
		return fmt.Errorf("fd limit too low: %d connections per server process need %d descriptors, the limit is %d: raise -k100-servers", perSrv, need, limit)
	}
	if per := total / (nsrv * o.addrs); per > ephemeralPorts()-1000 {
		return fmt.Errorf("%d connections per server address exceed the %d ephemeral ports: raise -addrs or -k100-servers", per, ephemeralPorts())
	}

	var servers []*serverProc
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	var urls []string
	for range nsrv {
		s, err := startServer(bin, loopbackAddrs(o.addrs))
		if err != nil {
			return err
		}
		servers = append(servers, s)
		for _, u := range s.urls {
			urls = append(urls, u+"/idle")
		}
	}
	title := fmt.Sprintf("idle-100k: %d wsloop connections from %d client processes (one loop each) to %d server processes × %d addresses", total, procs, nsrv, o.addrs)
	fmt.Fprintf(os.Stderr, "== %s\n", title)
	fmt.Printf("## %s\n\n", title)
	fmt.Println("| round | connections | wall time | handshakes/s (all processes) | client RSS | RSS/conn | goroutines/conn | CPU/handshake | allocs/handshake | server RSS |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

	failed := 0
	for r := 1; r <= o.rounds; r++ {
		time.Sleep(5 * o.pause)
		if err := idle100kRound(r, o, urls, total, procs, servers); err != nil {
			failed++
			fmt.Fprintf(os.Stderr, "idle-100k round %d FAILED: %v\n", r, err)
			fmt.Printf("| %d | failed: %v |||||||||\n", r, err)
		}
	}
	fmt.Println()
	if failed > 0 {
		return fmt.Errorf("%d rounds failed", failed)
	}
	return nil
}

func idle100kRound(round int, o options, urls []string, total, procs int, servers []*serverProc) error {
	start := time.Now()
	var workers []*workerProc
	defer func() {
		for _, w := range workers {
			select {
			case <-w.exit:
			case <-time.After(phaseTimeout):
				w.kill()
			}
		}
	}()
	left := total
	for i := range procs {
		n := left / (procs - i)
		left -= n
		// Rotate the list so that the workers do not all start on the
		// same server.
		k := i * len(urls) / procs
		rot := append(append([]string{}, urls[k:]...), urls[:k]...)
		w, err := startWorker(rot, n)
		if err != nil {
			for _, w := range workers {
				w.kill()
			}
			workers = nil
			return err
		}
		workers = append(workers, w)
	}

	limit := connectTimeout(total/procs)*2 + time.Minute
	type report struct {
		r   workerResult
		err error
	}
	reports := make(chan report, len(workers))
	for _, w := range workers {
		go func() {
			select {
			case r := <-w.result:
				reports <- report{r: r}
			case err := <-w.errc:
				reports <- report{err: err}
			case <-w.exit:
				select {
				case r := <-w.result:
					reports <- report{r: r}
				case err := <-w.errc:
					reports <- report{err: err}
				default:
					reports <- report{err: fmt.Errorf("worker %d exited before reporting", w.cmd.Process.Pid)}
				}
			}
		}()
	}
	var results []workerResult
	var firstErr error
	deadline := time.After(limit)
	for range workers {
		select {
		case rep := <-reports:
			if rep.err != nil {
				firstErr = keepFirst(firstErr, rep.err)
			} else {
				results = append(results, rep.r)
			}
		case <-deadline:
			firstErr = keepFirst(firstErr, timeoutErr("connect", limit))
		}
		if firstErr != nil {
			break
		}
	}
	wall := time.Since(start)
	if firstErr != nil {
		for _, w := range workers {
			w.kill()
		}
		return firstErr
	}

	var (
		conns              int
		cpu                time.Duration
		mallocs            uint64
		rss                int64
		rssDelta, gorDelta float64
		maxElapsed         time.Duration
	)
	for _, r := range results {
		conns += r.Conns
		cpu += time.Duration(r.CPUNs)
		mallocs += r.Mallocs
		rss += r.RSS
		rssDelta += r.RSSPerConn * float64(r.Conns)
		gorDelta += r.GorPerConn * float64(r.Conns)
		maxElapsed = max(maxElapsed, time.Duration(r.ElapsedNs))
	}
	var srvRSS int64
	for _, s := range servers {
		srvRSS += s.rss()
	}
	fmt.Fprintf(os.Stderr, "idle-100k round %d: %d connections open in %v (slowest worker %v), poller %s\n",
		round, conns, wall.Round(time.Millisecond), maxElapsed.Round(time.Millisecond), results[0].Poller)
	fmt.Printf("| %d | %s | %s | %s | %.0f MiB | %.1f KiB | %.3f | %s | %.1f | %.0f MiB |\n",
		round, group(fmt.Sprint(conns)), fmtDur(wall), fmtRate(float64(conns)/wall.Seconds()),
		float64(rss)/(1<<20), rssDelta/float64(conns)/1024, gorDelta/float64(conns),
		fmtDur(cpu/time.Duration(conns)), float64(mallocs)/float64(conns), float64(srvRSS)/(1<<20))

	// Hold on: tell every worker to close, and wait.
	for _, w := range workers {
		io.WriteString(w.stdin, "close\n")
	}
	closeLimit := time.After(2 * phaseTimeout)
	for _, w := range workers {
		select {
		case <-w.closed:
		case err := <-w.errc:
			return err
		case <-closeLimit:
			return timeoutErr("close", 2*phaseTimeout)
		}
	}
	return nil
}
