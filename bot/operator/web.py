"""The console's plumbing, shared by every page: forms read within limits, templates, the
signed-in staff member of a request, role checks, and server-sent events.

Adding a page is: a handler that calls `require(request, roles)` (or relies on the guard for
"any signed-in staff member"), reads `form(request)` for a POST (the guard has already checked
its CSRF token), and returns `render(request, "page.html", ...)`. Live updates: return
`await event_stream(request, events)` with any async iterator of `Event`.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl

import aiohttp_jinja2
from aiohttp import hdrs, web

from backend.services import staff
from bot.app import body_deadline
from bot.logs import get_logger
from bot.operator.language import Words
from bot.operator.page import secure

log = get_logger("bot.operator")

MAX_FORM_BYTES: Final = 64 * 1024
MAX_FIELDS: Final = 50
HEARTBEAT_SECONDS: Final = 15.0
# Tests beat faster: app[HEARTBEAT_KEY] = 0.2 on the main application.
HEARTBEAT_KEY: Final = web.AppKey("console_heartbeat_seconds", float)


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Form:
    fields: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, Upload] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)


# What the guard puts on a request for the pages.
STAFF_KEY: Final = web.RequestKey("dariger_staff", staff.StaffSession)
WORDS_KEY: Final = web.RequestKey("dariger_words", Words)
FORM_KEY: Final = web.RequestKey("dariger_form", Form)
MACHINE_KEY: Final = web.RequestKey("dariger_machine", bool)  # the OPERATOR_TOKEN API


class BodyRefused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


async def read_body(request: web.Request, limit: int) -> bytes:
    """The body (the console reads its own: READS_OWN_BODY), 413 past `limit`, 408 if slow."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyRefused(413)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(body_deadline(request)):
            while chunk := await request.content.read(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise BodyRefused(413)
                chunks.append(chunk)
    except TimeoutError:
        raise BodyRefused(408) from None
    return b"".join(chunks)


def parse_form(content_type: str, raw: bytes) -> Form:
    """An urlencoded or multipart form; anything unreadable is an empty form (CSRF fails)."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        try:
            pairs = parse_qsl(
                raw.decode("utf-8"),
                keep_blank_values=True,
                strict_parsing=False,
                max_num_fields=MAX_FIELDS,
            )
        except (UnicodeDecodeError, ValueError):
            return Form()
        return Form(fields=dict(pairs))
    if content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
        if not message.is_multipart():
            return Form()
        fields: dict[str, str] = {}
        files: dict[str, Upload] = {}
        for part in list(message.iter_parts())[:MAX_FIELDS]:
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename()
            if filename is not None:
                files[name] = Upload(filename, part.get_content_type(), content)
            else:
                fields[name] = content.decode("utf-8", errors="replace")
        return Form(fields=fields, files=files)
    return Form()


def form(request: web.Request) -> Form:
    found = request.get(FORM_KEY)
    return found if isinstance(found, Form) else Form()


def current(request: web.Request) -> staff.StaffSession:
    """The signed-in staff member (the guard lets no request without one reach a page)."""
    found = request.get(STAFF_KEY)
    if not isinstance(found, staff.StaffSession):  # pragma: no cover - the guard's job
        raise web.HTTPUnauthorized
    return found


def words(request: web.Request) -> Words:
    found = request.get(WORDS_KEY)
    if not isinstance(found, Words):  # pragma: no cover - the guard's job
        raise RuntimeError("no Words on the request")
    return found


class Forbidden(Exception):
    """A signed-in staff member whose role does not open this page (answered 403)."""


def require(request: web.Request, roles: Iterable[staff.Role]) -> staff.StaffSession:
    signed_in = current(request)
    if signed_in.account.role not in frozenset(roles):
        raise Forbidden
    return signed_in


def render(
    request: web.Request,
    template: str,
    *,
    status: int = 200,
    title: str,
    **context: Any,
) -> web.Response:
    """A page in the base layout, in the request's language, with the session's CSRF token."""
    said = words(request)
    signed_in = request.get(STAFF_KEY)
    languages = [
        (code, str(request.rel_url.update_query(lang=code)), code == said.language)
        for code in ("kk", "ru", "en")
    ]
    page = {
        "C_": said,
        "lang": said.language,
        "languages": languages,
        "title": title,
        "me": signed_in.account if isinstance(signed_in, staff.StaffSession) else None,
        "csrf": signed_in.csrf_secret if isinstance(signed_in, staff.StaffSession) else "",
        "roles": staff.Role,
        **context,
    }
    response = aiohttp_jinja2.render_template(template, request, page, status=status)
    response.charset = "utf-8"
    return response


@dataclass(frozen=True)
class Event:
    """One server-sent event: `event: name` and JSON `data`."""

    name: str
    data: Mapping[str, Any]


def _frame(event: Event) -> bytes:
    data = json.dumps(event.data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event.name}\ndata: {data}\n\n".encode()


async def event_stream(
    request: web.Request,
    events: AsyncIterator[Event],
    *,
    alive: Callable[[], Awaitable[bool]],
    heartbeat: float | None = None,
) -> web.StreamResponse:
    """Stream `events` as `text/event-stream`, a comment every `heartbeat` seconds; before
    each write `alive()` is asked (the session still valid): when not, an `end` event is sent
    and the stream closes (sign-out, expiry, account disabled)."""
    if heartbeat is None:
        heartbeat = request.config_dict.get(HEARTBEAT_KEY, HEARTBEAT_SECONDS)
    response = web.StreamResponse(
        headers={
            hdrs.CONTENT_TYPE: "text/event-stream; charset=utf-8",
            "X-Accel-Buffering": "no",  # nginx: do not buffer the stream
        }
    )
    secure(response.headers)
    await response.prepare(request)
    iterator = aiter(events)
    pending: asyncio.Task[Event] | None = None
    try:
        await response.write(b": connected\n\n")
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(iterator))
            done, _ = await asyncio.wait({pending}, timeout=heartbeat)
            if not await alive():
                await response.write(_frame(Event("end", {"reason": "signed_out"})))
                break
            if not done:
                await response.write(b": heartbeat\n\n")
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                pending = None
                break
            pending = None
            await response.write(_frame(event))
    except ConnectionResetError:
        log.debug("event stream closed by the client")
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.wait({pending})  # the generator stops running before it is closed
        close = getattr(iterator, "aclose", None)
        if close is not None:
            with contextlib.suppress(RuntimeError):
                await close()
    return response
