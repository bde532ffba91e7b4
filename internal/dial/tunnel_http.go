package dial

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
)

// maxConnectResponse bounds an HTTP proxy's answer to CONNECT.
const maxConnectResponse = 64 << 10

// httpConnect asks the HTTP proxy p, connected as conn, for a tunnel to
// target (host:port): a CONNECT request with p's credentials as Basic
// proxy authorization and header, which is for the proxy alone.
func httpConnect(conn net.Conn, p *url.URL, target string, header http.Header) error {
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: target},
		Host:   target,
		Header: header.Clone(),
	}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if p.User != nil {
		pass, _ := p.User.Password()
		cred := base64.StdEncoding.EncodeToString([]byte(p.User.Username() + ":" + pass))
		req.Header.Set("Proxy-Authorization", "Basic "+cred)
	}
	if err := req.Write(conn); err != nil {
		return &ProxyError{Failure: ProxyUnreachable, Err: err}
	}
	// The reader is dropped with what it read past the response: nothing,
	// as the target can say nothing before the client's first bytes.
	lr := &io.LimitedReader{R: conn, N: maxConnectResponse}
	br := bufio.NewReaderSize(lr, 4096)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		if lr.N == 0 {
			err = errors.New("its answer to CONNECT is over 64 KiB")
		}
		return &ProxyError{Failure: ProxyBadResponse, Err: fmt.Errorf("reading the answer to CONNECT: %w", err)}
	}
	resp.Body.Close()
	status := resp.Proto + " " + resp.Status
	if resp.StatusCode/100 == 2 {
		if br.Buffered() > 0 {
			return &ProxyError{Failure: ProxyBadResponse, Err: errors.New("bytes followed its answer to CONNECT")}
		}
		return nil
	}
	e := &ProxyError{StatusCode: resp.StatusCode, Status: status, Err: errors.New("CONNECT " + target + ": " + status)}
	switch {
	case resp.StatusCode == http.StatusProxyAuthRequired || resp.StatusCode == http.StatusUnauthorized:
		// Tinyproxy answers wrong credentials with a 401.
		e.Failure = ProxyAuthFailed
	case resp.StatusCode >= 500:
		// 502, 503 and 504 are how proxies say the target could not be
		// reached; tinyproxy says it with a 500.
		e.Failure = ProxyTargetUnreachable
	default:
		e.Failure = ProxyRefused
	}
	return e
}
