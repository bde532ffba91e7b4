package websocket_test

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// TestDocs compiles every ```go block of README.md and docs/*.md against
// the library as it is in this directory, so that the documentation's code
// is code of today's API.
//
// A block takes one of three shapes, told apart by parsing it:
//
//   - a whole file, starting with its package clause: compiled as it is;
//   - declarations (func main() { ... }, types, vars): put in a package of
//     their own, with the imports they use;
//   - statements: the body of a function in such a package.
//
// The imports of the last two shapes are found from the names a block
// uses as package names and does not declare (fmt in fmt.Println), looked
// up in docImports; a name missing there fails the test, saying so.
//
// A block that uses names it does not declare itself (the ws made by an
// earlier block, the program's ctx) declares them in an HTML comment
// right above it, which Markdown does not show:
//
//	<!-- declared:
//	var ws *websocket.WebSocket
//	var ctx context.Context
//	-->
//
// Those lines go at package level ahead of the block, so the block may use
// them, or declare its own of the same name. A declared comment that no
// ```go block follows (blank lines aside) is an error.
//
// Each block becomes a package of one temporary module whose go.mod
// replaces github.com/wsloop/websocket with this directory, and a single
// go build compiles them all (one build rather than one per block: most of
// the time is the build's start and the library's compilation). Its
// errors name the Markdown file and line, through //line directives.
// Blocks that are not Go say what they are (```js, ```sh) and are not
// compiled.
func TestDocs(t *testing.T) {
	files := []string{"README.md"}
	more, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, more...)

	var blocks []docBlock
	for _, f := range files {
		bs, err := readDocBlocks(f)
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, bs...)
	}
	if len(blocks) == 0 {
		t.Fatal("no ```go block found: has the fence changed?")
	}

	mod := t.TempDir()
	failed := false
	for i, b := range blocks {
		src, err := b.source()
		if err != nil {
			t.Error(err)
			failed = true
			continue
		}
		dir := filepath.Join(mod, fmt.Sprintf("b%03d", i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "block.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if failed {
		return
	}
	writeDocModule(t, mod)

	args := []string{"build"}
	if raceBuild() {
		// The test's own build has compiled the library's dependencies
		// with -race: the same flag finds them in the build cache.
		args = append(args, "-race")
	}
	cmd := exec.Command(goTool(), append(args, "./...")...)
	cmd.Dir = mod
	cmd.Env = append(os.Environ(),
		"GOWORK=off",       // the temporary module alone, not the repository's go.work
		"GOFLAGS=-mod=mod", // let go add the requirements the library's go.mod implies
		"GOPROXY=off",      // everything needed is in the module cache already
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the documentation's Go does not compile (%v):\n%s", err, out)
	}
	t.Logf("%d blocks of %d files compiled", len(blocks), len(files))
}

// docImports are the packages a block may use without importing them,
// by the name it uses.
var docImports = map[string]string{
	"websocket": "github.com/wsloop/websocket",
	"bufio":     "bufio",
	"bytes":     "bytes",
	"context":   "context",
	"errors":    "errors",
	"fmt":       "fmt",
	"io":        "io",
	"json":      "encoding/json",
	"log":       "log",
	"net":       "net",
	"http":      "net/http",
	"os":        "os",
	"runtime":   "runtime",
	"signal":    "os/signal",
	"slog":      "log/slog",
	"strings":   "strings",
	"sync":      "sync",
	"syscall":   "syscall",
	"time":      "time",
	"tls":       "crypto/tls",
	"url":       "net/url",
}

// docBlock is one ```go block of a Markdown file.
type docBlock struct {
	file     string // as the test names it, relative to the repository
	line     int    // the line of the block's first line of code
	code     string
	declared string // the declared comment's lines, if any
	declLine int    // the line of its first declaration
}

var (
	fenceRE    = regexp.MustCompile("^( *)```(.*)$")
	declOpenRE = regexp.MustCompile(`^\s*<!--\s*declared:\s*$`)
	declEndRE  = regexp.MustCompile(`^\s*-->\s*$`)
)

// readDocBlocks returns the ```go blocks of a Markdown file.
func readDocBlocks(file string) ([]docBlock, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		blocks  []docBlock
		pending *docBlock // a declared comment waiting for its block
		n       int
	)
	sc := bufio.NewScanner(f)
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		n++
		return sc.Text(), true
	}
	for {
		line, ok := next()
		if !ok {
			break
		}
		switch {
		case declOpenRE.MatchString(line):
			if pending != nil {
				return nil, fmt.Errorf("%s:%d: a declared comment follows another", file, n)
			}
			pending = &docBlock{declLine: n + 1}
			var decl []string
			for {
				l, ok := next()
				if !ok {
					return nil, fmt.Errorf("%s:%d: declared comment without its -->", file, pending.declLine-1)
				}
				if declEndRE.MatchString(l) {
					break
				}
				decl = append(decl, l)
			}
			pending.declared = strings.Join(decl, "\n")
		case fenceRE.MatchString(line):
			m := fenceRE.FindStringSubmatch(line)
			indent, lang := m[1], strings.TrimSpace(m[2])
			start := n + 1
			var code []string
			for {
				l, ok := next()
				if !ok {
					return nil, fmt.Errorf("%s:%d: unclosed code block", file, start-1)
				}
				if strings.TrimSpace(l) == "```" {
					break
				}
				code = append(code, strings.TrimPrefix(l, indent))
			}
			if lang != "go" {
				if pending != nil {
					return nil, fmt.Errorf("%s:%d: declared comment before a ```%s block", file, pending.declLine-1, lang)
				}
				continue
			}
			b := docBlock{file: file, line: start, code: strings.Join(code, "\n")}
			if pending != nil {
				b.declared, b.declLine = pending.declared, pending.declLine
				pending = nil
			}
			blocks = append(blocks, b)
		case strings.TrimSpace(line) != "" && pending != nil:
			return nil, fmt.Errorf("%s:%d: declared comment not followed by a ```go block", file, pending.declLine-1)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if pending != nil {
		return nil, fmt.Errorf("%s:%d: declared comment at the end of the file", file, pending.declLine-1)
	}
	return blocks, nil
}

// source returns the block as a Go file: as it is when it is one, else
// wrapped in package snippet with the imports it uses.
func (b docBlock) source() (string, error) {
	at := func(line int) string { return fmt.Sprintf("//line %s:%d\n", b.file, line) }
	if isWholeFile(b.code) {
		return at(b.line) + b.code + "\n", nil
	}
	var decl string
	if b.declared != "" {
		decl = at(b.declLine) + b.declared + "\n"
	}
	// Declarations, or else statements in a function.
	body := decl + at(b.line) + b.code + "\n"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, b.file, "package snippet\n"+body, 0)
	if err != nil {
		body = decl + "func _() {\n" + at(b.line) + b.code + "\n}\n"
		f, err = parser.ParseFile(fset, b.file, "package snippet\n"+body, 0)
		if err != nil {
			return "", fmt.Errorf("neither declarations nor statements: %v", err)
		}
	}
	paths, err := usedImports(fset, f)
	if err != nil {
		return "", err
	}
	var imports strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&imports, "import %q\n", p)
	}
	return "package snippet\n\n" + imports.String() + "\n" + body, nil
}

// isWholeFile reports whether code starts with a package clause, after
// comments and blank lines.
func isWholeFile(code string) bool {
	for l := range strings.Lines(code) {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "//") {
			continue
		}
		return strings.HasPrefix(l, "package ")
	}
	return false
}

// usedImports returns the import paths of the package names f uses but
// does not declare: the identifiers left unresolved as the X of a
// selector.
func usedImports(fset *token.FileSet, f *ast.File) ([]string, error) {
	var paths []string
	var err error
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok || id.Obj != nil {
			return true
		}
		p, known := docImports[id.Name]
		if !known {
			if err == nil {
				err = fmt.Errorf("%s: %s is not declared, and docImports in docs_test.go knows no package of that name "+
					"(declare it in a declared comment, or add the package)", fset.Position(id.Pos()), id.Name)
			}
			return true
		}
		if !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
		return true
	})
	slices.Sort(paths)
	return paths, err
}

// writeDocModule makes mod the module of the blocks: it requires the
// library, replaced by this directory, with this module's go.sum for the
// library's own requirements.
func writeDocModule(t *testing.T, mod string) {
	t.Helper()
	repo, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	version := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod)
	if version == nil {
		t.Fatal("go.mod has no go line")
	}
	modFile := fmt.Sprintf("module docblocks\n\ngo %s\n\nrequire github.com/wsloop/websocket v0.0.0\n\nreplace github.com/wsloop/websocket => %s\n",
		version[1], repo)
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte(modFile), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
}

// raceBuild reports whether the test binary was built with -race.
func raceBuild() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// goTool is the go command: the one on PATH, else GOROOT's, which go test
// sets for the test binary.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}
