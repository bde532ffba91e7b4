package dial

// ProxyFailure says at which hop a dial through a proxy failed.
type ProxyFailure uint8

// The hops of a dial through a proxy, documented with the root package's
// ProxyFailure, which takes these values.
const (
	ProxyUnreachable ProxyFailure = iota + 1
	ProxyAuthFailed
	ProxyRefused
	ProxyTargetUnreachable
	ProxyBadResponse
)

// ProxyError is a dial that failed at its proxy or beyond it, before the
// tunnel was open.
type ProxyError struct {
	Proxy      string // the proxy's URL without credentials
	Failure    ProxyFailure
	StatusCode int    // an HTTP proxy's status, when it answered CONNECT
	Status     string // its status line
	Reply      int    // a SOCKS proxy's reply code, when it gave one
	Err        error
}

func (e *ProxyError) Error() string { return e.Err.Error() }
func (e *ProxyError) Unwrap() error { return e.Err }
