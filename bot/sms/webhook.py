"""Twilio's webhooks: inbound messages (`POST /sms/twilio`) and delivery reports
(`POST /sms/twilio/status`), both signed.

Each request's `X-Twilio-Signature` is checked with the twilio library's `RequestValidator`
against the URL Twilio called: PUBLIC_BASE_URL + the path when it is set, otherwise the URL
rebuilt from `X-Forwarded-Proto` / `X-Forwarded-Host` (behind a proxy) or the request itself.
Unsigned or forged requests get 403 and are not processed. Inbound messages are processed once
per `MessageSid` (a retried or duplicated delivery gets the first reply again) and answered
with TwiML: a `<Message>`, or an empty `<Response/>` when there is nothing to say now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from twilio.request_validator import RequestValidator, get_signature_algorithm
from twilio.twiml.messaging_response import MessagingResponse

from backend.bootstrap import Backend
from backend.domain.phone import mask_phone
from backend.services import outbox
from bot.logs import get_logger
from bot.sms.conversation import SmsConversations, sender_identity

log = get_logger("bot.sms.webhook")

INBOUND_PATH: Final = "/sms/twilio"
STATUS_PATH: Final = "/sms/twilio/status"
SIGNATURE_HEADER: Final = "X-Twilio-Signature"
SIGNATURE_SETTINGS_HEADER: Final = "X-Twilio-Webhooks-Signature-Settings"
_MAX_BODY = 1600  # Twilio's own limit for one message


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

    def register(self, app: web.Application) -> None:
        app.router.add_post(INBOUND_PATH, self.inbound)
        app.router.add_post(STATUS_PATH, self.status)

    async def inbound(self, request: web.Request) -> web.Response:
        form = await _signed_form(request, self.signature)
        sid = form.get("MessageSid") or form.get("SmsSid") or ""
        sender = form.get("From", "")
        if not sid or not sender:
            raise web.HTTPBadRequest(text="MessageSid and From are required")
        phone = sender_identity(sender)
        body = form.get("Body", "")[:_MAX_BODY]
        uow = self.backend.uow
        claim = await outbox.begin_inbound(
            uow(), sid[:64], phone=phone[:16], now=self.backend.clock.now()
        )
        if not claim.new:
            log.info("sms_in_duplicate", phone=mask_phone(phone), answered=claim.reply is not None)
            return twiml(claim.reply)
        try:
            reply = await self.conversations.handle(
                phone, body, carrier_keyword=form.get("OptOutType")
            )
        except Exception:
            # Forget the id, so that Twilio's retry of this message is processed.
            await outbox.abandon_inbound(uow(), sid[:64])
            raise
        await outbox.finish_inbound(uow(), sid[:64], reply=reply)
        return twiml(reply)

    async def status(self, request: web.Request) -> web.Response:
        form = await _signed_form(request, self.signature)
        sid = form.get("MessageSid") or form.get("SmsSid") or ""
        status = form.get("MessageStatus") or form.get("SmsStatus") or ""
        if not sid or not status:
            raise web.HTTPBadRequest(text="MessageSid and MessageStatus are required")
        message = await outbox.record_provider_status(
            self.backend.uow(),
            sid,
            status,
            now=self.backend.clock.now(),
            error_code=form.get("ErrorCode") or None,
        )
        if message is None:
            log.info("sms_status_unknown_message", status=status)
        elif message.provider_status in outbox.PROVIDER_FAILURES:
            log.warning(
                "sms_not_delivered",
                id=message.id,
                kind=message.kind,
                to=mask_phone(message.to_phone),
                status=message.provider_status,
                error=message.error,
            )
        return web.Response(status=204)
