// WebSocket echo server on the Node `ws` library, run by peers.NodeEcho.
//
// Usage: node echo.js [PROTOCOL...]
//
// It listens on 127.0.0.1 with an ephemeral port and prints the port on a
// line of its own once it accepts connections. It echoes every message with
// its type. The text message "!close CODE [REASON]" makes it close the
// connection with CODE and REASON, and "!ping [PAYLOAD]" makes it send a
// ping with PAYLOAD; once the client's pong with that payload arrives, it
// sends the text message "pong:PAYLOAD", so that a test can tell the client
// answered. Of the subprotocols the client offers, it selects the first one
// among PROTOCOL..., as the other peers do.
//
// It exits when its standard input ends, so that it does not outlive a test
// binary that is killed before it could stop the server.
'use strict';

const { WebSocketServer } = require('ws');

const MAX_SIZE = 64 << 20;
const CLOSE_COMMAND = /^!close (\d{1,5})(?: ([\s\S]*))?$/;
const PING_COMMAND = /^!ping(?: ([\s\S]*))?$/;

const supported = process.argv.slice(2);

const server = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  maxPayload: MAX_SIZE,
  // Compression is off by default on a ws server; say so, since the client
  // offers no extension and must be offered none.
  perMessageDeflate: false,
  // ws passes the client's offers as a Set, in the client's order.
  handleProtocols: (offered) => {
    for (const p of offered) {
      if (supported.includes(p)) return p;
    }
    return false;
  },
});

server.on('connection', (ws) => {
  // Payloads of the pings sent by "!ping" and not answered yet.
  const pending = new Set();

  ws.on('pong', (data) => {
    const payload = data.toString();
    if (pending.delete(payload)) ws.send('pong:' + payload);
  });

  ws.on('message', (data, isBinary) => {
    if (!isBinary) {
      const s = data.toString();
      let m = CLOSE_COMMAND.exec(s);
      if (m) {
        try {
          ws.close(Number(m[1]), m[2] || '');
        } catch (e) {
          // A code ws refuses to send: fail the connection instead.
          ws.terminate();
        }
        return;
      }
      m = PING_COMMAND.exec(s);
      if (m) {
        const payload = m[1] || '';
        pending.add(payload);
        try {
          ws.ping(payload);
        } catch (e) {
          // A payload over 125 bytes.
          ws.terminate();
        }
        return;
      }
    }
    ws.send(data, { binary: isBinary });
  });

  // A client going away abruptly is what some tests do; it is not an error
  // of the server.
  ws.on('error', () => {});
});

server.on('listening', () => {
  process.stdout.write(server.address().port + '\n');
});

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
