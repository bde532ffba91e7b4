//go:build !darwin && !dragonfly && !freebsd && !linux && !netbsd && !openbsd

package poll

// newNative is the Poller that New picks: without an implementation for
// this system's readiness API, the portable one.
func newNative() (Poller, error) {
	return NewPortable(), nil
}
