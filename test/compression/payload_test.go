package compression_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	websocket "github.com/wsloop/websocket"
)

const (
	KiB = 1 << 10
	MiB = 1 << 20
)

// sizes are the messages' sizes: around the client's default threshold
// (128) and the 16-bit length (65 535). A few modes add larger ones, past
// a window many times over (see modes).
var sizes = []int{0, 1, 127, 128, 1000, 65535, 65536}

// large is where messages cost enough under the race detector that the
// modes but the default send two of the four kinds of each size.
const large = 65535

// content is what a message holds.
type content int

const (
	// compressible is text that deflate shrinks to a third or less, and
	// under the smallest window to three quarters or less: numbered lines
	// of a few words.
	compressible content = iota
	// random is incompressible: random bytes, or for text random
	// characters of every UTF-8 length.
	random
)

func (c content) String() string { return [...]string{"compressible", "random"}[c] }

// msg is a message to send and to get back.
type msg struct {
	binary  bool
	content content
	data    []byte
}

func (m msg) String() string {
	kind := "text"
	if m.binary {
		kind = "binary"
	}
	return fmt.Sprintf("%s %s[%d]", m.content, kind, len(m.data))
}

// send sends m with Send or SendText according to its type.
func (m msg) send(ws *websocket.WebSocket) error {
	if m.binary {
		return ws.Send(m.data)
	}
	return ws.SendText(string(m.data))
}

// is reports whether e is m: same type, same bytes.
func (m msg) is(e websocket.MessageEvent) bool {
	return e.Binary == m.binary && bytes.Equal(e.Data, m.data)
}

// corpus is the bytes messages are cut from, made once and only read.
type corpus struct {
	text       []byte // compressible, ASCII
	randomText []byte // random characters, valid UTF-8
	randomBin  []byte // random bytes
	probes     []byte // random bytes of their own
}

// corpusSize is how many bytes each of the corpus's slices holds; the
// largest message is cut from its start at an offset under 4 KiB.
const corpusSize = 4*MiB + 4*KiB

// period is the length of the random bytes and characters generated;
// the corpus repeats them, which deflate cannot notice, since it never
// refers back further than 32 KiB. (Generating 4 MiB of random
// characters takes seconds under the race detector.)
const period = 256 * KiB

var theCorpus = sync.OnceValue(func() *corpus {
	r := rand.NewChaCha8([32]byte{'w', 's', 'l', 'o', 'o', 'p'})
	c := &corpus{randomBin: make([]byte, period), probes: make([]byte, 2*64*KiB)}
	r.Read(c.randomBin)
	r.Read(c.probes)

	var b strings.Builder
	words := strings.Fields("the quick brown fox jumps over the lazy dog pack my box with five dozen liquor jugs")
	for i := 0; b.Len() < period; i++ {
		fmt.Fprintf(&b, "%07d %s %s %s\n", i, words[i%len(words)], words[(i*7)%len(words)], words[(i*3+1)%len(words)])
	}
	c.text = []byte(b.String())

	// Random characters: ASCII, two-, three- and four-byte ones, up to
	// period bytes and whole characters.
	ranges := [][2]rune{{0x20, 0x7e}, {0xa0, 0x7ff}, {0x800, 0xd7ff}, {0xe000, 0xfffd}, {0x10000, 0x10ffff}}
	for {
		v := uint32(r.Uint64())
		rg := ranges[v%uint32(len(ranges))]
		ch := rg[0] + rune(v>>8)%(rg[1]-rg[0]+1)
		if len(c.randomText)+utf8.RuneLen(ch) > period {
			break
		}
		c.randomText = utf8.AppendRune(c.randomText, ch)
	}
	// Pad to period with ASCII, so that the repeats stay valid UTF-8.
	for len(c.randomText) < period {
		c.randomText = append(c.randomText, 'a'+c.randomBin[len(c.randomText)]%26)
	}

	c.text = repeat(c.text, corpusSize)
	c.randomText = repeat(c.randomText, corpusSize)
	c.randomBin = repeat(c.randomBin, corpusSize)
	return c
})

// repeat repeats p up to n bytes.
func repeat(p []byte, n int) []byte {
	return bytes.Repeat(p, (n+len(p)-1)/len(p))[:n]
}

// message returns a message of n bytes; off picks where in the corpus it
// is cut from (messages of the same content and offset share a prefix).
func message(binary bool, c content, n, off int) msg {
	k := theCorpus()
	var p []byte
	switch {
	case c == compressible:
		p = k.text[off : off+n]
	case binary:
		p = k.randomBin[off : off+n]
	default:
		// Cut at characters' starts, then pad with ASCII.
		for !utf8.RuneStart(k.randomText[off]) {
			off++
		}
		end := off + n
		for end > off && !utf8.RuneStart(k.randomText[end]) {
			end--
		}
		p = append(k.randomText[off:end:end], strings.Repeat("~", off+n-end)...)
	}
	return msg{binary: binary, content: c, data: p}
}

// messages is the burst: every size, text and binary, compressible and
// random, the types and contents interleaved so that each message follows
// one of another kind. Unless all, sizes from large on come in two kinds:
// compressible text and random binary, or the other two, in turn.
func messages(all bool) []msg {
	return messagesOf(sizes, all)
}

// lockstep is the messages sent one at a time: sizes but 65 535, the
// largest in two kinds, compressible text and random binary.
func lockstep() []msg {
	return messagesOf(slices.DeleteFunc(slices.Clone(sizes), func(n int) bool { return n == 65535 }), false)
}

// fragmented is the messages the servers echo in fragments.
func fragmented() []msg { return messagesOf([]int{1000, 20000}, true) }

// messagesOf makes the messages of sizes, in two kinds from large on
// unless all.
func messagesOf(sizes []int, all bool) []msg {
	var out []msg
	turn := 0 // of the sizes from large on
	for i, n := range sizes {
		for j := range 4 {
			binary, c := j&1 == 1, content(j>>1)
			if !all && n >= large && (binary == (c == random)) != (turn%2 == 0) {
				continue
			}
			// Offsets differ by message, so that only some share
			// their bytes with an earlier one.
			out = append(out, message(binary, c, n, (i%3)*1000+j))
		}
		if n >= large {
			turn++
		}
	}
	return out
}

// probe is a random binary message that zlib can refer back to whole from
// the next message with a window of bits (zlib reaches back at most 262
// bytes less than its window, and uses 9 bits when told 8): the window
// test sends it twice. Its bytes are in no other message; i, 0 or 1,
// picks one of two probes.
func probe(bits, i int) msg {
	n := 1<<max(bits, 9) - 300
	return msg{binary: true, content: random, data: theCorpus().probes[i*64*KiB:][:n]}
}
