// Server is the peer the benchmark client talks to: a lean WebSocket server
// in a process of its own, so that the client's CPU time and memory are
// measured without it. It is built on gobwas/ws with one goroutine per
// connection and works frame by frame, never buffering a whole message.
//
//	server -listen 127.0.0.1:0,127.0.0.2:0
//
// It prints one "listening ws://ADDR" line per address, then "ready", and
// runs until its standard input ends (the driver closes the pipe, or dies)
// or it gets SIGINT/SIGTERM. Paths:
//
//	/echo            echo every data frame as it is (opcode, fin, payload)
//	/push?size=1024  push binary messages of that size as fast as the
//	                 client takes them, until the client sends a close frame;
//	                 with text=1, compressible text (bench/internal/payload),
//	                 a round of distinct messages of at least 64 KiB in turn;
//	                 with max=N, N of them or a few more, then none
//	/idle            accept, then only answer a close frame
//
// Under /deflate/ (/deflate/echo, /deflate/push, /deflate/idle) the server
// negotiates permessage-deflate (RFC 7692, with gobwas/ws's wsflate) when
// the client offers it, and then compresses every data message it sends
// (see deflate.go); elsewhere it accepts no extension. /deflate/echo and
// /deflate/idle echo whole messages, inflated and compressed again;
// /deflate/idle keeps no compressor between messages, for many
// connections that send one or two. Without a negotiated extension they
// echo plain. With stats=1 on any path, the server prints a line "stats
// PATH in_wire=... in_payload=... out_wire=... out_payload=... msgs=..."
// when the connection ends: the bytes on the wire after the handshake and
// in the data messages (inflated), each way.
//
// Every path answers a ping with a pong and a close frame with the same
// code, then closes TCP. The soft fd limit is raised to the hard limit.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"

	"github.com/wsloop/websocket/bench/internal/payload"
)

var (
	active   atomic.Int64
	accepted atomic.Int64
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "comma-separated addresses to listen on")
	quiet := flag.Bool("quiet", false, "do not log connection errors")
	flag.Parse()

	limit, err := raiseFDLimit()
	if err != nil {
		fmt.Fprintln(os.Stderr, "server: raising the fd limit:", err)
	}

	var lns []net.Listener
	for _, a := range strings.Split(*listen, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		ln, err := net.Listen("tcp", a)
		if err != nil {
			fmt.Fprintln(os.Stderr, "server:", err)
			os.Exit(1)
		}
		lns = append(lns, ln)
	}
	if len(lns) == 0 {
		fmt.Fprintln(os.Stderr, "server: no address to listen on")
		os.Exit(2)
	}
	for _, ln := range lns {
		fmt.Printf("listening ws://%s\n", ln.Addr())
	}
	fmt.Printf("fdlimit %d\n", limit)
	fmt.Println("ready")

	for _, ln := range lns {
		go acceptLoop(ln, *quiet)
	}

	// Stop when the driver closes our standard input (or dies), or on a
	// signal: a server left behind would hold ports and memory.
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-done:
	case <-sig:
	}
	for _, ln := range lns {
		ln.Close()
	}
}

// raiseFDLimit raises the soft limit on open files to the hard limit and
// returns it.
func raiseFDLimit() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return rl.Cur, err
		}
	}
	return rl.Cur, nil
}

func acceptLoop(ln net.Listener, quiet bool) {
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors, most likely: say so and back off
			// rather than spin.
			if delay == 0 {
				fmt.Fprintf(os.Stderr, "server: accept: %v (active %d)\n", err, active.Load())
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			time.Sleep(delay)
			continue
		}
		delay = 0
		go serve(c, quiet)
	}
}

func serve(c net.Conn, quiet bool) {
	active.Add(1)
	accepted.Add(1)
	defer active.Add(-1)
	defer c.Close()

	var (
		uri string
		zn  *zNegotiation // on the /deflate/ paths
	)
	u := ws.Upgrader{
		OnRequest: func(b []byte) error {
			uri = string(b)
			if strings.HasPrefix(uri, deflatePrefix) {
				zn = new(zNegotiation)
			}
			return nil
		},
		Negotiate: func(opt httphead.Option) (httphead.Option, error) {
			if zn == nil {
				return httphead.Option{}, nil
			}
			return zn.negotiate(opt)
		},
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := u.Upgrade(c); err != nil {
		logf(quiet, "upgrade: %v", err)
		return
	}
	c.SetDeadline(time.Time{})

	path, query, _ := strings.Cut(uri, "?")
	q, _ := url.ParseQuery(query)
	var st *connStats
	if q.Get("stats") == "1" {
		st = new(connStats)
		c = &countConn{Conn: c, st: st}
		defer func() { fmt.Printf("stats %s %v\n", path, st) }()
	}
	var z *zconn
	if zn != nil && zn.ok {
		z = newZconn(zn.params, path != deflatePrefix+"idle")
	}
	var err error
	switch path {
	case "/echo":
		err = echo(c, st)
	case "/push", deflatePrefix + "push":
		size := 1024
		if v := q.Get("size"); v != "" {
			if n, aerr := strconv.Atoi(v); aerr == nil && n >= 0 && n <= maxMessage {
				size = n
			}
		}
		limit, _ := strconv.ParseInt(q.Get("max"), 10, 64)
		err = push(c, size, q.Get("text") == "1", limit, z, st)
	case "/idle":
		err = idle(c)
	case deflatePrefix + "echo", deflatePrefix + "idle":
		err = zecho(c, z, st)
	default:
		writeClose(c, 1008, "unknown path")
		return
	}
	if err != nil && !quietErr(err) {
		logf(quiet, "%s: %v", path, err)
	}
}

func logf(quiet bool, format string, args ...any) {
	if !quiet {
		fmt.Fprintf(os.Stderr, "server: "+format+"\n", args...)
	}
}

// quietErr reports the ends of a connection that are normal in a
// benchmark: the client went away.
func quietErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}

const chunk = 32 << 10

// echo sends every data frame back as it came, payload unmasked, streamed
// through one chunk-sized buffer. Output is flushed whenever no more input
// is buffered, so pipelined frames leave in one write. st, when not nil,
// counts the payload.
func echo(c net.Conn, st *connStats) error {
	br := bufio.NewReaderSize(c, 8<<10)
	bw := bufio.NewWriterSize(c, 8<<10)
	var hb [ws.MaxHeaderSize - 2]byte
	var buf []byte
	for {
		if br.Buffered() == 0 && bw.Buffered() > 0 {
			if err := bw.Flush(); err != nil {
				return err
			}
		}
		h, err := ws.ReadHeaderBuffer(br, hb[:2])
		if err != nil {
			return err
		}
		if h.OpCode.IsControl() {
			if done, err := control(c, br, bw, h); done || err != nil {
				return err
			}
			continue
		}
		if st != nil {
			st.inPayload.Add(h.Length)
			st.outPayload.Add(h.Length)
			if h.Fin {
				st.msgs.Add(1)
			}
		}
		mask := h.Mask
		h.Masked = false
		h.Mask = [4]byte{}
		if err := ws.WriteHeader(bw, h); err != nil {
			return err
		}
		if buf == nil {
			buf = make([]byte, chunk)
		}
		for off := int64(0); off < h.Length; {
			n := min(h.Length-off, chunk)
			p := buf[:n]
			if _, err := io.ReadFull(br, p); err != nil {
				return err
			}
			ws.Cipher(p, mask, int(off))
			if _, err := bw.Write(p); err != nil {
				return err
			}
			off += n
		}
	}
}

// control handles a control frame on a connection whose writes are
// serialised by the caller; done reports a close.
func control(c net.Conn, br io.Reader, bw *bufio.Writer, h ws.Header) (done bool, err error) {
	if h.Length > 125 {
		writeClose(c, 1002, "control frame too long")
		return true, nil
	}
	var b [125]byte
	p := b[:h.Length]
	if _, err := io.ReadFull(br, p); err != nil {
		return true, err
	}
	ws.Cipher(p, h.Mask, 0)
	switch h.OpCode {
	case ws.OpPing:
		if err := ws.WriteFrame(bw, ws.NewPongFrame(p)); err != nil {
			return true, err
		}
	case ws.OpClose:
		code := uint16(1000)
		if len(p) >= 2 {
			code = binary.BigEndian.Uint16(p)
		}
		bw.Flush()
		writeClose(c, code, "")
		return true, nil
	}
	return false, nil
}

func writeClose(c net.Conn, code uint16, reason string) {
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	ws.WriteFrame(c, ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusCode(code), reason)))
	// Closing first leaves TIME_WAIT here rather than on the client's
	// ephemeral ports.
}

// push writes size-byte binary messages as fast as the connection takes
// them, in batches of about 64 KiB, while the connection's goroutine reads
// and answers control frames. A close frame stops the pushing; the close
// is answered once the writer has stopped. The messages are zeros, or with
// text a round of distinct compressible texts sent in turn; compressed
// when z is not nil (see pushBatches). With limit > 0 the writer stops
// after that many messages or a few more (whole batches).
func push(c net.Conn, size int, text bool, limit int64, z *zconn, st *connStats) error {
	msgs := [][]byte{make([]byte, size)}
	if text {
		// A round long enough that a message's last copy is out of a
		// 32 KiB window: the context helps as the keys and words repeat,
		// not because the very message was just sent.
		k := min(max((64<<10+size-1)/max(size, 1), 2), 1024)
		msgs = make([][]byte, k)
		for i := range msgs {
			msgs[i] = payload.Text(size, uint64(i+1))
		}
	}
	first, batch, firstPayload, batchPayload, err := pushBatches(msgs, z)
	if err != nil {
		return err
	}

	var (
		mu   sync.Mutex // serialises whole writes to c
		stop atomic.Bool
		done = make(chan error, 1)
	)
	perBatch := batchPayload / int64(max(size, 1))
	go func() {
		sent := int64(0)
		if first != nil {
			mu.Lock()
			_, err := c.Write(first)
			mu.Unlock()
			if err != nil {
				done <- err
				return
			}
			if st != nil {
				st.outPayload.Add(firstPayload)
				st.msgs.Add(int64(len(msgs)))
			}
			sent += int64(len(msgs))
		}
		for !stop.Load() && (limit <= 0 || sent < limit) {
			mu.Lock()
			_, err := c.Write(batch)
			mu.Unlock()
			if err != nil {
				done <- err
				return
			}
			if st != nil {
				st.outPayload.Add(batchPayload)
				st.msgs.Add(perBatch)
			}
			sent += perBatch
		}
		done <- nil
	}()

	br := bufio.NewReaderSize(c, 512)
	var hb [ws.MaxHeaderSize - 2]byte
	for {
		h, err := ws.ReadHeaderBuffer(br, hb[:2])
		if err != nil {
			stop.Store(true)
			c.Close()
			<-done
			return err
		}
		if !h.OpCode.IsControl() {
			if _, err := io.CopyN(io.Discard, br, h.Length); err != nil {
				stop.Store(true)
				c.Close()
				<-done
				return err
			}
			continue
		}
		if h.OpCode == ws.OpClose {
			stop.Store(true)
			// The writer ends after the batch it is writing; a client
			// that stopped reading is cut off by the deadline.
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			werr := <-done
			var cb [125]byte
			p := cb[:min(h.Length, 125)]
			io.ReadFull(br, p)
			ws.Cipher(p, h.Mask, 0)
			code := uint16(1000)
			if len(p) >= 2 {
				code = binary.BigEndian.Uint16(p)
			}
			if werr == nil {
				writeClose(c, code, "")
			}
			return nil
		}
		mu.Lock()
		bw := bufio.NewWriterSize(c, 256)
		_, err = control(c, br, bw, h)
		if err == nil {
			err = bw.Flush()
		}
		mu.Unlock()
		if err != nil {
			stop.Store(true)
			c.Close()
			<-done
			return err
		}
	}
}

// idle holds the connection with nothing but its goroutine, blocked in a
// read that only a close frame (or the end of TCP) ends.
func idle(c net.Conn) error {
	var hb [ws.MaxHeaderSize - 2]byte
	for {
		h, err := ws.ReadHeaderBuffer(c, hb[:2])
		if err != nil {
			return err
		}
		if h.OpCode.IsControl() {
			bw := bufio.NewWriterSize(c, 256)
			done, err := control(c, c, bw, h)
			if err == nil {
				err = bw.Flush()
			}
			if done || err != nil {
				return err
			}
			continue
		}
		if _, err := io.CopyN(io.Discard, c, h.Length); err != nil {
			return err
		}
	}
}
