package netlab

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/wsloop/websocket/test/internal/testenv"
)

// TargetName is the host name of Lab.TargetIP in every lab's namespace.
// The .test top-level domain is reserved for testing, so the name means
// nothing anywhere else, the test process included.
const TargetName = "target.netlab.test"

// Lab is a private network for one test: a network namespace NS that the
// test process reaches only through a veth pair, and in it a target
// address that only processes in the namespace can reach.
type Lab struct {
	// NS names the network namespace, as ip netns knows it.
	NS string
	// ProxyIP is the namespace's end of the veth pair, reachable from
	// the test process: the proxies listen there.
	ProxyIP string
	// TargetIP is an address in the namespace, which the root namespace
	// routes nowhere (a dial fails with "no route to host"): Listen
	// listens there, and only a proxy can connect to it.
	TargetIP string
	// TargetName resolves to TargetIP in the namespace, and does not
	// resolve in the test process. It is the package's TargetName.
	TargetName string

	slot  *slot
	ports atomic.Int32 // the last port given to a proxy
	users atomic.Int32 // the accounts NewAuth has named
}

// labs counts the labs of this process, for namespace names.
var labs atomic.Int32

// firstPort is the first port given to a lab's proxies, below the range
// the kernel picks ephemeral ports from (32768 up), so that no outgoing
// connection of a proxy can be holding it. ProxyIP is the lab's alone, so
// no other process competes for its ports.
const firstPort = 10000

// New builds a lab for t and tears it down at t's cleanup. Without root,
// ip or network namespaces, t is skipped, or fails with WSLOOP_PEERS=required.
func New(t testing.TB) *Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Unavailable(t, "netlab needs root, to make network namespaces")
	}
	if ipPath() == "" {
		testenv.Unavailable(t, "netlab needs ip: apt-get install iproute2")
	}
	sweepOnce.Do(func() {
		if err := sweep(); err != nil {
			t.Logf("netlab: removing what killed runs left: %v", err)
		}
	})
	s, err := claimSlot()
	if err != nil {
		t.Fatalf("netlab: %v", err)
	}
	l := &Lab{
		NS:         fmt.Sprintf("%s%d-%d", s.nsPrefix(), os.Getpid(), labs.Add(1)),
		ProxyIP:    s.proxyIP(),
		TargetIP:   s.targetIP(),
		TargetName: TargetName,
		slot:       s,
	}
	l.ports.Store(firstPort - 1)
	if err := l.build(); err != nil {
		if cerr := s.clean(); cerr != nil {
			t.Errorf("netlab: cleaning up after a failed build: %v", cerr)
		}
		s.release()
		testenv.Unavailable(t, fmt.Sprintf("netlab: building the network failed: %v", err))
	}
	t.Cleanup(func() {
		if err := s.clean(); err != nil {
			t.Errorf("netlab: tearing down %s: %v", l.NS, err)
		}
		s.release()
	})
	return l
}

// build makes the lab's network. The target's address goes on the
// namespace's loopback interface, which every namespace has, rather than
// on a dummy interface, which needs a kernel module that some kernels and
// containers lack.
func (l *Lab) build() error {
	s := l.slot
	if err := l.writeEtc(); err != nil {
		return err
	}
	return ipSteps(
		// First, before anything in the namespace exists: the root
		// namespace's default route would otherwise send a dial to
		// TargetIP out into whatever network the machine is on.
		"route add unreachable "+s.targetNet(),
		"netns add "+l.NS,
		"link add "+s.hostLink()+" type veth peer name veth0 netns "+l.NS,
		"addr add "+s.hostIP()+"/30 dev "+s.hostLink(),
		"link set "+s.hostLink()+" up",
		"-n "+l.NS+" addr add "+s.proxyIP()+"/30 dev veth0",
		"-n "+l.NS+" link set veth0 up",
		"-n "+l.NS+" link set lo up",
		"-n "+l.NS+" addr add "+s.targetIP()+"/32 dev lo",
	)
}

// writeEtc writes the files ip netns exec bind-mounts over /etc's for the
// proxies: hosts, to resolve TargetName, and resolv.conf, which points at a
// name server that is not there, so that a name hosts does not know fails
// at once instead of after a DNS timeout.
func (l *Lab) writeEtc() error {
	dir := filepath.Join(etcNetns, l.NS)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	hosts := fmt.Sprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n", l.TargetIP, l.TargetName)
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte("nameserver 127.0.0.1\n"), 0o644)
}

// port returns a port for a new proxy on ProxyIP.
func (l *Lab) port() int { return int(l.ports.Add(1)) }
