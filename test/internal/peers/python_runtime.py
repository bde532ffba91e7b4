"""WebSocket servers on the Python `websockets` library for the tests of sockets
that keep working between the program's calls, run by peers.PythonKeepalive and
peers.PythonSlowReader.

Usage: python_runtime.py keepalive INTERVAL TIMEOUT
       python_runtime.py slowread BYTES_PER_SECOND

It listens on 127.0.0.1 with an ephemeral port and prints the port on a line
of its own once it accepts connections.

keepalive: echoes every message with its type, with the library's own
keepalive on: a ping every INTERVAL seconds, and the connection closed with
1011 when its pong does not come within TIMEOUT seconds.

slowread: reads the messages of a connection on any path but /report no faster
than BYTES_PER_SECOND, sleeping after each message for as long as its size
takes at that rate. Its kernel receive buffer and its own read buffers are
kept small, so that what the client sent is not taken off its hands faster
than that. Each message must be binary, message I (from 0) being I as 4
big-endian bytes followed by bytes that are all I modulo 256; the first one
that is not is recorded as the error. When that connection ends, a record of
it is kept: a connection to /report gets it as one JSON text message (waiting
for it if the connection has not ended yet), then a close 1000:

    {"messages": N, "bytes": B, "error": "" or what was wrong,
     "code": close code received (1005: none; 1006: no close frame),
     "reason": close reason received}

It exits when its standard input is closed, so that it does not outlive a test
binary that is killed before it could stop the server.

Written for websockets 10.4 (Debian bookworm), the legacy API where the handler
gets (ws, path); it sticks to what newer versions still accept.
"""

import asyncio
import json
import os
import socket
import struct
import sys
import threading

import websockets

MAX_SIZE = 64 << 20

# Same wait as the Go echo server gives a client to answer a close frame.
CLOSE_TIMEOUT = 2

# slowread's kernel receive buffer (Linux doubles it) and its library's read
# limit: small next to the bytes read per second, so that the client's
# writes track the reading.
SLOW_RCVBUF = 32 << 10
SLOW_READ_LIMIT = 16 << 10


async def echo(ws, path=None):
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        # The keepalive closing the connection is reported to the client
        # by the close frame; a client going away is what tests do.
        pass


def check_message(index, message):
    """Return what is wrong with message number index, or ""."""
    if not isinstance(message, bytes):
        return "message %d is text" % index
    if len(message) < 4:
        return "message %d has %d bytes" % (index, len(message))
    (got,) = struct.unpack(">I", message[:4])
    if got != index:
        return "message %d carries index %d" % (index, got)
    fill = bytes([index % 256]) * (len(message) - 4)
    if message[4:] != fill:
        return "message %d: its bytes after the index are not all %d" % (index, index % 256)
    return ""


def slow_reader(rate):
    loop = asyncio.get_running_loop()
    record = loop.create_future()

    async def handler(ws, path=None):
        path = path if path is not None else ws.path
        if path == "/report":
            await ws.send(json.dumps(await asyncio.shield(record)))
            await ws.close(1000)
            return
        messages = size = 0
        error = ""
        try:
            while True:
                message = await ws.recv()
                if not error:
                    error = check_message(messages, message)
                messages += 1
                size += len(message)
                await asyncio.sleep(len(message) / rate)
        except websockets.ConnectionClosed:
            pass
        if not record.done():
            record.set_result({
                "messages": messages,
                "bytes": size,
                "error": error,
                "code": ws.close_code,
                "reason": ws.close_reason,
            })

    return handler


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


async def main(args):
    mode = args[0] if args else ""
    options = dict(max_size=MAX_SIZE, close_timeout=CLOSE_TIMEOUT)
    if mode == "keepalive" and len(args) == 3:
        handler = echo
        options.update(ping_interval=float(args[1]), ping_timeout=float(args[2]))
        sock = None
    elif mode == "slowread" and len(args) == 2:
        handler = slow_reader(float(args[1]))
        # One message queued at a time, and little read ahead of it.
        options.update(ping_interval=None, max_queue=1, read_limit=SLOW_READ_LIMIT)
        # A listening socket's receive buffer is inherited by the
        # connections it accepts, and set before the handshake fixes the
        # window scale.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SLOW_RCVBUF)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
    else:
        sys.exit(__doc__)
    if sock is None:
        server = await websockets.serve(handler, "127.0.0.1", 0, **options)
    else:
        server = await websockets.serve(handler, sock=sock, **options)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    await asyncio.Future()


if __name__ == "__main__":
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    asyncio.run(main(sys.argv[1:]))
