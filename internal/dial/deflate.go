package dial

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gobwas/httphead"
)

// DeflateOffer is the permessage-deflate offer (RFC 7692) the handshake
// makes.
type DeflateOffer struct {
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	// ServerMaxWindowBits, 8 to 15, asks the server for a window of at
	// most that; 0 asks nothing.
	ServerMaxWindowBits int
	// ClientMaxWindowBits, 8 to 15, promises a window of at most that; 0
	// offers the parameter without a value, as Chromium does: the server
	// may then name the window the client must keep to.
	ClientMaxWindowBits int
}

// Deflate is what the server's response to the offer settled.
type Deflate struct {
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	ServerMaxWindowBits     int // 8 to 15
	ClientMaxWindowBits     int // 8 to 15
}

const deflateName = "permessage-deflate"

// option is the offer as the request's Sec-WebSocket-Extensions option.
func (o *DeflateOffer) option() httphead.Option {
	opt := httphead.Option{Name: []byte(deflateName)}
	if o.ServerNoContextTakeover {
		opt.Parameters.Set([]byte("server_no_context_takeover"), nil)
	}
	if o.ClientNoContextTakeover {
		opt.Parameters.Set([]byte("client_no_context_takeover"), nil)
	}
	if o.ServerMaxWindowBits > 0 {
		opt.Parameters.Set([]byte("server_max_window_bits"), []byte(strconv.Itoa(o.ServerMaxWindowBits)))
	}
	if o.ClientMaxWindowBits > 0 {
		opt.Parameters.Set([]byte("client_max_window_bits"), []byte(strconv.Itoa(o.ClientMaxWindowBits)))
	} else {
		opt.Parameters.Set([]byte("client_max_window_bits"), nil)
	}
	return opt
}

// errExtension is the cause of a response selecting an extension the
// client did not offer.
var errExtension = errors.New("the server selected an extension the client did not offer")

// acceptExtensions checks the response's Sec-WebSocket-Extensions values
// against the offer: only permessage-deflate, when offered.
func acceptExtensions(o *DeflateOffer, values []string) (*Deflate, error) {
	var exts []httphead.Option
	for _, v := range values {
		opts, ok := httphead.ParseOptions([]byte(v), nil)
		if !ok {
			return nil, fmt.Errorf("%w: %q does not parse", errExtension, v)
		}
		exts = append(exts, opts...)
	}
	for _, e := range exts {
		if o == nil || string(e.Name) != deflateName {
			return nil, fmt.Errorf("%w: %q", errExtension, e.Name)
		}
	}
	return acceptDeflate(o, exts)
}

// errDeflate is the cause of a response the client cannot honour.
var errDeflate = errors.New("the server's permessage-deflate response cannot be honoured")

// acceptDeflate checks the server's answer to the offer, as the extension
// options the handshake matched against the offer (gobwas has refused any
// extension not offered), and settles the parameters; nil when the server
// declined. A response that breaks RFC 7692 fails the connection, as it
// does in a browser: a parameter unknown, repeated, without its value or
// with a wrong one, a window over the one asked for, or an offer's
// request the server did not confirm.
func acceptDeflate(o *DeflateOffer, exts []httphead.Option) (*Deflate, error) {
	if o == nil || len(exts) == 0 {
		return nil, nil
	}
	if len(exts) > 1 {
		return nil, fmt.Errorf("%w: the extension accepted twice", errDeflate)
	}
	d := &Deflate{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}
	if o.ClientMaxWindowBits > 0 {
		d.ClientMaxWindowBits = o.ClientMaxWindowBits
	}
	seen := map[string]bool{}
	var err error
	exts[0].Parameters.ForEach(func(k, v []byte) bool {
		key := strings.ToLower(string(k))
		if seen[key] {
			err = fmt.Errorf("%w: %s given twice", errDeflate, key)
			return false
		}
		seen[key] = true
		switch key {
		case "server_no_context_takeover", "client_no_context_takeover":
			if len(v) > 0 {
				err = fmt.Errorf("%w: %s=%s takes no value", errDeflate, key, v)
				return false
			}
			if key == "server_no_context_takeover" {
				d.ServerNoContextTakeover = true
			} else {
				d.ClientNoContextTakeover = true
			}
		case "server_max_window_bits", "client_max_window_bits":
			bits, convErr := strconv.Atoi(string(v))
			if convErr != nil || bits < 8 || bits > 15 || len(v) > 2 || v[0] == '0' {
				err = fmt.Errorf("%w: %s=%q is not a window of 8 to 15 bits", errDeflate, key, v)
				return false
			}
			if key == "server_max_window_bits" {
				if o.ServerMaxWindowBits > 0 && bits > o.ServerMaxWindowBits {
					err = fmt.Errorf("%w: server_max_window_bits=%d over the %d asked for", errDeflate, bits, o.ServerMaxWindowBits)
					return false
				}
				d.ServerMaxWindowBits = bits
			} else {
				if o.ClientMaxWindowBits > 0 && bits > o.ClientMaxWindowBits {
					err = fmt.Errorf("%w: client_max_window_bits=%d over the %d offered", errDeflate, bits, o.ClientMaxWindowBits)
					return false
				}
				d.ClientMaxWindowBits = bits
			}
		default:
			err = fmt.Errorf("%w: unknown parameter %s", errDeflate, key)
			return false
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	switch {
	case o.ServerNoContextTakeover && !d.ServerNoContextTakeover:
		return nil, fmt.Errorf("%w: server_no_context_takeover asked for and not confirmed", errDeflate)
	case o.ServerMaxWindowBits > 0 && !seen["server_max_window_bits"]:
		return nil, fmt.Errorf("%w: server_max_window_bits asked for and not confirmed", errDeflate)
	}
	return d, nil
}
