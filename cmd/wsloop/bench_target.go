package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// lookupTimeout bounds the name lookup of the loopback check: a resolver
// that does not answer must not hang the command before it starts.
const lookupTimeout = 5 * time.Second

// remoteHint is how to get past the refusal, in each message that refuses.
const remoteHint = "bench floods its target with connections and messages, so by default it only loads a server on this machine " +
	"(127.0.0.1, ::1, localhost); add --allow-remote to load a server elsewhere that you are allowed to load"

// lookupFunc resolves a host name, as net.Resolver.LookupIPAddr does; the
// tests give names their own addresses without a network.
type lookupFunc func(ctx context.Context, host string) ([]net.IPAddr, error)

// checkTarget parses the URL and, unless remote targets are allowed,
// checks that every address its host resolves to is a loopback one. It
// resolves the name itself, rather than trusting it ("localhost" can be
// anything in /etc/hosts), and wants all the addresses loopback: the dial
// may pick any of them.
func checkTarget(ctx context.Context, rawURL string, lookup lookupFunc, allowRemote bool) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", rawURL, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "ws", "wss", "http", "https":
	default:
		return fmt.Errorf("%q is not a ws:// or wss:// URL", rawURL)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%q names no host", rawURL)
	}
	if allowRemote {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsLoopback() {
			return fmt.Errorf("refusing %s: %s is not a loopback address. %s", rawURL, host, remoteHint)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	addrs, err := lookup(ctx, host)
	if err != nil {
		return fmt.Errorf("refusing %s: cannot tell whether %s is on this machine: %v. %s", rawURL, host, err, remoteHint)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("refusing %s: %s has no address. %s", rawURL, host, remoteHint)
	}
	for _, a := range addrs {
		if !a.IP.IsLoopback() {
			return fmt.Errorf("refusing %s: %s resolves to %s, which is not a loopback address. %s", rawURL, host, a.IP, remoteHint)
		}
	}
	return nil
}

// errNotLoopback is the dial's refusal of an address that is not a
// loopback one: the check above passed, but the name resolved otherwise
// at the dial (a DNS answer that changed, a second lookup).
var errNotLoopback = errors.New("not a loopback address (the target's name resolved otherwise when dialed); use --allow-remote to load a server elsewhere")

// loopbackOnly is a net.Dialer's Control: it refuses to connect to any
// address that is not a loopback one, so that what checkTarget found
// holds for every connection the run makes, whatever DNS says later.
func loopbackOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s: %w", address, errNotLoopback)
	}
	return nil
}
