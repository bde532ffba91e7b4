"""WebSocket echo server on the Python `websockets` library, run by peers.PythonEcho.

Usage: python_echo.py [PROTOCOL...]

It listens on 127.0.0.1 with an ephemeral port and prints the port on a line
of its own once it accepts connections. It echoes every message with its type.
The text message "!close CODE [REASON]" makes it close the connection with CODE
and REASON, and "!ping [PAYLOAD]" makes it send a ping with PAYLOAD; once the
client's pong with that payload arrives, it sends the text message
"pong:PAYLOAD", so that a test can tell the client answered.

When the environment variable WSLOOP_BASIC_AUTH is set, to "USER:PASSWORD", the
server demands HTTP Basic authentication (RFC 7617) with those credentials, as
websockets' basic_auth_protocol_factory does it in realm "wsloop": a handshake
without them, or with others, gets a 401 whose WWW-Authenticate offers Basic.

It exits when its standard input is closed, so that it does not outlive a test
binary that is killed before it could stop the server.

Written for websockets 10.4 (Debian bookworm), the legacy API where the handler
gets (ws, path); it sticks to what newer versions still accept.
"""

import asyncio
import os
import re
import sys
import threading

import websockets

MAX_SIZE = 64 << 20

# Same wait as the Go echo server gives a client to answer a close frame.
CLOSE_TIMEOUT = 2

# The realm of WSLOOP_BASIC_AUTH's challenge.
REALM = "wsloop"

CLOSE_COMMAND = re.compile(r"!close (\d{1,5})(?: (.*))?", re.DOTALL)
PING_COMMAND = re.compile(r"!ping(?: (.*))?", re.DOTALL)


def select_protocol(protocols):
    """Return a select_subprotocol callback picking the client's first choice
    that the server supports.

    The library's default ranks by client and server order together, which is
    not what the Go echo server does, so tests could not share expectations.
    """

    def select(first, second):
        # websockets 10.x passes (client offers, server protocols); the
        # newer implementation passes (connection, client offers).
        offered = first if isinstance(first, (list, tuple)) else second
        for protocol in offered:
            if protocol in protocols:
                return protocol
        return None

    return select


async def report_pong(ws, payload, pong_waiter):
    """Send "pong:PAYLOAD" once the client answered the ping with PAYLOAD."""
    try:
        await pong_waiter
        await ws.send("pong:" + payload)
    except websockets.ConnectionClosed:
        # The client went away without answering, or before the report
        # could be sent: the test that wanted it fails on its side.
        pass


async def handler(ws, path=None):
    # Tasks waiting for pongs; the event loop keeps only weak references.
    reports = set()
    try:
        async for message in ws:
            if isinstance(message, str):
                match = CLOSE_COMMAND.fullmatch(message)
                if match:
                    await ws.close(int(match.group(1)), match.group(2) or "")
                    return
                match = PING_COMMAND.fullmatch(message)
                if match:
                    payload = match.group(1) or ""
                    # The ping goes out before any later echo; the pong is
                    # awaited aside so that echoing goes on meanwhile.
                    pong_waiter = await ws.ping(payload)
                    task = asyncio.create_task(report_pong(ws, payload, pong_waiter))
                    reports.add(task)
                    task.add_done_callback(reports.discard)
                    continue
            await ws.send(message)
    except websockets.ConnectionClosed:
        # A client going away is what tests do; it is not an error here.
        pass


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


def basic_auth():
    """Return the serve() arguments that demand WSLOOP_BASIC_AUTH's
    credentials, or none when it is unset."""
    credentials = os.environ.get("WSLOOP_BASIC_AUTH")
    if credentials is None:
        return {}
    # Basic's user-pass is split at its first colon (RFC 7617 2).
    user, _, password = credentials.partition(":")
    return {
        "create_protocol": websockets.basic_auth_protocol_factory(
            realm=REALM, credentials=(user, password)
        )
    }


async def main(protocols):
    server = await websockets.serve(
        handler,
        "127.0.0.1",
        0,
        subprotocols=protocols or None,
        select_subprotocol=select_protocol(protocols),
        max_size=MAX_SIZE,
        # Unsolicited keepalive pings would make tests depend on timing.
        ping_interval=None,
        close_timeout=CLOSE_TIMEOUT,
        **basic_auth(),
    )
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    await asyncio.Future()


if __name__ == "__main__":
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    asyncio.run(main(sys.argv[1:]))
