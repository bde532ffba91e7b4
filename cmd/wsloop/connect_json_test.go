package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files of -json from the output")

var jsonTimeField = regexp.MustCompile(`"time":"([^"]*)"`)

// normalizeJSON replaces what changes from run to run in -json's output:
// each time, checked to be in the documented form, and the server's
// address.
func normalizeJSON(t *testing.T, out, url string) string {
	t.Helper()
	out = jsonTimeField.ReplaceAllStringFunc(out, func(field string) string {
		v := jsonTimeField.FindStringSubmatch(field)[1]
		if _, err := time.Parse(jsonTime, v); err != nil || !strings.HasSuffix(v, "Z") || len(v) != len("2006-01-02T15:04:05.000000Z") {
			t.Errorf("time %q is not RFC 3339 in UTC to the microsecond", v)
		}
		return `"time":"TIME"`
	})
	host := strings.TrimSuffix(url[strings.Index(url, "://")+3:], "/")
	return strings.ReplaceAll(out, host, "HOST:PORT")
}

// TestConnectJSONGolden: the -json stream of each kind of run, times and
// addresses normalized, against testdata/json/NAME.ndjson. Run the test
// with -update to rewrite them, and read the diff.
func TestConnectJSONGolden(t *testing.T) {
	t.Parallel()
	echo := startEcho(t, "chat").URL()
	for _, tc := range []struct {
		name, url, stdin string
		args             []string
	}{
		// Every echo, then the pong behind the last line, then the close.
		{"echo", echo, "hello\n\n<&>\n", []string{"-s", "chat", "-w", "0"}},
		{"binary-base64", echo, "hi\n", []string{"-b", "-w", "0"}},
		{"binary-hex", echo, "00ff\n", []string{"-b", "--hex", "-w", "0"}},
		// The server's ping, then its close; -wait forever sends no ping of
		// its own at the end.
		{"server-ping-close", echo, "", []string{"-x", "!ping p", "-x", "!close 4001 bye", "-w", "forever"}},
		{"count", echo, "", []string{"-x", "one", "-x", "two", "--count", "1"}},
		{"refused", refusingServer(t), "hi\n", nil},
		{"unreachable", deadURL(t), "hi\n", nil},
		{"vanished", vanishingServer(t), "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, stdout, stderr := runConnect(t, tc.stdin, append([]string{"--json", tc.url}, tc.args...)...)
			got := normalizeJSON(t, stdout, tc.url)
			golden := filepath.Join("testdata", "json", tc.name+".ndjson")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("-json output differs from %s:\ngot:\n%s\nwant:\n%s\nstderr:\n%s", golden, got, want, stderr)
			}
		})
	}
}
