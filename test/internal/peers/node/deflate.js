// WebSocket echo server on the Node `ws` library with permessage-deflate
// configured, run by peers.NodeDeflate.
//
// Usage: node deflate.js JSON
//
// JSON holds the compression settings (all optional):
//
//   {"off": false,                       perMessageDeflate: false
//    "serverNoContextTakeover": false,   perMessageDeflate's options of the
//    "clientNoContextTakeover": false,     same names
//    "serverMaxWindowBits": 0,           8 to 15; 0 leaves it unset
//    "clientMaxWindowBits": 0,           8 to 15; 0 leaves it unset
//    "threshold": 0}                     ws's threshold (its default is
//                                          1024; here 0 unless given)
//
// ws applies the threshold only without the server's context takeover;
// with it, every message is compressed. zlib cannot compress a raw deflate
// stream with an 8-bit window: Node's zlib uses 9 bits when told 8.
//
// It listens on 127.0.0.1 with an ephemeral port and prints the port on a
// line of its own once it accepts connections. It echoes every message with
// its type. Text commands:
//
//   "!stats"   answers with one JSON text message about the messages since
//              the connection opened or since the last "!stats", the
//              command itself and the fragmented echoes not counted: {"header": the response's
//              Sec-WebSocket-Extensions, "params": the settlement as ws
//              holds it (windows 15 when not negotiated; null without the
//              extension), "received" and "sent": {"messages",
//              "compressed" (RSV1 set), "wire" (payload on the wire),
//              "plain" (payload inflated)}};
//   "!bomb N"  sends a binary message of N zero bytes;
//   "!frag K"  echoes the messages that follow in K fragments (1 to 100)
//              each, split at any byte (a character of a text message
//              too): with compression, the first fragment has RSV1 and
//              each one ends with a flush ("!frag 1": whole again);
//   "!plain K" sends every K-th echo that follows uncompressed (ws's
//              compress: false), with context takeover too, where the
//              other echoes go on with the compressor's window: which
//              must not hold the uncompressed ones ("!plain 0": none).
//
// It exits when its standard input ends, so that it does not outlive a test
// binary that is killed before it could stop the server.
'use strict';

const path = require('path');
const { WebSocketServer } = require('ws');
// ws exports only its entry point; its extension is reached by its file,
// which is the module ws itself loaded (same path, same module).
const PerMessageDeflate = require(path.join(path.dirname(require.resolve('ws')), 'lib', 'permessage-deflate.js'));

const MAX_SIZE = 64 << 20;
const BOMB_COMMAND = /^!bomb (\d{1,10})$/;
const FRAG_COMMAND = /^!frag (\d{1,2}|100)$/;
const PLAIN_COMMAND = /^!plain (\d{1,9})$/;

const config = process.argv.length > 2 ? JSON.parse(process.argv[2]) : {};

// Each extension object counts the compressed frames it inflates and the
// compressed messages it makes, one frame each: the client sends no
// fragments, and this server's fragments are left out (skip).
const decompress = PerMessageDeflate.prototype.decompress;
PerMessageDeflate.prototype.decompress = function (data, fin, callback) {
  this.zFrames = (this.zFrames || 0) + 1;
  this.zBytes = (this.zBytes || 0) + data.length;
  return decompress.call(this, data, fin, callback);
};
const compress = PerMessageDeflate.prototype.compress;
PerMessageDeflate.prototype.compress = function (data, fin, callback) {
  const plain = data.length;
  return compress.call(this, data, fin, (err, result) => {
    if (this.zSkip && this.zSkip.delete(data)) {
      // Not counted: the answer to "!stats", or a fragment.
    } else if (!err) {
      this.zSent = this.zSent || { messages: 0, wire: 0, plain: 0 };
      this.zSent.messages++;
      this.zSent.wire += result.length;
      this.zSent.plain += plain;
    }
    callback(err, result);
  });
};

function perMessageDeflate() {
  if (config.off) return false;
  // An option set to false refuses what the client asks for (ws then
  // answers the handshake with 400): unset, it leaves it to the client.
  const o = { threshold: config.threshold || 0 };
  if (config.serverNoContextTakeover) o.serverNoContextTakeover = true;
  if (config.clientNoContextTakeover) o.clientNoContextTakeover = true;
  if (config.serverMaxWindowBits) o.serverMaxWindowBits = config.serverMaxWindowBits;
  if (config.clientMaxWindowBits) o.clientMaxWindowBits = config.clientMaxWindowBits;
  return o;
}

function counts() {
  return { messages: 0, compressed: 0, wire: 0, plain: 0 };
}

const server = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  maxPayload: MAX_SIZE,
  perMessageDeflate: perMessageDeflate(),
});

// The response's extension header, kept for the connection it opens.
server.on('headers', (headers, req) => {
  for (const h of headers) {
    const m = /^Sec-WebSocket-Extensions: (.*)$/i.exec(h);
    if (m) req.wsloopExtensions = m[1];
  }
});

server.on('connection', (ws, req) => {
  const header = req.wsloopExtensions || '';
  const ext = ws._extensions[PerMessageDeflate.extensionName];
  let received = counts();
  let sent = counts();
  // Sends not yet handed to the socket: "!stats" waits for them, so that
  // their compression is counted.
  let pending = 0;
  let drained = [];
  let fragments = 1;
  let plainEvery = 0;
  let echoes = 0;

  // skip has the compression of data left out of the counts.
  const skip = (data) => {
    if (!ext) return;
    ext.zSkip = ext.zSkip || new Set();
    ext.zSkip.add(data);
  };

  const send = (data, binary, compress = true) => {
    pending++;
    sent.messages++;
    sent.plain += data.length;
    ws.send(data, { binary, compress }, () => {
      pending--;
      if (pending === 0) {
        const waiting = drained;
        drained = [];
        for (const f of waiting) f();
      }
    });
  };

  const stats = () => {
    const zSent = (ext && ext.zSent) || { messages: 0, wire: 0, plain: 0 };
    if (ext) ext.zSent = undefined;
    const out = {
      messages: sent.messages,
      compressed: zSent.messages,
      wire: sent.plain - zSent.plain + zSent.wire,
      plain: sent.plain,
    };
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
    const answer = Buffer.from(JSON.stringify({ header, params, received, sent: out }));
    received = counts();
    sent = counts();
    skip(answer);
    ws.send(answer, { binary: false });
  };

  ws.on('message', (data, isBinary) => {
    let compressed = false;
    let wire = data.length;
    if (ext && ext.zFrames) {
      compressed = true;
      wire = ext.zBytes;
      ext.zFrames = 0;
      ext.zBytes = 0;
    }
    const command = !isBinary && data.length < 32 ? data.toString() : '';
    if (command === '!stats') {
      if (pending === 0) stats();
      else drained.push(stats);
      return;
    }
    received.messages++;
    received.compressed += compressed ? 1 : 0;
    received.wire += wire;
    received.plain += data.length;
    const m = BOMB_COMMAND.exec(command);
    const f = FRAG_COMMAND.exec(command);
    const plain = PLAIN_COMMAND.exec(command);
    if (m) {
      send(Buffer.alloc(Number(m[1])), true);
    } else if (f) {
      fragments = Math.max(1, Number(f[1]));
    } else if (plain) {
      plainEvery = Number(plain[1]);
      echoes = 0;
    } else if (fragments > 1) {
      // Not counted: the counts are made per message.
      const n = data.length;
      for (let i = 0; i < fragments; i++) {
        const part = data.subarray(Math.floor((i * n) / fragments), Math.floor(((i + 1) * n) / fragments));
        skip(part);
        ws.send(part, { binary: isBinary, fin: i === fragments - 1 });
      }
    } else {
      echoes++;
      send(data, isBinary, !(plainEvery > 0 && echoes % plainEvery === 0));
    }
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
