package websocket_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/wsloop/websocket"
)

// An Upgrader's fields: the origins whose pages may connect, and here a
// SelectProtocol that prefers the newest version the client offers.
func ExampleUpgrader() {
	up := &websocket.Upgrader{
		AllowedOrigins: []string{"https://app.example.org"},
		SelectProtocol: func(r *http.Request, offered []string) string {
			for _, p := range []string{"chat.v3", "chat.v2", "chat.v1"} {
				if slices.Contains(offered, p) {
					return p
				}
			}
			return "" // none: the client fails the connection, as a browser does
		},
	}
	srv := httptest.NewServer(up.Handler(func(*websocket.WebSocket, *http.Request) {}))
	defer srv.Close()

	ctx := context.Background()
	ws, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.Config{
		Origin:    "https://app.example.org",
		Protocols: []string{"chat.v1", "chat.v2"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ws.Protocol())
	ws.Close()
	up.Shutdown(ctx)
	// Output:
	// chat.v2
}

// Check finds a misconfigured Upgrader at once, rather than at its first
// request (which would get a 500).
func ExampleUpgrader_Check() {
	up := &websocket.Upgrader{
		Compression: &websocket.Compression{ServerNoContextTakeover: true}, // the client's to ask
	}
	var ce *websocket.ConfigError
	if err := up.Check(); errors.As(err, &ce) {
		fmt.Println(ce.Field)
	}
	// Output:
	// Compression
}

// Shutdown closes every socket the Upgrader made with 1001 and waits for
// their closing handshakes; a request that comes after gets 503.
func ExampleUpgrader_Shutdown() {
	up := &websocket.Upgrader{}
	srv := httptest.NewServer(up.Handler(func(*websocket.WebSocket, *http.Request) {}))
	defer srv.Close()

	ctx := context.Background()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	ws, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		log.Fatal(err)
	}
	// After http.Server.Shutdown, in a real server: net/http does not
	// know the hijacked connections.
	fmt.Println("shutdown:", up.Shutdown(ctx))
	_, err = ws.WaitForNextMessage(ctx)
	fmt.Println(err)

	_, err = websocket.Dial(ctx, url, nil)
	var he *websocket.HandshakeError
	if errors.As(err, &he) {
		fmt.Println("then:", he.StatusCode)
	}
	// Output:
	// shutdown: <nil>
	// websocket: closed (code 1001, reason "going away", clean true)
	// then: 503
}

// Broadcast sends one binary message to many sockets without waiting for
// any: a socket whose backlog would pass its MaxBufferedAmount is skipped
// and named. Here the second broadcast is made in the same task as the
// first, so the first is still held.
func ExampleBroadcast() {
	loop := websocket.NewEventLoop()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go loop.RunContext(ctx)

	up := &websocket.Upgrader{Loop: loop, MaxBufferedAmount: 1000}
	joined := make(chan struct{}, 2)
	srv := httptest.NewServer(up.Handler(func(*websocket.WebSocket, *http.Request) { joined <- struct{}{} }))
	defer srv.Close()

	var clients []*websocket.WebSocket
	for range 2 {
		ws, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			log.Fatal(err)
		}
		clients = append(clients, ws)
		<-joined
	}
	done := make(chan struct{})
	loop.Post(func() {
		fmt.Println("first, skipped:", len(websocket.Broadcast(loop.Sockets(), make([]byte, 800))))
		for _, s := range websocket.Broadcast(loop.Sockets(), make([]byte, 800)) {
			fmt.Println("second, skipped:", s.Err)
		}
		close(done)
	})
	<-done
	for _, ws := range clients {
		m, _ := ws.WaitForNextMessage(ctx)
		fmt.Println("received", len(m.Data), "bytes")
	}
	up.Shutdown(ctx)
	// Output:
	// first, skipped: 0
	// second, skipped: websocket: send buffer full: BufferedAmount would pass Config.MaxBufferedAmount
	// second, skipped: websocket: send buffer full: BufferedAmount would pass Config.MaxBufferedAmount
	// received 800 bytes
	// received 800 bytes
}

// Skipped names a socket a broadcast did not send to, and why: here one
// still connecting.
func ExampleSkipped() {
	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig("ws://127.0.0.1:1/", &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range websocket.BroadcastText([]*websocket.WebSocket{ws}, "news") {
		fmt.Println(s.Socket == ws, s.Err)
	}
	ws.Close()
	loop.Run()
	// Output:
	// true websocket: InvalidStateError: the socket is still connecting
}

// Stats runs over a socket's whole life: here two connections of a
// socket that reconnects.
func ExampleStats() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{
		Loop:      loop,
		Reconnect: &websocket.ReconnectPolicy{InitialDelay: 10 * time.Millisecond},
	})
	if err != nil {
		log.Fatal(err)
	}
	opens := 0
	ws.OnOpen = func(websocket.OpenEvent) {
		if opens++; opens == 1 {
			ws.SendText("!close 1012 restarting") // a message out; the server goes
		} else {
			ws.SendText("hello") // a message out, its echo in
		}
	}
	ws.OnMessage = func(websocket.MessageEvent) { ws.Close() }
	loop.Run()
	s := ws.Stats()
	fmt.Println("messages in:", s.MessagesIn, "out:", s.MessagesOut)
	// Output:
	// messages in: 1 out: 2
}

// A CookieFile is an http.CookieJar kept in curl's cookie-file format,
// written on each change.
func ExampleCookieFile() {
	dir, cleanup := tempDir()
	defer cleanup()
	path := filepath.Join(dir, "cookies.txt")

	jar, err := websocket.OpenCookieFile(path)
	if err != nil {
		log.Fatal(err)
	}
	u, _ := url.Parse("https://example.org/")
	jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: "abc123"}})
	b, _ := os.ReadFile(path)
	for l := range strings.Lines(string(b)) {
		if !strings.HasPrefix(l, "#") && strings.TrimSpace(l) != "" {
			fmt.Printf("%q\n", l) // what curl -b reads
		}
	}
	// Output:
	// "example.org\tFALSE\t/\tFALSE\t0\tsession\tabc123\n"
}

// Cookies are the cookies a request to the URL carries, longest path
// first; a wss:// URL is matched as https://.
func ExampleCookieFile_Cookies() {
	dir, cleanup := tempDir()
	defer cleanup()
	jar, err := websocket.OpenCookieFile(filepath.Join(dir, "cookies.txt"))
	if err != nil {
		log.Fatal(err)
	}
	site, _ := url.Parse("https://example.org/")
	jar.SetCookies(site, []*http.Cookie{
		{Name: "all", Value: "1", Path: "/"},
		{Name: "chat", Value: "2", Path: "/chat"},
		{Name: "tls", Value: "3", Path: "/", Secure: true},
	})
	for _, raw := range []string{"https://example.org/chat/room", "http://example.org/"} {
		u, _ := url.Parse(raw)
		var names []string
		for _, c := range jar.Cookies(u) {
			names = append(names, c.Name)
		}
		fmt.Println(raw, names)
	}
	// Output:
	// https://example.org/chat/room [chat all tls]
	// http://example.org/ [all]
}

// SetCookies stores what a response set, as a browser does: a cookie
// with Max-Age zero or less deletes its namesake.
func ExampleCookieFile_SetCookies() {
	dir, cleanup := tempDir()
	defer cleanup()
	jar, err := websocket.OpenCookieFile(filepath.Join(dir, "cookies.txt"))
	if err != nil {
		log.Fatal(err)
	}
	u, _ := url.Parse("https://example.org/")
	jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: "abc123"}})
	fmt.Println(len(jar.Cookies(u)))
	jar.SetCookies(u, []*http.Cookie{{Name: "session", MaxAge: -1}}) // "Max-Age=0" on the wire: a logout
	fmt.Println(len(jar.Cookies(u)))
	// Output:
	// 1
	// 0
}

// Err reports a write of the file that failed: SetCookies, called by the
// handshake, has no error to return.
func ExampleCookieFile_Err() {
	dir, cleanup := tempDir()
	defer cleanup()
	jar, err := websocket.OpenCookieFile(filepath.Join(dir, "gone", "cookies.txt"))
	if err != nil {
		log.Fatal(err)
	}
	u, _ := url.Parse("https://example.org/")
	jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: "abc123"}})
	fmt.Println("write failed:", jar.Err() != nil)
	fmt.Println("still kept in memory:", len(jar.Cookies(u)))
	// Output:
	// write failed: true
	// still kept in memory: 1
}

// A MessageReader reads one message as it arrives: here a text message
// of lines, with bufio.Scanner.
func ExampleMessageReader() {
	srv := startEcho()
	defer srv.Close()

	ctx := context.Background()
	ws, err := websocket.Dial(ctx, srv.URL(), &websocket.Config{StreamMessages: true})
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	ws.SendText("first line\nsecond line\n")
	r, err := ws.NextReader(ctx)
	if err != nil {
		log.Fatal(err)
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fmt.Printf("binary=%t %q\n", r.Binary, sc.Text())
	}
	// Output:
	// binary=false "first line"
	// binary=false "second line"
}

// Read returns the message's bytes as they come, then io.EOF at its end.
func ExampleMessageReader_Read() {
	srv := startEcho()
	defer srv.Close()

	ctx := context.Background()
	ws, err := websocket.Dial(ctx, srv.URL(), &websocket.Config{StreamMessages: true})
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	ws.Send(make([]byte, 300_000))
	r, err := ws.NextReader(ctx)
	if err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	total := 0
	for {
		n, err := r.Read(buf)
		total += n
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(total, "bytes, then io.EOF")
	// Output:
	// 300000 bytes, then io.EOF
}

// A MessageWriter is an io.Writer of one message: here fmt.Fprintf in
// pieces, sent as frames of one text message.
func ExampleMessageWriter() {
	srv := startEcho()
	defer srv.Close()

	ctx := context.Background()
	ws, err := websocket.Dial(ctx, srv.URL(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	w, err := ws.NewMessageWriter(ctx, false)
	if err != nil {
		log.Fatal(err)
	}
	for i := range 3 {
		fmt.Fprintf(w, "part %d; ", i)
	}
	w.Close()
	m, _ := ws.WaitForNextMessage(ctx)
	fmt.Println(m.Text())
	// Output:
	// part 0; part 1; part 2;
}

// While a MessageWriter's message is unfinished, Send does not wait: it
// refuses with ErrWriterOpen, since the frames of two messages must not
// mix (RFC 6455 5.4).
func ExampleMessageWriter_Write() {
	srv := startEcho()
	defer srv.Close()

	ctx := context.Background()
	ws, err := websocket.Dial(ctx, srv.URL(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	w, err := ws.NewMessageWriter(ctx, true)
	if err != nil {
		log.Fatal(err)
	}
	w.Write([]byte{1, 2, 3})
	fmt.Println("Send:", ws.Send([]byte{9}))
	w.Close()
	fmt.Println("Send after Close:", ws.Send([]byte{9}))
	for range 2 {
		m, _ := ws.WaitForNextMessage(ctx)
		fmt.Println(m.Data)
	}
	// Output:
	// Send: websocket: a MessageWriter's message is unfinished; send after its Close
	// Send after Close: <nil>
	// [1 2 3]
	// [9]
}

// Close ends the message. A text writer keeps each frame whole
// characters, so one left unfinished by the last Write is refused.
func ExampleMessageWriter_Close() {
	srv := startEcho()
	defer srv.Close()

	ctx := context.Background()
	ws, err := websocket.Dial(ctx, srv.URL(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	w, err := ws.NewMessageWriter(ctx, false)
	if err != nil {
		log.Fatal(err)
	}
	euro := []byte("€") // three bytes
	w.Write([]byte("price: 10 "))
	w.Write(euro[:2])
	fmt.Println("Close:", w.Close())
	m, _ := ws.WaitForNextMessage(ctx)
	fmt.Printf("%q\n", m.Text())
	// Output:
	// Close: websocket: SendText: the text is not valid UTF-8; send bytes with Send
	// "price: 10 "
}

// tempDir makes a directory for an example's files, and the function that
// removes it.
func tempDir() (string, func()) {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	return dir, func() { os.RemoveAll(dir) }
}
