"""The lean HTTP/1.1 transport (agent/ship/http1.py) against real servers on 127.0.0.1.

The receiver (tests/receiver.py) for the normal path; for the answers it never gives
(``Connection: close``, chunked bodies, 100 Continue, garbage, a server that closes an idle
connection, one that never answers) a scripted server on a real socket in the test's loop.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from pydantic import SecretStr
from receiver import Receiver
from tls import make_ca, server_context, write_ca_file

from agent.errors import RetryableShipError
from agent.ship.http1 import MAX_ANSWER_BYTES, Http1Transport
from agent.ship.proxy import ProxyChoice
from agent.ship.transport import AiohttpTransport, Answer, HttpxTransport, make_transport

TOKEN = "so_test_receiver0000"
BODY = b'{"level":"info","message":"hello","meta":{"event_id":"k1"}}'
CREATED = b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Scripted:
    """A server whose handler is the test's; it keeps each request's head and counts
    connections."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.handler = handler or self.answer_all
        self.connections = 0
        self.heads: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> Scripted:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/logs"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def answer_all(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """The default handler: every request answered 201, the connection kept."""
        while True:
            await self.request(reader)
            writer.write(CREATED)

    async def request(self, reader: asyncio.StreamReader) -> bytes:
        """Read one request (head and Content-Length body); return the head."""
        head = await reader.readuntil(b"\r\n\r\n")
        self.heads.append(head)
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
        return head


def in_loop(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async test in a fresh event loop (the project does not use pytest-asyncio)."""

    @functools.wraps(test)
    def run(*args: object, **kwargs: object) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


def transport(url: str, *, timeout: float = 5.0, ca_file: Path | None = None) -> Http1Transport:
    return Http1Transport(url, SecretStr(TOKEN), concurrency=2, timeout=timeout, ca_file=ca_file)


@in_loop
async def test_posts_to_the_receiver_with_token_and_key_and_reuses_the_connection() -> None:
    async with Scripted() as server:  # every request answered 201, connection kept
        http = transport(server.url)
        answers = [await http.post(BODY, f"k{i}") for i in range(3)]
        await http.aclose()
    assert [a.status for a in answers] == [201, 201, 201]
    assert server.connections == 1  # kept alive
    head = server.heads[0].decode()
    port = server.port
    assert head.startswith("POST /logs HTTP/1.1\r\n")
    for line in (
        f"Host: 127.0.0.1:{port}",
        f"Authorization: Bearer {TOKEN}",
        "Content-Type: application/json",
        "Idempotency-Key: k0",
        f"Content-Length: {len(BODY)}",
    ):
        assert line in head.split("\r\n")


def test_the_receiver_accepts_what_it_sends() -> None:
    with Receiver(token=TOKEN) as rx:

        async def send() -> list[int]:
            http = transport(rx.url + "/logs")
            try:
                return [
                    (await http.post(BODY.replace(b"k1", key.encode()), key)).status
                    for key in ("k1", "k2")
                ]
            finally:
                await http.aclose()

        statuses = asyncio.run(send())
    assert statuses == [201, 201]
    assert rx.state.accepted == {"k1": 1, "k2": 1}


@in_loop
async def test_a_new_token_is_used_from_the_next_request() -> None:
    async with Scripted() as server:  # every request answered 201, connection kept
        http = transport(server.url)
        await http.post(BODY, "k1")
        http.set_token(SecretStr("so_test_another000"))
        await http.post(BODY, "k2")
        await http.aclose()
    assert b"Bearer so_test_another000" in server.heads[1]
    assert TOKEN.encode() not in server.heads[1]


@in_loop
async def test_connection_close_answers_open_a_new_connection_each_time() -> None:
    async def close_after(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.request(reader)
        writer.write(b"HTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()

    async with Scripted(close_after) as server:
        http = transport(server.url)
        statuses = [(await http.post(BODY, f"k{i}")).status for i in range(2)]
        await http.aclose()
    assert statuses == [201, 201]
    assert server.connections == 2


@in_loop
async def test_an_idle_connection_the_server_closed_is_replaced_without_an_error() -> None:
    answered = asyncio.Event()

    async def one_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.request(reader)
        writer.write(CREATED)  # keep-alive, but the server closes it right after
        await writer.drain()
        answered.set()

    async with Scripted(one_then_close) as server:
        http = transport(server.url)
        assert (await http.post(BODY, "k1")).status == 201
        await answered.wait()
        answer = await http.post(BODY, "k2")
        await http.aclose()
    assert answer.status == 201
    assert server.connections == 2


async def first_then_created(reply: bytes) -> tuple[Answer, Answer, int]:
    """Two posts on one server: the first answered ``reply``, the second 201; the answers
    and how many connections the server saw."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.request(reader)
        writer.write(reply)
        await server.request(reader)  # the connection is still usable
        writer.write(CREATED)

    async with Scripted(handler) as server:
        http = transport(server.url)
        first = await http.post(BODY, "k1")
        second = await http.post(BODY, "k2")
        await http.aclose()
    return first, second, server.connections


@in_loop
async def test_chunked_answer_with_retry_after_after_an_interim_100() -> None:
    first, second, connections = await first_then_created(
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
        b'5\r\n{"err\r\n6\r\nor":1}\r\n0\r\n\r\n'
    )
    assert (first.status, first.retry_after, first.body) == (429, "7", b'{"error":1}')
    assert second.status == 201 and connections == 1


@in_loop
async def test_a_long_answer_body_is_cut_and_the_connection_stays_usable() -> None:
    big = b"x" * (MAX_ANSWER_BYTES * 3)
    first, second, connections = await first_then_created(
        b"HTTP/1.1 500 Oops\r\nContent-Length: %d\r\n\r\n%s" % (len(big), big)
    )
    assert first.status == 500 and first.body == big[:MAX_ANSWER_BYTES]
    assert second.status == 201 and connections == 1


@pytest.mark.parametrize(
    "reply",
    [b"SMTP ready\r\n\r\n", b"HTTP/1.1 201 Cre"],  # garbage; closed in the middle of an answer
    ids=["garbage", "cut"],
)
@in_loop
async def test_no_answer_is_a_retryable_error_naming_the_host_not_the_token(reply: bytes) -> None:
    async def bad(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.request(reader)
        writer.write(reply)
        await writer.drain()

    async with Scripted(bad) as server:
        http = transport(server.url)
        with pytest.raises(RetryableShipError) as caught:
            await http.post(BODY, "k1")
        await http.aclose()
    port = server.port
    assert f"connection failed to 127.0.0.1:{port}" in str(caught.value)
    assert TOKEN not in str(caught.value)


@in_loop
async def test_a_server_that_never_answers_times_out_and_the_connection_is_closed() -> None:
    closed = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.request(reader)
        await reader.read()  # returns at EOF: the client closed its end
        closed.set()

    async with Scripted(silent) as server:
        http = transport(server.url, timeout=0.3)
        with pytest.raises(RetryableShipError, match=r"timeout after 0\.3 s"):
            await http.post(BODY, "k1")
        await asyncio.wait_for(closed.wait(), 10)
        await http.aclose()


@in_loop
async def test_connection_refused_names_host_and_port() -> None:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    http = transport(f"http://127.0.0.1:{port}/logs")
    with pytest.raises(RetryableShipError) as caught:
        await http.post(BODY, "k1")
    assert str(caught.value) == f"cannot connect to 127.0.0.1:{port}: Connection refused"


def test_tls_is_verified_against_the_system_store_plus_ca_file(tmp_path: Path) -> None:
    ca = make_ca()
    with Receiver(token=TOKEN, tls=server_context(ca, "127.0.0.1")) as rx:

        async def post(ca_file: Path | None) -> int:
            http = transport(rx.url + "/logs", ca_file=ca_file)
            try:
                return (await http.post(BODY, "k1")).status
            finally:
                await http.aclose()

        assert asyncio.run(post(write_ca_file(ca, tmp_path / "ca.pem"))) == 201
        with pytest.raises(RetryableShipError, match="TLS certificate not trusted"):
            asyncio.run(post(None))


def test_make_transport_picks_http1_direct_aiohttp_through_a_proxy() -> None:
    token = SecretStr(TOKEN)
    url = "https://api.example/logs"
    direct = make_transport("http1", url, token, concurrency=2, timeout=5)
    proxied = make_transport(
        "http1",
        url,
        token,
        concurrency=2,
        timeout=5,
        proxy=ProxyChoice("http://127.0.0.1:3128", "environment"),
    )
    assert isinstance(direct, Http1Transport)
    assert isinstance(proxied, AiohttpTransport)
    assert isinstance(make_transport("httpx", url, token, concurrency=2, timeout=5), HttpxTransport)
    assert TOKEN not in repr(direct)
