package dial

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"

	"github.com/wsloop/websocket/internal/weburl"
)

// The dial's stages are logged at debug level on Options.Logger, when set.
// No line carries a credential: URLs are logged without their user
// information, and no header is logged.

func debug(o *Options, msg string, args ...any) {
	if o.Logger != nil && o.Logger.Enabled(context.Background(), slog.LevelDebug) {
		o.Logger.Debug(msg, args...)
	}
}

// RedactedURL is u without its user information.
func RedactedURL(u *weburl.URL) string {
	if u.Username == "" && u.Password == "" {
		return u.Href()
	}
	c := *u
	c.Username, c.Password = "", ""
	return c.Href()
}

func logConnected(o *Options, conn net.Conn) {
	if o.Proxy != nil {
		debug(o, "connected to the proxy", "proxy", Redacted(o.Proxy), "addr", conn.RemoteAddr().String())
		return
	}
	debug(o, "connected", "addr", conn.RemoteAddr().String())
}

func logTLS(o *Options, c net.Conn) {
	if tc, ok := c.(interface{ ConnectionState() tls.ConnectionState }); ok {
		st := tc.ConnectionState()
		debug(o, "TLS established", "version", tls.VersionName(st.Version), "cipher", tls.CipherSuiteName(st.CipherSuite))
		return
	}
	debug(o, "TLS established")
}
