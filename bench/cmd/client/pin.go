package main

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ownCPUs lists the CPUs this process may run on, as taskset -c names them.
func ownCPUs() string {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return "?"
	}
	var cpus []string
	for i := range 1024 {
		if set.IsSet(i) {
			cpus = append(cpus, strconv.Itoa(i))
		}
	}
	return strings.Join(cpus, ",")
}
