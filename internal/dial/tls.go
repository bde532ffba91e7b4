package dial

import (
	"context"
	"crypto/tls"
	"net"

	"github.com/wsloop/websocket/internal/poll"
)

// startTLS is the TLS stage: a client handshake over conn with cfg (nil:
// the system's roots), serverName checked when cfg names none.
func startTLS(ctx context.Context, conn net.Conn, cfg *tls.Config, serverName string) (net.Conn, error) {
	cfg = cfg.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = serverName
	}
	// The Bridge passes everything through to the TCP connection, so the
	// handshake and the upgrade after it block as usual; an event loop's
	// Native then takes the socket over from it and runs the tls.Conn with
	// no goroutine of its own (see poll.Bridge). A connection that is not
	// TCP (a tunnel through an https:// proxy, a NetDial's) stays on
	// goroutines.
	under := conn
	var br *poll.Bridge
	if _, ok := conn.(*net.TCPConn); ok {
		br = poll.NewBridge(conn)
		under = br
	}
	tc := tls.Client(under, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, &Error{Stage: StageTLS, Err: ctxErr(ctx, err)}
	}
	if br != nil && !loopable(tc.ConnectionState().Version, cfg) {
		br.Pin()
	}
	return tc, nil
}

// loopable reports whether a TLS connection of version v made with cfg
// may run on an event loop: whether crypto/tls can never need to block in
// its Read. It would in a renegotiation, a whole handshake run inside Read
// when a TLS 1.2 server asks for one and cfg allows it; TLS 1.3 has none,
// and with the default RenegotiateNever the request fails the connection
// at once. A connection that is not loopable keeps its goroutines.
func loopable(v uint16, cfg *tls.Config) bool {
	return v >= tls.VersionTLS13 || cfg.Renegotiation == tls.RenegotiateNever
}
