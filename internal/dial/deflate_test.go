package dial

import (
	"strings"
	"testing"

	"github.com/gobwas/httphead"
)

// Every response to Chromium's offer (and to stricter offers) is settled
// as RFC 7692 says, or refused.
func TestAcceptDeflate(t *testing.T) {
	chromium := &DeflateOffer{}
	strict := &DeflateOffer{ServerNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 12}
	for _, tt := range []struct {
		offer    *DeflateOffer
		response string
		want     *Deflate // nil: refused (or declined, when response is "")
	}{
		{chromium, "", nil},
		{chromium, "permessage-deflate", &Deflate{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}},
		{chromium, "permessage-deflate; server_no_context_takeover; client_no_context_takeover", &Deflate{true, true, 15, 15}},
		{chromium, "permessage-deflate; server_max_window_bits=8; client_max_window_bits=9", &Deflate{false, false, 8, 9}},
		{chromium, `permessage-deflate; client_max_window_bits="12"`, &Deflate{false, false, 15, 12}},
		{chromium, "permessage-deflate; client_max_window_bits", nil},
		{chromium, "permessage-deflate; server_max_window_bits", nil},
		{chromium, "permessage-deflate; server_max_window_bits=7", nil},
		{chromium, "permessage-deflate; server_max_window_bits=16", nil},
		{chromium, "permessage-deflate; server_max_window_bits=010", nil},
		{chromium, "permessage-deflate; server_no_context_takeover=1", nil},
		{chromium, "permessage-deflate; server_no_context_takeover; server_no_context_takeover", nil},
		{chromium, "permessage-deflate; unknown_param", nil},
		{chromium, "permessage-deflate, permessage-deflate", nil},
		{strict, "permessage-deflate; server_no_context_takeover; server_max_window_bits=10", &Deflate{true, false, 10, 12}},
		{strict, "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8", &Deflate{true, false, 9, 8}},
		{strict, "permessage-deflate; server_max_window_bits=10", nil},                                                        // the takeover not confirmed
		{strict, "permessage-deflate; server_no_context_takeover", nil},                                                       // the window not confirmed
		{strict, "permessage-deflate; server_no_context_takeover; server_max_window_bits=11", nil},                            // over the window asked for
		{strict, "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=13", nil}, // over the client's
	} {
		var opts []httphead.Option
		if tt.response != "" {
			var ok bool
			if opts, ok = httphead.ParseOptions([]byte(tt.response), nil); !ok {
				t.Fatalf("%q does not parse", tt.response)
			}
		}
		got, err := acceptDeflate(tt.offer, opts)
		switch {
		case tt.want == nil && tt.response != "" && err == nil:
			t.Errorf("%q: accepted as %+v, want a refusal", tt.response, got)
		case tt.want == nil && tt.response == "" && (got != nil || err != nil):
			t.Errorf("declined: %+v, %v", got, err)
		case tt.want != nil && (err != nil || *got != *tt.want):
			t.Errorf("%q: %+v, %v; want %+v", tt.response, got, err, tt.want)
		}
	}
}

// The offer's request line, as the handshake writes it.
func TestDeflateOfferOption(t *testing.T) {
	var b strings.Builder
	httphead.WriteOptions(&b, []httphead.Option{(&DeflateOffer{}).option()})
	if b.String() != "permessage-deflate;client_max_window_bits" {
		t.Errorf("Chromium's offer written %q", b.String())
	}
	b.Reset()
	httphead.WriteOptions(&b, []httphead.Option{(&DeflateOffer{ServerNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 12}).option()})
	if b.String() != "permessage-deflate;server_no_context_takeover;server_max_window_bits=10;client_max_window_bits=12" {
		t.Errorf("a strict offer written %q", b.String())
	}
}
