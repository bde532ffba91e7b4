package upgrade

import (
	"net/http"
	"strconv"
)

// Refusal is a request answered with an HTTP error instead of 101: the
// status, the reason (the response's body) and the headers that status
// calls for (Allow for 405, Upgrade and Sec-WebSocket-Version for 426).
type Refusal struct {
	Status int
	Reason string
	Header http.Header
}

func (r *Refusal) Error() string {
	return "websocket: upgrade refused with " + strconv.Itoa(r.Status) + " " + http.StatusText(r.Status) + ": " + r.Reason
}

// Write answers the request with the refusal.
func (r *Refusal) Write(w http.ResponseWriter) {
	for k, v := range r.Header {
		w.Header()[k] = v
	}
	w.Header().Set("Connection", "close")
	http.Error(w, r.Reason, r.Status)
}

func refuse(status int, reason string, header ...string) *Refusal {
	r := &Refusal{Status: status, Reason: reason}
	if len(header) > 0 {
		r.Header = http.Header{}
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
	}
	return r
}
