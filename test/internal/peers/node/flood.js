// WebSocket server on the Node `ws` library that floods its first client,
// run by peers.NodeFlood.
//
// Usage: node flood.js COUNT SIZE STALL_MS
//
// It listens on 127.0.0.1 with an ephemeral port and prints the port on a
// line of its own once it accepts connections.
//
// The first connection on any path but /report is flooded: on connect the
// server queues COUNT binary messages of SIZE bytes (at least 4) at once,
// message I (from 0) being I as 4 big-endian bytes followed by bytes that
// are all I modulo 256, and closes with 1000 "flood done" once all of them
// have been handed to the kernel. Node writes what the socket takes and
// keeps the rest in its own buffer, so how far it got shows how much the
// client took off its hands.
//
// A connection to /report gets the flood's verdict as one JSON text
// message, then a close 1000; it waits for the verdict when there is none
// yet. The verdict is the first of:
//
//   {"state": "flushed", ...}  every message was handed to the kernel;
//   {"state": "stalled", ...}  the server still holds bytes it could not
//                              hand over, and has handed over no further
//                              message for STALL_MS: the client's TCP
//                              window stays shut, as it does when the
//                              client stops reading.
//
// with "flushed": bytes of whole messages handed to the kernel, "total":
// COUNT * SIZE, and "bufferedAmount": what ws still held then.
//
// It exits when its standard input ends, so that it does not outlive a test
// binary that is killed before it could stop the server.
'use strict';

const { WebSocketServer } = require('ws');

const [count, size, stallMs] = process.argv.slice(2).map(Number);
if (!(count > 0 && size >= 4 && stallMs > 0)) {
  process.stderr.write('usage: node flood.js COUNT SIZE STALL_MS\n');
  process.exit(2);
}
const total = count * size;

// How often the flood's progress is looked at for a stall.
const CHECK_MS = 20;

let flooding = false;
let verdict = null;
const waiting = [];

function report(ws) {
  ws.send(JSON.stringify(verdict), () => ws.close(1000));
}

function decide(v) {
  if (verdict) return;
  verdict = v;
  for (const ws of waiting.splice(0)) report(ws);
}

function flood(ws) {
  let flushed = 0;
  let lastProgress = Date.now();
  const check = setInterval(() => {
    if (ws.bufferedAmount > 0 && Date.now() - lastProgress >= stallMs) {
      decide({ state: 'stalled', flushed, total, bufferedAmount: ws.bufferedAmount });
    }
  }, CHECK_MS);
  ws.on('close', () => clearInterval(check));

  for (let i = 0; i < count; i++) {
    const data = Buffer.alloc(size, i % 256);
    data.writeUInt32BE(i, 0);
    ws.send(data, { binary: true }, (err) => {
      if (err) return;
      flushed += size;
      lastProgress = Date.now();
      if (flushed === total) {
        clearInterval(check);
        decide({ state: 'flushed', flushed, total, bufferedAmount: ws.bufferedAmount });
        ws.close(1000, 'flood done');
      }
    });
  }
}

const server = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: false,
});

server.on('connection', (ws, req) => {
  // A client going away abruptly is not an error of the server.
  ws.on('error', () => {});
  if (req.url === '/report') {
    if (verdict) report(ws);
    else waiting.push(ws);
    return;
  }
  if (flooding) {
    ws.close(1008, 'one flood per server');
    return;
  }
  flooding = true;
  flood(ws);
});

server.on('listening', () => {
  process.stdout.write(server.address().port + '\n');
});

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
