// Package netlab gives a test a small private network in which the only way
// to a server is through a real proxy daemon, so that the client's proxy
// support is tested against the proxies people run rather than against a
// proxy written alongside it.
//
// New builds the network: a network namespace joined to the test process by
// a veth pair, whose far end (Lab.ProxyIP) is where the proxies listen, and
// inside it an address (Lab.TargetIP) and a host name (Lab.TargetName) that
// only the namespace can reach and resolve. The test serves whatever it
// wants on Lab.Listen, inside the namespace, and starts the proxies it
// needs (Tinyproxy, Squid, Dante, Microsocks); a connection from the test
// process that arrives at the target went through the proxy, since there
// is no other way there.
//
// Building the network needs root, iproute2's ip and a kernel that allows
// network namespaces, and each proxy needs its program. When something is
// missing the test is skipped, unless the environment variable WSLOOP_PEERS
// is "required", as in CI, where a missing piece must not pass unnoticed:
// the test then fails.
//
// Everything a lab makes is undone by t.Cleanup. A lab's names and subnet
// come from a slot (see slot.go) that its process holds a lock on, so that
// labs run in parallel, in one process or several. The proxies die with
// the test process even when it is killed; what else a killed run leaves
// (a namespace, a route, an account) is removed by the next run that
// makes a lab.
package netlab
