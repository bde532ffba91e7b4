package main

import (
	"errors"
	"flag"
	"strings"
)

// stringsFlag collects a flag given several times, as -protocol and
// -origin are.
type stringsFlag []string

func (f *stringsFlag) String() string { return strings.Join(*f, ",") }

func (f *stringsFlag) Set(s string) error {
	*f = append(*f, s)
	return nil
}

// parseFlags parses a command's flags and checks that nargs arguments
// follow them. When the command is not to run, it returns false with the
// exit code: 0 for -h, which asked for the usage and got it (as the flag
// package's ExitOnError does), exitUsage for a command line that cannot
// be run.
func parseFlags(fs *flag.FlagSet, args []string, nargs int) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return exitUsage, false
	}
	if fs.NArg() != nargs {
		fs.Usage()
		return exitUsage, false
	}
	return 0, true
}
