//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package poll

// newNative is the Poller that New picks unless told otherwise.
func newNative() (Poller, error) {
	e, err := NewNative()
	if err != nil {
		return nil, err
	}
	return e, nil
}
