package poll

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"runtime"
	"testing"
	"time"
)

// tlsPair returns both ends of a loopback TLS connection, handshake done,
// with a certificate made for the test.
func tlsPair(t *testing.T) (client, server *tls.Conn) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "poll test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)

	tc, ts := tcpPair(t)
	server = tls.Server(ts, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	client = tls.Client(tc, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	errs := make(chan error, 1)
	go func() { errs <- server.Handshake() }()
	if err := client.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	return client, server
}

func TestTLS(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		client, server := tlsPair(t)
		base := runtime.NumGoroutine()
		h := newRecorder(t)
		c, err := p.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		want := randomBytes(200<<10, 5)
		go server.Write(want)
		waitFor(t, p, "the data", func() bool { return len(h.data) >= len(want) })
		if string(h.data) != string(want) {
			t.Fatal("read other bytes than the peer wrote")
		}
		got := make(chan string, 1)
		go func() {
			buf := make([]byte, 5)
			n, _ := io.ReadFull(server, buf)
			got <- string(buf[:n])
		}()
		writeAll(t, p, c, h, []byte("hello"))
		var s string
		waitFor(t, p, "the peer's read", func() bool {
			select {
			case s = <-got:
				return true
			default:
				return false
			}
		})
		if s != "hello" {
			t.Fatalf("peer read %q", s)
		}
		c.Close()
		h.closed = true
		settle(t, p)
		waitGoroutines(t, base)
	})
}
