package websocket

import (
	"crypto/tls"
	"net"

	"github.com/wsloop/websocket/internal/poll"
)

// TLSListener serves TLS with config on l's connections so that a wss://
// connection an Upgrader takes over costs its loop no goroutine, as a
// plain one does: give it to http.Server.Serve in place of ServeTLS or
// ListenAndServeTLS, whose connections are each read by a goroutine of
// their own once hijacked (crypto/tls reads the socket itself). It puts
// the TLS connection over the loop's record pump, which the loop takes
// over after the handshake; for a connection that is not TCP it is
// tls.NewListener.
//
// HTTP/2 cannot carry this kind of upgrade, so a config that offers no
// ALPN protocol is given "http/1.1"; one that offers "h2" keeps it, and an
// HTTP/2 client's request then fails to upgrade.
func TLSListener(l net.Listener, config *tls.Config) net.Listener {
	if len(config.NextProtos) == 0 {
		config = config.Clone()
		config.NextProtos = []string{"http/1.1"}
	}
	return &tlsListener{Listener: l, config: config}
}

type tlsListener struct {
	net.Listener
	config *tls.Config
}

func (l *tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tcp, ok := c.(*net.TCPConn); ok {
		return tls.Server(poll.NewBridge(tcp), l.config), nil
	}
	return tls.Server(c, l.config), nil
}
