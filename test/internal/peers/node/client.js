// WebSocket client on the Node `ws` library, run by peers.NodeClient: it
// connects to a server under test and does what the server tells it.
//
// Usage: node client.js URL JSON
//
// JSON holds the options (all optional):
//
//   {"protocols": ["a", "b"],      the subprotocols offered
//    "origin": "http://...",       the Origin header (ws sends none unless told)
//    "count": 1,                   connections opened at once to URL
//    "paths": ["/a", "/b"],        or one connection to URL + each path
//    "deflate": {...}}             perMessageDeflate: absent for ws's default
//                                    offer, {"off": true} for none, else
//                                    clientNoContextTakeover,
//                                    serverNoContextTakeover,
//                                    clientMaxWindowBits (8 to 15, or true
//                                    for the parameter without a value),
//                                    serverMaxWindowBits, threshold (ws's
//                                    default 1024; here 0 unless given)
//
// Each connection echoes every message with its type. Text commands:
//
//   "!close CODE [REASON]"  closes with CODE and REASON ("!close" alone:
//                           close() without a code);
//   "!ping [PAYLOAD]"       sends a ping; once the server's pong with that
//                           payload arrives, sends "pong:PAYLOAD";
//   "!frag K"               echoes the messages that follow in K fragments
//                           (1 to 100), cut at any byte, a character of a
//                           text message too ("!frag 1": whole again).
//
// It prints one JSON line to standard output per event of a connection:
//
//   {"event": "open", "id": I, "protocol": ..., "extensions": the
//    response's Sec-WebSocket-Extensions ("" for none), "params": the
//    permessage-deflate settlement as ws holds it, or null}
//   {"event": "close", "id": I, "code": ..., "reason": ..., "clean": ...}
//   {"event": "error", "id": I, "message": ...}  (before the close: ws's
//    error, "Unexpected server response: 403" for a refused handshake)
//
// and exits once every connection has closed, or when its standard input
// ends, so that it does not outlive a test binary that is killed.
'use strict';

const { WebSocket } = require('ws');

const MAX_SIZE = 64 << 20;
const CLOSE_COMMAND = /^!close(?: (\d{1,5})(?: ([\s\S]*))?)?$/;
const PING_COMMAND = /^!ping(?: ([\s\S]*))?$/;
const FRAG_COMMAND = /^!frag (\d{1,2}|100)$/;

const url = process.argv[2];
const options = process.argv.length > 3 ? JSON.parse(process.argv[3]) : {};
const paths = options.paths || [];
const count = paths.length || options.count || 1;

function print(value) {
  // Writes to a pipe are synchronous on Linux: nothing is lost at exit.
  process.stdout.write(JSON.stringify(value) + '\n');
}

function perMessageDeflate() {
  const d = options.deflate;
  if (d === undefined || d === null) return true;
  if (d.off) return false;
  const o = { threshold: d.threshold || 0 };
  for (const k of ['clientNoContextTakeover', 'serverNoContextTakeover', 'clientMaxWindowBits', 'serverMaxWindowBits']) {
    if (d[k]) o[k] = d[k];
  }
  return o;
}

// fragments cuts data into k pieces at any byte.
function fragments(data, k) {
  const out = [];
  const size = Math.ceil(data.length / k) || 0;
  for (let i = 0; i < k; i++) out.push(data.subarray(i * size, Math.min(data.length, (i + 1) * size)));
  return out;
}

let open = count;

function connect(id) {
  const ws = new WebSocket(url + (paths[id] || ''), options.protocols || [], {
    perMessageDeflate: perMessageDeflate(),
    maxPayload: MAX_SIZE,
    origin: options.origin,
  });
  let header = '';
  let frag = 1;
  const pending = new Set();

  ws.on('upgrade', (res) => { header = res.headers['sec-websocket-extensions'] || ''; });
  ws.on('open', () => {
    const ext = ws._extensions['permessage-deflate'];
    let params = null;
    if (ext) {
      const p = ext.params;
      params = {
        server_no_context_takeover: !!p.server_no_context_takeover,
        client_no_context_takeover: !!p.client_no_context_takeover,
        server_max_window_bits: typeof p.server_max_window_bits === 'number' ? p.server_max_window_bits : 15,
        client_max_window_bits: typeof p.client_max_window_bits === 'number' ? p.client_max_window_bits : 15,
      };
    }
    print({ event: 'open', id, protocol: ws.protocol, extensions: header, params });
  });
  ws.on('pong', (data) => {
    const p = data.toString();
    if (pending.delete(p)) ws.send('pong:' + p);
  });
  ws.on('message', (data, isBinary) => {
    const s = isBinary || data.length > 200 ? '' : data.toString();
    let m;
    if ((m = CLOSE_COMMAND.exec(s))) {
      if (m[1] === undefined) ws.close();
      else ws.close(Number(m[1]), m[2] || '');
    } else if ((m = PING_COMMAND.exec(s))) {
      pending.add(m[1] || '');
      ws.ping(m[1] || '');
    } else if ((m = FRAG_COMMAND.exec(s))) {
      frag = Math.max(1, Number(m[1]));
    } else if (frag === 1) {
      ws.send(data, { binary: isBinary });
    } else {
      const parts = fragments(data, frag);
      parts.forEach((p, i) => ws.send(p, { binary: isBinary, fin: i === parts.length - 1 }));
    }
  });
  ws.on('error', (err) => print({ event: 'error', id, message: String(err && err.message) }));
  // The event-target form of close carries wasClean: both close frames
  // went, and the server ended TCP.
  ws.onclose = (ev) => {
    print({ event: 'close', id, code: ev.code, reason: ev.reason, clean: ev.wasClean });
    if (--open === 0) process.exit(0);
  };
}

for (let i = 0; i < count; i++) connect(i);

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
