"""Issue 9 §4: clients that send their headers or their body slowly do not hold connections.

A real server on 127.0.0.1 (the runner `dariger serve` uses), a few sockets that trickle their
request; each must be closed by the server within a generous bound (no timing assertion: the
bound only keeps a broken limit from hanging the suite).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from backend.adapters.db import migrate
from backend.bootstrap import bootstrap
from bot.app import SLOT_TOP_UP_KEY, create_app, make_runner
from bot.config import Settings
from bot.sms.channel import SMS_WORKER_KEY

pytestmark = pytest.mark.usefixtures("clean_env")

CLIENTS = 20
LIMIT_SECONDS = 1.0  # the server's limit in these tests (production: 15 s)
BOUND_SECONDS = 20.0  # how long a test waits for the server to close a connection
TRICKLE_SECONDS = 0.2


@pytest.fixture
async def server(sqlite_url: str, free_port: int) -> AsyncIterator[int]:
    from aiohttp import web

    await asyncio.to_thread(migrate, sqlite_url)
    app = create_app(
        Settings(database_url=sqlite_url, otp_pepper="0123456789abcdef"),
        bootstrap(sqlite_url),
        body_timeout=LIMIT_SECONDS,
    )
    app[SLOT_TOP_UP_KEY] = False
    app[SMS_WORKER_KEY] = False
    runner = make_runner(app, keepalive_timeout=LIMIT_SECONDS)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", free_port).start()
    try:
        yield free_port
    finally:
        await runner.cleanup()


async def _trickle(port: int, head: bytes, drip: bytes, *, until: bytes = b"") -> bytes:
    """Send `head`, then `drip` every so often until the server closes (or has answered
    `until`); what it answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    answer = b""
    try:
        async with asyncio.timeout(BOUND_SECONDS):
            while True:
                try:
                    chunk = await asyncio.wait_for(reader.read(1024), TRICKLE_SECONDS)
                except TimeoutError:
                    writer.write(drip)  # still open: one more slow line
                    with contextlib.suppress(ConnectionError):
                        await writer.drain()
                    continue
                if not chunk:
                    return answer  # closed by the server
                answer += chunk
                if until and until in answer:
                    return answer
    except ConnectionError:
        return answer
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_connections_that_send_headers_slowly_are_closed(server: int) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"

    answers = await asyncio.gather(
        *(_trickle(server, head, b"X-Slow: 1\r\n") for _ in range(CLIENTS))
    )

    # Every one was closed (a timeout above would have failed the test) and none was served.
    assert answers == [b""] * CLIENTS


async def test_a_connection_that_sends_nothing_is_closed(server: int) -> None:
    answers = await asyncio.gather(*(_trickle(server, b"", b"") for _ in range(CLIENTS)))

    assert answers == [b""] * CLIENTS


async def test_a_body_sent_slowly_is_refused_with_408(server: int) -> None:
    head = (
        b"POST /sms/twilio HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nBody="
    )

    answers = await asyncio.gather(
        *(_trickle(server, head, b"a", until=b"\r\n\r\n") for _ in range(5))
    )

    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]


async def test_a_prompt_client_is_still_served(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    async with asyncio.timeout(BOUND_SECONDS):
        answer = await reader.read()
    writer.close()

    assert answer.startswith(b"HTTP/1.1 200")
