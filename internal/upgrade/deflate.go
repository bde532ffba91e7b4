package upgrade

import (
	"strconv"
	"strings"

	"github.com/gobwas/httphead"
)

// DeflateOptions is what the server asks of permessage-deflate (RFC 7692)
// beyond what a client offers.
type DeflateOptions struct {
	// ClientNoContextTakeover asks every client to compress each message
	// on its own, so that the server keeps no window of the client's.
	ClientNoContextTakeover bool
	// ClientMaxWindowBits, 8 to 15, limits the window of a client that
	// offers client_max_window_bits (the window the server keeps with
	// the client's context takeover); 0 means 15.
	ClientMaxWindowBits int
}

// Deflate is what the handshake settled. The server always answers
// server_no_context_takeover: it compresses each message on its own, as
// keeping a compressor per connection would cost hundreds of KiB each,
// and so the client needs to keep no window either.
type Deflate struct {
	ClientNoContextTakeover bool
	ServerMaxWindowBits     int // 8 to 15: the server's back-references reach no further
	ClientMaxWindowBits     int // 8 to 15: the client's window, kept with its context takeover
}

const deflateName = "permessage-deflate"

// negotiateDeflate answers the request's Sec-WebSocket-Extensions values:
// the first permessage-deflate offer the server can honour is accepted,
// the others and every other extension declined (RFC 7692 5: a server
// declines an offer with a parameter unknown, repeated or with a value it
// cannot take). It returns the response's header value and the settlement,
// or "" and nil when no offer is accepted.
func negotiateDeflate(values []string, o *DeflateOptions) (string, *Deflate) {
	if o == nil {
		return "", nil
	}
	for _, v := range values {
		offers, ok := httphead.ParseOptions([]byte(v), nil)
		if !ok {
			continue // a header that does not parse offers nothing the server can read
		}
		for _, offer := range offers {
			if !strings.EqualFold(string(offer.Name), deflateName) {
				continue
			}
			if ext, d := acceptOffer(offer, o); d != nil {
				return ext, d
			}
		}
	}
	return "", nil
}

// acceptOffer settles one offer, nil when the server must decline it.
func acceptOffer(offer httphead.Option, o *DeflateOptions) (string, *Deflate) {
	d := &Deflate{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15, ClientNoContextTakeover: o.ClientNoContextTakeover}
	var serverBits, clientBits int // as offered; -1: client_max_window_bits without a value
	seen := map[string]bool{}
	ok := true
	offer.Parameters.ForEach(func(k, v []byte) bool {
		key := strings.ToLower(string(k))
		if seen[key] {
			ok = false
			return false
		}
		seen[key] = true
		switch key {
		case "server_no_context_takeover":
			ok = len(v) == 0
		case "client_no_context_takeover":
			ok = len(v) == 0
			d.ClientNoContextTakeover = true
		case "server_max_window_bits":
			serverBits, ok = windowBits(v)
		case "client_max_window_bits":
			clientBits = -1
			if len(v) > 0 {
				clientBits, ok = windowBits(v)
			}
		default:
			ok = false
		}
		return ok
	})
	if !ok {
		return "", nil
	}
	ext := deflateName + "; server_no_context_takeover"
	if d.ClientNoContextTakeover {
		ext += "; client_no_context_takeover"
	}
	if serverBits > 0 {
		d.ServerMaxWindowBits = serverBits
		ext += "; server_max_window_bits=" + strconv.Itoa(serverBits)
	}
	if clientBits > 0 {
		d.ClientMaxWindowBits = clientBits // the client's promise, whatever the answer
	}
	if limit := o.ClientMaxWindowBits; clientBits != 0 && limit > 0 && limit < d.ClientMaxWindowBits {
		// Only a client that offered the parameter may be told a window
		// (RFC 7692 7.1.2.2).
		d.ClientMaxWindowBits = limit
		ext += "; client_max_window_bits=" + strconv.Itoa(limit)
	}
	return ext, d
}

// windowBits reads a window parameter's value: 8 to 15, in decimal
// without a leading zero (RFC 7692 7.1.2's ABNF).
func windowBits(v []byte) (int, bool) {
	if len(v) == 0 || len(v) > 2 || v[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n < 8 || n > 15 {
		return 0, false
	}
	return n, true
}
