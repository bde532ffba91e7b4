//go:build race

package protocol

// raceEnabled skips allocation counts under the race detector, which makes
// sync.Pool drop items on purpose and so adds refills that are not there in
// normal builds.
const raceEnabled = true
