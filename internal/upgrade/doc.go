// Package upgrade is the server's side of the opening handshake (RFC 6455
// 4.2, RFC 7692 for permessage-deflate): it checks an HTTP request, picks
// the subprotocol and the extension settings, and answers either with an
// HTTP error saying why, or with 101 on the hijacked connection. It knows
// nothing of the socket that follows.
package upgrade
