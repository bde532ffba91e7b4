// Package peers starts real WebSocket servers written with other libraries
// on the loopback interface, so that tests can check the client against
// peers it was not written alongside.
//
// A peer needs software the Go toolchain does not provide. When it is
// missing the test is skipped, unless the environment variable WSLOOP_PEERS
// is "required", as in CI, where a missing peer must not pass unnoticed: the
// test then fails.
package peers
