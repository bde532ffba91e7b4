//go:build !linux && !darwin

package main

// rlimitNOFILE reads no limit where the system has none that bench knows
// how to read (Windows) or whose types differ (the BSDs): the run goes on,
// and a socket refused for want of a descriptor counts as a connect error.
type rlimitNOFILE struct{}

func (rlimitNOFILE) get() (soft, hard uint64, ok bool, err error) { return 0, 0, false, nil }

func (rlimitNOFILE) set(uint64) error { return nil }
