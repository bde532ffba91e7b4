package fuzzing_test

import "testing"

// TestCoordinatorRace: only the coordinator's own deadline report, with no
// input written, passes as go.dev/issue/75804; every real failure fails.
func TestCoordinatorRace(t *testing.T) {
	race := []byte(`fuzz: elapsed: 30s, execs: 524386 (14802/sec), new interesting: 33 (total: 488)
fuzz: elapsed: 30s, execs: 524386 (0/sec), new interesting: 33 (total: 488)
--- FAIL: FuzzNew (30.15s)
    context deadline exceeded
FAIL
exit status 1
FAIL	github.com/wsloop/websocket/test/fuzzing	30.167s
`)
	crash := []byte(`fuzz: elapsed: 3s, execs: 41737 (13911/sec), new interesting: 3 (total: 458)
--- FAIL: FuzzFeed (3.05s)
    --- FAIL: FuzzFeed (0.00s)
        fuzz_test.go:97: events differ
    Failing input written to testdata/fuzz/FuzzFeed/5f2b9c
    To re-run:
    go test -run=FuzzFeed/5f2b9c
FAIL
`)
	hang := []byte(`--- FAIL: FuzzHandshake (12.00s)
    fuzzing process hung or terminated unexpectedly: exit status 2
FAIL
`)
	panicked := []byte(`--- FAIL: FuzzNew (1.00s)
    context deadline exceeded
panic: runtime error: index out of range
`)
	none := map[string]bool{}
	seeds := map[string]bool{"seed1": true}
	grown := map[string]bool{"seed1": true, "5f2b9c": true}
	for _, tc := range []struct {
		name          string
		out           []byte
		before, after map[string]bool
		want          bool
	}{
		{"the race", race, seeds, seeds, true},
		{"the race, empty corpus", race, none, none, true},
		{"the race's message, but an input written", race, seeds, grown, false},
		{"a failing input", crash, seeds, grown, false},
		{"a hang", hang, seeds, seeds, false},
		{"a panic", panicked, seeds, seeds, false},
	} {
		if got := coordinatorRace(tc.out, tc.before, tc.after); got != tc.want {
			t.Errorf("%s: coordinatorRace = %v, want %v", tc.name, got, tc.want)
		}
	}
}
