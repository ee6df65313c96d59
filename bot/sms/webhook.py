"""Twilio's webhooks: inbound messages (`POST /sms/twilio`) and delivery reports
(`POST /sms/twilio/status`), both signed.

Each request's `X-Twilio-Signature` is checked with the twilio library's `RequestValidator`
against the URL Twilio called: PUBLIC_BASE_URL + the path when it is set, otherwise the URL
rebuilt from `X-Forwarded-Proto` / `X-Forwarded-Host` (behind a proxy) or the request itself.
Unsigned or forged requests get 403 and are not processed. Inbound messages are processed once
per `MessageSid` (a retried or duplicated delivery gets the first reply again) and answered
with TwiML: a `<Message>`, or an empty `<Response/>` when there is nothing to say now.

Every signed inbound message gets an answer (issue 9 §2): while the database or Redis does not
answer, the reply is a short apology naming 1414 (HTTP 200, never a 5xx), in the language the
message asks for (KZ/RU/EN), else the one last used with that phone in this process, else the
message's script, else Kazakh; the MessageSid is released, so that a redelivery of the message
is processed. Control characters never get past this boundary (`bot.sanitize`): a MessageSid
that is not Twilio's shape is refused with 400, the sender and the text are cleaned.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

import asyncpg
from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from redis import exceptions as redis_errors
from sqlalchemy import exc as sa_errors
from twilio.request_validator import RequestValidator, get_signature_algorithm
from twilio.twiml.messaging_response import MessagingResponse

from backend.bootstrap import Backend
from backend.domain.phone import mask_phone
from backend.services import outbox
from bot.logs import get_logger
from bot.metrics import METRICS_KEY, set_outcome
from bot.sanitize import clean_text
from bot.sms.conversation import CHANNEL, SmsConversations, sender_identity
from bot.sms.keywords import LANGUAGE_KEYWORDS, match_keyword
from dialogs.engine.engine import DEFAULT_LANGUAGE, FAILURE

log = get_logger("bot.sms.webhook")

INBOUND_PATH: Final = "/sms/twilio"
STATUS_PATH: Final = "/sms/twilio/status"
SIGNATURE_HEADER: Final = "X-Twilio-Signature"
SIGNATURE_SETTINGS_HEADER: Final = "X-Twilio-Webhooks-Signature-Settings"
_MAX_BODY = 1600  # Twilio's own limit for one message
# Twilio's ids are two letters and 32 hex digits; anything alphanumeric up to the column's
# width is accepted, anything else (a NUL, a space, a bidi override) is not Twilio's.
_SID = re.compile(r"[A-Za-z0-9]{1,64}")
# The languages last spoken with recent senders, for an apology that needs no dependency.
_REMEMBERED_LANGUAGES = 10_000
_KAZAKH_LETTERS = frozenset("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
_CYRILLIC = re.compile("[\u0400-\u04ff]")
# What "the database or Redis does not answer" looks like from here.
_OUTAGES: Final = (
    sa_errors.OperationalError,
    sa_errors.InterfaceError,
    sa_errors.TimeoutError,  # no pooled connection came free in time
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.ObjectNotInPrerequisiteStateError,  # "database … is not accepting connections"
    asyncpg.AdminShutdownError,
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    OSError,
    TimeoutError,  # asyncio.TimeoutError too
)


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` says a dependency (the database, Redis) did not answer."""
    if isinstance(exc, sa_errors.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa_errors.DBAPIError) and isinstance(exc.orig, _OUTAGES):
        return True
    # asyncpg's own errors arrive wrapped by SQLAlchemy's adapter: look at the causes too.
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, _OUTAGES):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def script_language(text: str) -> str | None:
    """The language a message names (KZ/RU/EN) or is written in (Cyrillic: Kazakh letters
    make it Kazakh, else Russian); None when it does not say (digits, Latin words)."""
    keyword = match_keyword(text)
    if keyword in LANGUAGE_KEYWORDS:
        return LANGUAGE_KEYWORDS[keyword]
    if any(ch in _KAZAKH_LETTERS for ch in text):
        return "kk"
    if _CYRILLIC.search(text):
        return "ru"
    return None


def reply_language(reply: str) -> str:
    """The language of one of our own replies, read from its letters."""
    return script_language(reply) or "en"


def _brief(exc: BaseException) -> str:
    """An error's type and first line, without SQLAlchemy's background link or the SQL."""
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:200]


def twiml(reply: str | None) -> web.Response:
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return web.Response(text=str(response.to_xml()), content_type="application/xml")


def _first(value: str | None) -> str | None:
    """The client-side value of a proxy header that several proxies may have appended to."""
    if not value:
        return None
    first = value.split(",")[0].strip()
    return first or None


def public_url(request: web.Request, public_base_url: str) -> str:
    """The URL Twilio called, as Twilio signed it."""
    base = public_base_url.strip().rstrip("/")
    if base:
        return base + request.rel_url.path_qs
    scheme = _first(request.headers.get("X-Forwarded-Proto")) or request.scheme
    host = _first(request.headers.get("X-Forwarded-Host")) or request.host
    return f"{scheme}://{host}{request.rel_url.path_qs}"


@dataclass
class TwilioSignature:
    """The check of `X-Twilio-Signature`; no token configured: every request is refused."""

    auth_token: str
    public_base_url: str

    def valid(self, request: web.Request, form: MultiDictProxy[str]) -> bool:
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not self.auth_token or not signature:
            return False
        algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
        url = public_url(request, self.public_base_url)
        ok = RequestValidator(self.auth_token).validate(url, form, signature, algorithm)
        return bool(ok)


async def _signed_form(request: web.Request, signature: TwilioSignature) -> MultiDictProxy[str]:
    raw = await request.post()
    # Files are never part of a Twilio webhook; a form with one is not Twilio's.
    form = MultiDictProxy(MultiDict((k, v) for k, v in raw.items() if isinstance(v, str)))
    if len(form) != len(raw) or not signature.valid(request, form):
        log.warning(
            "sms_webhook_forbidden",
            path=request.path,
            signed=SIGNATURE_HEADER in request.headers,
            configured=bool(signature.auth_token),
        )
        raise web.HTTPForbidden(text="invalid signature")
    return form


class TwilioWebhooks:
    def __init__(
        self, conversations: SmsConversations, backend: Backend, signature: TwilioSignature
    ) -> None:
        self.conversations = conversations
        self.backend = backend
        self.signature = signature
        self._languages: OrderedDict[str, str] = OrderedDict()

    def register(self, app: web.Application) -> None:
        app.router.add_post(INBOUND_PATH, self.inbound)
        app.router.add_post(STATUS_PATH, self.status)

    async def inbound(self, request: web.Request) -> web.Response:
        form = await _signed_form(request, self.signature)
        sid = form.get("MessageSid") or form.get("SmsSid") or ""
        sender = clean_text(form.get("From", "")).strip()
        if not _SID.fullmatch(sid) or not sender:
            log.warning("sms_webhook_bad_request", sid_ok=bool(_SID.fullmatch(sid)))
            raise web.HTTPBadRequest(text="MessageSid and From are required")
        metrics = request.config_dict.get(METRICS_KEY)
        if metrics is None:  # an app without metrics (tests that build the channel alone)
            return await self._inbound(sid, sender, form)
        # The MessageSid is the request id of every log line of this message (issue 16).
        with metrics.observe_event("sms", sid):
            return await self._inbound(sid, sender, form)

    async def _inbound(self, sid: str, sender: str, form: MultiDictProxy[str]) -> web.Response:
        phone = sender_identity(sender)[:16]
        body = clean_text(form.get("Body", ""), keep_layout=True)[:_MAX_BODY]
        carrier_keyword = clean_text(form.get("OptOutType", "")) or None
        # Issue 16: one unit of work for the whole message (the claim, the dialog step, the
        # reply record borrow its session), each write still committed on its own.
        async with self.backend.event():
            return await self._handle(sid, phone, body, carrier_keyword)

    async def _handle(
        self, sid: str, phone: str, body: str, carrier_keyword: str | None
    ) -> web.Response:
        uow = self.backend.uow
        claimed = False
        reply: str | None = None
        handled = False
        try:
            # One message of a phone at a time: the claim, the dialog step and the reply record
            # all under the conversation's lock, so that the opt-out and the desk chat the claim
            # reads are those left by the phone's previous message, and a duplicate delivery
            # that waited for the lock finds the first one's reply.
            async with self.conversations.serialised(phone):
                # Issue 16: the claim (committed at once, for a concurrent retry to see), the
                # opt-out and the open desk chat in one statement and one round trip.
                claim = await outbox.begin_inbound(
                    uow(), sid, phone=phone, now=self.backend.clock.now(), desk_channel=CHANNEL
                )
                if not claim.new:
                    set_outcome("duplicate")
                    log.info(
                        "sms_in_duplicate",
                        phone=mask_phone(phone),
                        answered=claim.reply is not None,
                    )
                    return twiml(claim.reply)
                claimed = True
                reply = await self.conversations.reply(
                    phone, body, carrier_keyword=carrier_keyword, claim=claim
                )
                handled = True
                await self._finish(sid, phone, reply)
        except Exception as exc:  # every message gets an answer (issue 9 §2)
            if not handled:
                return await self._apologise(exc, sid, phone, body, claimed=claimed)
            # Handled and recorded: only letting go of the lock failed (it expires).
            log.warning("sms_in_unlock_failed", phone=mask_phone(phone), error=_brief(exc))
        set_outcome("replied" if reply else "silent")
        if reply:
            self._remember(phone, reply_language(reply))
        return twiml(reply)

    async def _finish(self, sid: str, phone: str, reply: str | None) -> None:
        try:
            await outbox.finish_inbound(self.backend.uow(), sid, reply=reply)
        except Exception as exc:  # the message was handled: answer it
            # The claim stays `processing`; begin_inbound retakes it after a while.
            log.warning("sms_in_not_recorded", phone=mask_phone(phone), error=_brief(exc))

    async def _apologise(
        self, exc: Exception, sid: str, phone: str, body: str, *, claimed: bool
    ) -> web.Response:
        """The apology naming 1414, with the MessageSid released for the redelivery."""
        outage = is_outage(exc)
        set_outcome("apology_outage" if outage else "apology_error")
        if outage:
            log.warning("sms_in_dependency_down", phone=mask_phone(phone), error=_brief(exc))
        else:
            log.error("sms_in_failed", phone=mask_phone(phone), exc_info=exc)
        released = False
        if claimed:
            try:
                # Forget the id, so that Twilio's retry of this message is processed.
                await outbox.abandon_inbound(self.backend.uow(), sid)
                released = True
            except Exception as again:  # the database is down too
                log.warning("sms_in_not_released", phone=mask_phone(phone), error=_brief(again))
        language = self._language(phone, body)
        log.info("sms_in_apology", phone=mask_phone(phone), language=language, released=released)
        return twiml(self.conversations.renderer.notice([FAILURE], language))

    def _language(self, phone: str, body: str) -> str:
        """What is known without asking the failing dependency: the language the message asks
        for (KZ/RU/EN), else the last reply's, else the message's script, else Kazakh."""
        keyword = match_keyword(body)
        if keyword in LANGUAGE_KEYWORDS:
            return LANGUAGE_KEYWORDS[keyword]
        return self._languages.get(phone) or script_language(body) or DEFAULT_LANGUAGE

    def _remember(self, phone: str, language: str) -> None:
        self._languages[phone] = language
        self._languages.move_to_end(phone)
        while len(self._languages) > _REMEMBERED_LANGUAGES:
            self._languages.popitem(last=False)

    async def status(self, request: web.Request) -> web.Response:
        form = await _signed_form(request, self.signature)
        sid = form.get("MessageSid") or form.get("SmsSid") or ""
        status = clean_text(form.get("MessageStatus") or form.get("SmsStatus") or "").strip()
        if not _SID.fullmatch(sid) or not status:
            raise web.HTTPBadRequest(text="MessageSid and MessageStatus are required")
        try:
            message = await outbox.record_provider_status(
                self.backend.uow(),
                sid,
                status,
                now=self.backend.clock.now(),
                error_code=clean_text(form.get("ErrorCode") or "")[:32] or None,
            )
        except Exception as exc:
            if not is_outage(exc):
                raise
            # A delivery report is machine to machine: no patient waits for an answer. While the
            # database is down it is refused honestly (503, retry later), never a traceback 500.
            log.warning("sms_status_deferred", status=status, reason=_brief(exc))
            raise web.HTTPServiceUnavailable(
                text="delivery report not recorded: try again later", headers={"Retry-After": "60"}
            ) from None
        if message is None:
            log.info("sms_status_unknown_message", status=status)
        elif message.provider_status in outbox.PROVIDER_FAILURES:
            if (metrics := request.config_dict.get(METRICS_KEY)) is not None:
                metrics.delivery_failures.labels("sms").inc()
            log.warning(
                "sms_not_delivered",
                id=message.id,
                kind=message.kind,
                to=mask_phone(message.to_phone),
                status=message.provider_status,
                error=message.error,
            )
        return web.Response(status=204)
