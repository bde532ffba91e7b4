package websocket

import (
	"context"
	"log/slog"

	"github.com/wsloop/websocket/internal/dial"
)

// A socket with Config.Logger tells it its life: the dial's stages and
// each step of the handshake at debug level, opening and closing at info,
// failures and reconnections at warn. Every line carries the socket's id
// ("ws") and URL ("url", without user information). No line carries a
// credential or a header.

// socketLogger is cfg's logger with the socket's attributes, or nil.
func socketLogger(l *slog.Logger, id uint64, url string) *slog.Logger {
	if l == nil {
		return nil
	}
	return l.With("ws", id, "url", url)
}

func (ws *WebSocket) logAt(level slog.Level, msg string, args ...any) {
	if ws.log != nil && ws.log.Enabled(context.Background(), level) {
		ws.log.Log(context.Background(), level, msg, args...)
	}
}

// logClose tells how the socket ended.
func (ws *WebSocket) logClose(ev CloseEvent, err error) {
	if err != nil {
		ws.logAt(slog.LevelWarn, "connection failed", "error", err)
	}
	ws.logAt(slog.LevelInfo, "closed", "code", ev.Code, "reason", ev.Reason, "clean", ev.WasClean)
}

// redactedURL is the URL to log.
var redactedURL = dial.RedactedURL
