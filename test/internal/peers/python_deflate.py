"""WebSocket echo server on the Python `websockets` library with
permessage-deflate configured, run by peers.PythonDeflate.

Usage: python_deflate.py JSON

JSON holds the compression settings (all optional):

    {"off": false,                          # no compression at all
     "serverNoContextTakeover": false,      # ServerPerMessageDeflateFactory's
     "clientNoContextTakeover": false,      #   parameters of the same names
     "serverMaxWindowBits": 0,              # 8 to 15; 0 leaves it unset
     "clientMaxWindowBits": 0}              # 8 to 15; 0 leaves it unset

It listens on 127.0.0.1 with an ephemeral port and prints the port on a line
of its own once it accepts connections. It echoes every message with its
type. Text commands:

    "!stats"    answers with one JSON text message about the messages since
                the connection opened or since the last "!stats", the command
                itself and the fragmented echoes not counted: {"header": the
                response's Sec-WebSocket-Extensions, "params": the settlement
                as the extension holds it (windows 15 when not negotiated;
                null without the extension), "received" and "sent":
                {"messages", "compressed" (RSV1 set), "wire" (payload on the
                wire), "plain" (payload inflated)}};
    "!bomb N"   sends a binary message of N zero bytes, which compresses to
                about N/1000 bytes;
    "!frag K"   echoes the messages that follow in K fragments (1 to 100)
                each, then an empty final one, as websockets sends an
                iterable: with compression, the first fragment has RSV1
                and each one ends with a flush ("!frag 1": whole again).

It exits when its standard input is closed, so that it does not outlive a test
binary that is killed before it could stop the server.

Written for websockets 10.4 (Debian bookworm), the legacy API where the
handler gets (ws, path).

zlib refuses a raw deflate stream with an 8-bit window (deflateInit2 returns
Z_STREAM_ERROR for windowBits -8: it cannot compress with a 256-byte window),
and websockets 10.4 passes server_max_window_bits=8 to zlib.compressobj as it
is: the handshake, or the first message, then fails. Node's zlib uses 9 bits
in that case, and so does this server (see Zlib8): the response still says 8,
and zlib's matches never reach further back than 250 bytes at 9 bits.
"""

import asyncio
import json
import os
import re
import sys
import threading
import zlib

import websockets
from websockets.extensions import permessage_deflate
from websockets.frames import Opcode

MAX_SIZE = 64 << 20

# Same wait as the Go echo server gives a client to answer a close frame.
CLOSE_TIMEOUT = 2

BOMB_COMMAND = re.compile(r"!bomb (\d{1,10})")
FRAG_COMMAND = re.compile(r"!frag (\d{1,2}|100)")


class Zlib8:
    """The zlib module as permessage_deflate sees it, but for compressobj
    with an 8-bit raw window, which gets 9 bits (see the module's doc)."""

    def __getattr__(self, name):
        return getattr(zlib, name)

    @staticmethod
    def compressobj(*args, wbits=zlib.MAX_WBITS, **kwargs):
        if wbits == -8:
            wbits = -9
        return zlib.compressobj(*args, wbits=wbits, **kwargs)


permessage_deflate.zlib = Zlib8()


class Counts:
    """Messages one way: how many, how many compressed (RSV1 set), their
    payload on the wire and inflated."""

    def __init__(self):
        self.messages = 0
        self.compressed = 0
        self.wire = 0
        self.plain = 0

    def add(self, compressed, wire, plain):
        self.messages += 1
        self.compressed += int(compressed)
        self.wire += wire
        self.plain += plain

    def json(self):
        return {
            "messages": self.messages,
            "compressed": self.compressed,
            "wire": self.wire,
            "plain": self.plain,
        }


# The frames' records, made where the extension decodes and encodes them,
# kept on the extension object: (compressed, wire size, plain size) per
# message, received ones in "received", sent ones in "sent", from its first
# frame (the client sends no fragments; the handler drops the records of
# its own fragmented echoes).
_decode = permessage_deflate.PerMessageDeflate.decode
_encode = permessage_deflate.PerMessageDeflate.encode


def _recording_decode(self, frame, *, max_size=None):
    wire = len(frame.data)
    out = _decode(self, frame, max_size=max_size)
    if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
        self.__dict__.setdefault("received", []).append((frame.rsv1, wire, len(out.data)))
    return out


def _recording_encode(self, frame):
    out = _encode(self, frame)
    if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
        self.__dict__.setdefault("sent", []).append((out.rsv1, len(out.data), len(frame.data)))
    return out


permessage_deflate.PerMessageDeflate.decode = _recording_decode
permessage_deflate.PerMessageDeflate.encode = _recording_encode


def deflate_of(ws):
    for ext in ws.extensions:
        if ext.name == "permessage-deflate":
            return ext
    return None


def params_of(ext):
    """The settlement as the server's extension holds it, windows resolved
    (15 when not negotiated)."""
    if ext is None:
        return None
    return {
        "server_no_context_takeover": ext.local_no_context_takeover,
        "client_no_context_takeover": ext.remote_no_context_takeover,
        "server_max_window_bits": ext.local_max_window_bits,
        "client_max_window_bits": ext.remote_max_window_bits,
    }


def size_of(message):
    return len(message.encode()) if isinstance(message, str) else len(message)


async def handler(ws, path=None):
    ext = deflate_of(ws)
    # Messages taken since the last "!stats"; without the extension the
    # records are made here.
    taken = 0
    received, sent = [], []
    fragments = 1
    try:
        async for message in ws:
            taken += 1
            if ext is None:
                received.append((False, size_of(message), size_of(message)))
            if isinstance(message, str):
                if message == "!stats":
                    if ext is not None:
                        # The reader may have decoded messages past this one.
                        records = ext.__dict__.setdefault("received", [])
                        received = records[: taken - 1]
                        del records[:taken]
                        sent = ext.__dict__.setdefault("sent", [])
                    else:
                        received = received[: taken - 1]
                    answer = {
                        "header": ws.response_headers.get("Sec-WebSocket-Extensions", ""),
                        "params": params_of(ext),
                        "received": counts(received).json(),
                        "sent": counts(sent).json(),
                    }
                    await ws.send(json.dumps(answer))
                    taken = 0
                    received, sent = [], []
                    if ext is not None:
                        ext.sent = []  # the answer is not counted
                    continue
                match = BOMB_COMMAND.fullmatch(message)
                if match:
                    await send(ws, ext, sent, bytes(int(match.group(1))))
                    continue
                match = FRAG_COMMAND.fullmatch(message)
                if match:
                    fragments = max(1, int(match.group(1)))
                    continue
            if fragments > 1:
                # Not counted: the records are made per frame.
                records = ext.__dict__.setdefault("sent", []) if ext is not None else []
                counted = len(records)
                n = len(message)
                await ws.send([message[i * n // fragments : (i + 1) * n // fragments] for i in range(fragments)])
                del records[counted:]
                continue
            await send(ws, ext, sent, message)
    except websockets.ConnectionClosed:
        # A client going away is what tests do; it is not an error here.
        pass


async def send(ws, ext, sent, message):
    await ws.send(message)
    if ext is None:
        sent.append((False, size_of(message), size_of(message)))


def counts(records):
    c = Counts()
    for r in records:
        c.add(*r)
    return c


def compression(config):
    """serve()'s arguments for the compression config asks for."""
    if config.get("off"):
        return {"compression": None}
    return {"extensions": [
        permessage_deflate.ServerPerMessageDeflateFactory(
            server_no_context_takeover=bool(config.get("serverNoContextTakeover")),
            client_no_context_takeover=bool(config.get("clientNoContextTakeover")),
            server_max_window_bits=config.get("serverMaxWindowBits") or None,
            client_max_window_bits=config.get("clientMaxWindowBits") or None,
        )
    ]}


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


async def main(config):
    server = await websockets.serve(
        handler,
        "127.0.0.1",
        0,
        **compression(config),
        max_size=MAX_SIZE,
        # Unsolicited keepalive pings would make tests depend on timing.
        ping_interval=None,
        close_timeout=CLOSE_TIMEOUT,
    )
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    await asyncio.Future()


if __name__ == "__main__":
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    asyncio.run(main(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}))
