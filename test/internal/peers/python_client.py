"""WebSocket client on the Python `websockets` library, run by peers.PythonClient:
it connects to a server under test and does what the server tells it.

Usage: python_client.py URL JSON

JSON holds the options (all optional), as node/client.js takes them:

  {"protocols": ["a", "b"],     the subprotocols offered
   "origin": "http://...",      the Origin header (none unless told)
   "count": 1,                  connections opened at once to URL
   "paths": ["/a", "/b"],       or one connection to URL + each path
   "deflate": {...}}            absent for the library's default offer
                                  (client_max_window_bits without a value),
                                  {"off": true} for none, else the options
                                  of ClientPerMessageDeflateFactory:
                                  clientNoContextTakeover,
                                  serverNoContextTakeover,
                                  clientMaxWindowBits (8 to 15, or true for
                                  the parameter without a value),
                                  serverMaxWindowBits

Each connection echoes every message with its type. Text commands:

  "!close CODE [REASON]"  closes with CODE and REASON ("!close" alone: the
                          library's default, 1000);
  "!ping [PAYLOAD]"       sends a ping; once the server's pong with that
                          payload arrives, sends "pong:PAYLOAD";
  "!frag K"               echoes the messages that follow in K fragments (1
                          to 100): a binary message cut at any byte, a text
                          message between characters, as websockets sends
                          an iterable of str ("!frag 1": whole again).

It prints one JSON line to standard output per event of a connection:

  {"event": "open", "id": I, "protocol": ..., "extensions": the response's
   Sec-WebSocket-Extensions ("" for none), "params": the permessage-deflate
   settlement as websockets holds it, or null}
  {"event": "close", "id": I, "code": ..., "reason": ..., "clean": both
   close frames went}
  {"event": "error", "id": I, "message": ...}  (before the close: a refused
   handshake, with its status)

and exits once every connection has closed, or when its standard input
ends, so that it does not outlive a test binary that is killed.

Written for websockets 10.4 (Debian bookworm), the legacy client API.
"""

import asyncio
import json
import os
import re
import sys
import threading

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory, PerMessageDeflate

MAX_SIZE = 64 << 20

CLOSE_COMMAND = re.compile(r"!close(?: (\d{1,5})(?: (.*))?)?", re.DOTALL)
PING_COMMAND = re.compile(r"!ping(?: (.*))?", re.DOTALL)
FRAG_COMMAND = re.compile(r"!frag (\d{1,2}|100)")


def emit(value):
    print(json.dumps(value), flush=True)


def connect_options(options):
    kwargs = {
        "subprotocols": options.get("protocols") or None,
        "origin": options.get("origin"),
        "max_size": MAX_SIZE,
        # Unsolicited keepalive pings would make tests depend on timing.
        "ping_interval": None,
        "close_timeout": 5,
    }
    d = options.get("deflate")
    if d is not None:
        if d.get("off"):
            kwargs["compression"] = None
        else:
            kwargs["extensions"] = [
                ClientPerMessageDeflateFactory(
                    server_no_context_takeover=bool(d.get("serverNoContextTakeover")),
                    client_no_context_takeover=bool(d.get("clientNoContextTakeover")),
                    server_max_window_bits=d.get("serverMaxWindowBits") or None,
                    client_max_window_bits=d.get("clientMaxWindowBits") or None,
                )
            ]
    return kwargs


def settlement(ws):
    for ext in ws.extensions:
        if isinstance(ext, PerMessageDeflate):
            return {
                "server_no_context_takeover": ext.remote_no_context_takeover,
                "client_no_context_takeover": ext.local_no_context_takeover,
                "server_max_window_bits": ext.remote_max_window_bits,
                "client_max_window_bits": ext.local_max_window_bits,
            }
    return None


def fragments(message, k):
    size = -(-len(message) // k)
    return [message[i * size : (i + 1) * size] for i in range(k)]


async def report_pong(ws, payload, waiter):
    try:
        await waiter
        await ws.send("pong:" + payload)
    except websockets.ConnectionClosed:
        pass


async def run(id, url, options):
    try:
        ws = await websockets.connect(url, **connect_options(options))
    except Exception as e:  # a refused handshake, a reset
        emit({"event": "error", "id": id, "message": repr(e)})
        emit({"event": "close", "id": id, "code": 1006, "reason": "", "clean": False})
        return
    emit(
        {
            "event": "open",
            "id": id,
            "protocol": ws.subprotocol or "",
            "extensions": ws.response_headers.get("Sec-WebSocket-Extensions", ""),
            "params": settlement(ws),
        }
    )
    frag = 1
    reports = set()
    try:
        async for message in ws:
            if isinstance(message, str) and len(message) < 200:
                match = CLOSE_COMMAND.fullmatch(message)
                if match:
                    if match.group(1) is None:
                        await ws.close()
                    else:
                        await ws.close(int(match.group(1)), match.group(2) or "")
                    continue
                match = PING_COMMAND.fullmatch(message)
                if match:
                    payload = match.group(1) or ""
                    task = asyncio.create_task(report_pong(ws, payload, await ws.ping(payload)))
                    reports.add(task)
                    task.add_done_callback(reports.discard)
                    continue
                match = FRAG_COMMAND.fullmatch(message)
                if match:
                    frag = max(1, int(match.group(1)))
                    continue
            if frag == 1:
                await ws.send(message)
            else:
                await ws.send(fragments(message, frag))
    except websockets.ConnectionClosed:
        pass
    await ws.wait_closed()
    emit(
        {
            "event": "close",
            "id": id,
            "code": ws.close_code,
            "reason": ws.close_reason,
            "clean": ws.close_rcvd is not None and ws.close_sent is not None,
        }
    )


async def main(url, options):
    paths = options.get("paths") or [""] * (options.get("count") or 1)
    await asyncio.gather(*(run(i, url + path, options) for i, path in enumerate(paths)))


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


if __name__ == "__main__":
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    asyncio.run(main(sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}))
