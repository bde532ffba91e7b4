// Package payload makes the compressible messages of the benchmarks with
// compression: JSON lines of made-up events, as a feed or an API sends
// them. The keys and the words repeat, the numbers do not, so deflate
// finds something to do but not everything: compress/flate at BestSpeed
// takes 1 MiB of it to 28 % of its size, a 1 KiB message on its own to
// 44 %, and 38 % with the context of the messages before.
package payload

import (
	"math/rand/v2"
	"strconv"
)

var words = []string{
	"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
	"india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa",
	"quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey", "xray",
	"yankee", "zulu", "amber", "basalt", "cobalt", "dune", "ember", "fjord",
}

var actions = []string{"create", "update", "delete", "view", "share", "like", "order", "refund"}

// Text is size bytes of ASCII JSON lines (the last one cut at size), the
// same for the same seed.
func Text(size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	b := make([]byte, 0, size+256)
	for seq := 0; len(b) < size; seq++ {
		b = append(b, `{"seq":`...)
		b = strconv.AppendInt(b, int64(seed)*100000+int64(seq), 10)
		b = append(b, `,"ts":`...)
		b = strconv.AppendInt(b, 1764000000000+int64(r.IntN(1<<30)), 10)
		b = append(b, `,"user":"`...)
		b = append(b, words[r.IntN(len(words))]...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(r.IntN(10000)), 10)
		b = append(b, `","action":"`...)
		b = append(b, actions[r.IntN(len(actions))]...)
		b = append(b, `","item":{"id":`...)
		b = strconv.AppendInt(b, int64(r.IntN(1<<24)), 10)
		b = append(b, `,"name":"`...)
		b = append(b, words[r.IntN(len(words))]...)
		b = append(b, ' ')
		b = append(b, words[r.IntN(len(words))]...)
		b = append(b, `","price":`...)
		b = strconv.AppendInt(b, int64(r.IntN(100000)), 10)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(10+r.IntN(90)), 10)
		b = append(b, `,"qty":`...)
		b = strconv.AppendInt(b, int64(1+r.IntN(20)), 10)
		b = append(b, `},"tags":["`...)
		b = append(b, words[r.IntN(len(words))]...)
		b = append(b, `","`...)
		b = append(b, words[r.IntN(len(words))]...)
		b = append(b, "\"]}\n"...)
	}
	return b[:size]
}
