package netlab

import (
	"fmt"
	"os/exec"
	"strings"
	"sync"
)

// ipPath is where iproute2's ip is, "" when it is not installed.
var ipPath = sync.OnceValue(func() string {
	path, _ := lookPath("ip")
	return path
})

// ip runs iproute2's ip with args and returns its output, or an error that
// carries the command line and what ip said: ip's messages ("File exists",
// "Operation not permitted") are the useful part of a failure.
func ip(args ...string) (string, error) {
	out, err := exec.Command(ipPath(), args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// ipSteps runs each of steps, an ip command line split on spaces, and
// stops at the first that fails.
func ipSteps(steps ...string) error {
	for _, s := range steps {
		if _, err := ip(strings.Fields(s)...); err != nil {
			return err
		}
	}
	return nil
}
