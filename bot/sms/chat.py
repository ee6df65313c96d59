"""`dariger chat --phone +77011234567`: text the service from a terminal, by the real SMS path.

Each line typed is sent as Twilio would send it: a form signed with `X-Twilio-Signature` and
posted to `POST /sms/twilio`. The TwiML reply is printed, and so is every SMS the service sends
on its own (the outbox: an OTP code, a notification).

- In-process (the default): the app runs inside this command on a local port, on the database
  of DATABASE_URL (run `dariger demo-data` once for the demo patients); messages are signed with
  a one-off token. Outgoing SMS are printed (and go to the configured sender as well).
- `--url http://127.0.0.1:8080`: a running `dariger serve`. Messages are signed with its
  TWILIO_AUTH_TOKEN for its PUBLIC_BASE_URL (or the URL given); with the console sender, new
  SMS to this phone are read from CONSOLE_SMS_PATH.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TextIO
from xml.etree import ElementTree

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from backend.bootstrap import Backend
from backend.domain.phone import mask_phone
from bot.config import Settings
from bot.sms.segments import count_segments
from bot.sms.webhook import INBOUND_PATH, SIGNATURE_HEADER
from otp import SentSms, SmsSender, read_console_outbox

OUR_NUMBER = "+77000001414"  # the service's number in the forms we sign (any will do)
IN_PROCESS_BASE = "http://dariger.chat"
QUIT = frozenset({"/quit", "/exit", "/q"})


def reply_text(xml: str) -> str | None:
    """The message of a TwiML reply; None for an empty `<Response/>`."""
    root = ElementTree.fromstring(xml)  # noqa: S314 - the reply of our own service
    message = root.find("Message")
    return None if message is None else (message.text or "")


def describe(text: str) -> str:
    count = count_segments(text)
    unit = "segment" if count.segments == 1 else "segments"
    return f"{count.segments} {unit}, {count.encoding.value}, {len(text)} chars"


@dataclass
class Printer:
    out: TextIO

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def reply(self, text: str | None) -> None:
        if text is None:
            self.line("dariger> (no reply)")
            return
        lines = text.splitlines() or [""]
        self.line(f"dariger> {lines[0]}")
        for rest in lines[1:]:
            self.line(f"         {rest}")
        self.line(f"         ({describe(text)})")

    def sms(self, to: str, body: str) -> None:
        self.line(f"[SMS to {mask_phone(to)}] {body}")


@dataclass
class PrintingSender:
    """The gateway sender, printing each SMS before handing it on."""

    inner: SmsSender
    printer: Printer
    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, to: str, body: str) -> SentSms:
        self.printer.sms(to, body)
        self.sent.append((to, body))
        return await self.inner.send(to, body)


class SignedPoster:
    """Posts one inbound SMS like Twilio: signed for the public URL of the webhook."""

    def __init__(self, session: aiohttp.ClientSession, post_url: str, signed_url: str, token: str):
        self.session = session
        self.post_url = post_url
        self.signed_url = signed_url
        self.validator = RequestValidator(token)
        self.count = 0

    async def send(self, phone: str, body: str) -> str | None:
        self.count += 1
        form = {
            "MessageSid": f"SMchat{secrets.token_hex(13)}",
            "AccountSid": "AC" + "0" * 32,
            "From": phone,
            "To": OUR_NUMBER,
            "Body": body,
            "NumSegments": str(count_segments(body).segments or 1),
        }
        signature = self.validator.compute_signature(self.signed_url, form)
        async with self.session.post(
            self.post_url, data=form, headers={SIGNATURE_HEADER: signature}
        ) as response:
            text = await response.text()
            if response.status != 200:
                raise ChatError(f"the service answered {response.status}: {text[:200]}")
            return reply_text(text)


class ChatError(Exception):
    pass


async def stdin_lines(prompt: str = "you> ") -> AsyncIterator[str]:
    """Lines typed at the prompt; piped input is echoed after the prompt instead."""
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            print(prompt, end="", flush=True)  # noqa: T201
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return
        if not interactive:
            print(f"{prompt}{line.rstrip()}", flush=True)  # noqa: T201
        yield line.rstrip("\n")


async def _converse(
    poster: SignedPoster,
    phone: str,
    lines: AsyncIterator[str],
    printer: Printer,
    after_reply: Callable[[], object],
) -> None:
    async for line in lines:
        if line.strip() in QUIT:
            return
        printer.reply(await poster.send(phone, line))
        result = after_reply()
        if asyncio.iscoroutine(result):
            await result


async def chat_in_process(
    settings: Settings,
    backend: Backend,
    phone: str,
    lines: AsyncIterator[str],
    out: TextIO,
    *,
    sender: SmsSender | None = None,
) -> None:
    """Run the app on a local port and talk to it (the app owns and closes `backend`)."""
    from bot.app import create_app  # noqa: PLC0415 - the app imports this package
    from bot.runtime import build_sender  # noqa: PLC0415
    from bot.sms.channel import SMS_KEY, SMS_WORKER_KEY  # noqa: PLC0415

    printer = Printer(out)
    token = secrets.token_urlsafe(24)  # this session's signing key, known only here
    local = settings.model_copy(
        update={"twilio_auth_token": SecretStr(token), "public_base_url": IN_PROCESS_BASE}
    )
    gateway = PrintingSender(sender or build_sender(settings), printer)
    app = create_app(local, backend, sender=gateway)
    # The session sends the outbox itself after each reply (`drain` below), so an OTP code is
    # printed before the next prompt. With the app's background worker running too, the worker
    # could claim the message first and `drain` returned before it was sent (issue 17).
    app[SMS_WORKER_KEY] = False
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        printer.line(f"Texting Dariger as {phone} (in-process app; /quit or Ctrl-D to leave).")
        channel = app[SMS_KEY]
        async with aiohttp.ClientSession() as session:
            poster = SignedPoster(
                session,
                f"http://{host}:{port}{INBOUND_PATH}",
                IN_PROCESS_BASE + INBOUND_PATH,
                token,
            )
            await _converse(poster, phone, lines, printer, channel.worker.drain)
    finally:
        await runner.cleanup()


async def chat_remote(
    settings: Settings, url: str, phone: str, lines: AsyncIterator[str], out: TextIO
) -> None:
    printer = Printer(out)
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    if not token:
        raise ChatError("set TWILIO_AUTH_TOKEN to the running service's token to sign messages")
    base = url.rstrip("/")
    signed_base = (settings.public_base_url or base).rstrip("/")
    console = settings.sms_sender == "console"
    seen = len(read_console_outbox(settings.console_sms_path, 1000)) if console else 0

    async def show_new_sms() -> None:
        nonlocal seen
        if not console:
            return
        await asyncio.sleep(0.5)  # the service's outbox worker sends within a poll
        entries = read_console_outbox(settings.console_sms_path, 1000)
        for entry in entries[seen:]:
            if entry.get("to") == phone:
                printer.sms(phone, str(entry.get("body", "")))
        seen = len(entries)

    printer.line(f"Texting {base} as {phone} (/quit or Ctrl-D to leave).")
    async with aiohttp.ClientSession() as session:
        poster = SignedPoster(session, base + INBOUND_PATH, signed_base + INBOUND_PATH, token)
        await _converse(poster, phone, lines, printer, show_new_sms)
