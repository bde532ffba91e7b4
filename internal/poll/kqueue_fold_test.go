package poll

import (
	"slices"
	"testing"
)

// kevent is what foldKevent is told of one kevent, for the tests.
type kevent struct {
	fd                       int32
	write, eof, failed, wake bool
}

func fold(evs ...kevent) []readyEntry {
	ready := make([]readyEntry, len(evs))
	m := 0
	for _, e := range evs {
		m = foldKevent(ready, m, e.fd, e.write, e.eof, e.failed, e.wake)
	}
	return ready[:m]
}

// TestFoldKevent: the kqueue backend hands Native one entry per socket,
// with epoll's meaning, whatever the order of its two filters' kevents.
func TestFoldKevent(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []kevent
		want []readyEntry
	}{
		{"readable", []kevent{{fd: 7}}, []readyEntry{{fd: 7, mask: kqIn}}},
		{"writable", []kevent{{fd: 7, write: true}}, []readyEntry{{fd: 7, mask: kqOut}}},
		{"FIN queued", []kevent{{fd: 7, eof: true}}, []readyEntry{{fd: 7, mask: kqIn | kqRdHup}}},
		{"reset", []kevent{{fd: 7, eof: true, failed: true}}, []readyEntry{{fd: 7, mask: kqIn | kqRdHup | kqErr}}},
		// Our own CloseWrite raises EV_EOF on the write filter: it must not
		// read as the end of input, nor as an error.
		{"write-side EOF", []kevent{{fd: 7, write: true, eof: true, failed: true}}, []readyEntry{{fd: 7, mask: kqOut}}},
		{"both, read first", []kevent{{fd: 7}, {fd: 7, write: true}}, []readyEntry{{fd: 7, mask: kqIn | kqOut}}},
		{"both, write first", []kevent{{fd: 7, write: true}, {fd: 7}}, []readyEntry{{fd: 7, mask: kqIn | kqOut}}},
		{
			"interleaved sockets and the wake-up",
			[]kevent{{fd: 9, write: true}, {fd: 3, wake: true}, {fd: 7}, {fd: 9, eof: true}, {fd: 7, write: true}},
			[]readyEntry{{fd: 9, mask: kqOut | kqIn | kqRdHup}, {fd: 3, wake: true}, {fd: 7, mask: kqIn | kqOut}},
		},
		// The wake-up's descriptor is never a socket's, but an entry
		// marked wake must not absorb one with its number either.
		{"wake entry kept apart", []kevent{{fd: 3, wake: true}, {fd: 3}}, []readyEntry{{fd: 3, wake: true}, {fd: 3, mask: kqIn}}},
	} {
		if got := fold(tc.in...); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
