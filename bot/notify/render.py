"""A notification as the patient reads it, in their language, at send time (issue 11).

The backend stores a kind and parameters (`backend.services.notifications`); this module turns
them into texts through the one translator: on Telegram a message with buttons (Open / This
wasn't me; a reminder: Confirm / Cancel), on SMS a short text within 2 segments that names the
application, says how to open it and how to reach 1414.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from backend.domain.documents import format_code
from backend.domain.refusals import Refusal, RefusalCode
from backend.domain.statuses import ApplicationStatus, ServiceType
from backend.services.notifications import FOR_NAME, Kind, Notification
from bot.i18n import Translator
from bot.sms.segments import gsm7_or_original
from dialogs.common import person_name, refusal_notice, service_label, status_label
from dialogs.engine.text import T, Text, Verbatim

KZ_TZ = ZoneInfo("Asia/Almaty")  # Kazakhstan is one zone (UTC+5) since 2024-03-01
DEFAULT_LANGUAGE = "kk"

# Buttons (Telegram). The action ids travel in the callback data (bot/telegram/notifications.py).
OPEN = "open"
NOT_ME = "notme"
CONFIRM = "ok"
CANCEL = "cancel"
BUTTONS: Mapping[str, Text] = {
    OPEN: T("Open"),
    NOT_ME: T("This wasn't me"),
    CONFIRM: T("Confirm"),
    CANCEL: T("Cancel the appointment"),
}

NOT_ME_LINE = T("If this wasn't you, choose «This wasn't me»: the contact centre 1414 will help.")
SMS_OPEN = T("To open: MENU → «My applications».")
SMS_NOT_ME = T("Not you? Call 1414.")
SMS_REMINDER_ANSWER = T("Reply OK to confirm. To cancel: MENU → «My appointments».")
# a deadline passed without a result: the patient is told once, with the contact centre.
DEADLINE = T(
    "The deadline of application {number} ({service}) has passed without a result. "
    "Please call the contact centre 1414: they will find out and help."
)
SMS_DEADLINE = T("Application {number}: the deadline has passed without a result. Call 1414.")
THANKS = T("Thank you! We are expecting you.")


# Issue 13: a signed document is ready. Telegram sends the file itself (protected); an SMS
# never carries a sensitive document's content: the code and an expiring link only.
DOCUMENT_READY = T(
    "Your document for application {number} ({service}) is ready, signed with the EDS. "
    "Verification code: {code}."
)
SMS_DOCUMENT_READY = T("Application {number}: the document is ready. Code {code}. PDF: {link}")
# The same kind, revoked variant (params["revoked"]): no file, no link; verification says so.
DOCUMENT_REVOKED = T(
    "The document of application {number} ({service}), code {code}, has been revoked: it is "
    "no longer valid, and verification says so. Questions: your clinic or 1414."
)
SMS_DOCUMENT_REVOKED = T("Application {number}: document {code} revoked, no longer valid. 1414.")


@dataclass(frozen=True, slots=True)
class RenderedNotification:
    text: str  # plain text: HTML-escaping is the Telegram sender's job
    buttons: Sequence[tuple[str, str]]  # (action, label), in order
    document_id: int | None = None  # issue 13: sent as the document itself (sendDocument)


def _when(params: Mapping[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(str(params["when"])).astimezone(KZ_TZ)


def _number(params: Mapping[str, Any]) -> Verbatim:
    return Verbatim(str(params.get("number", "")))


def _service(params: Mapping[str, Any]) -> Text:
    return service_label(ServiceType(params["service"]))


def _document_lines(p: Mapping[str, Any], number: Verbatim, *, sms: bool) -> list[Text]:
    """Issue 13: the document is ready (the file or a link), or, revoked, no longer valid."""
    code = Verbatim(format_code(str(p.get("code", ""))))
    if p.get("revoked"):
        if sms:
            return [Text(SMS_DOCUMENT_REVOKED.msgid, {"number": number, "code": code})]
        return [
            Text(
                DOCUMENT_REVOKED.msgid,
                {"number": number, "service": _service(p), "code": code},
            )
        ]
    if sms:
        link = Verbatim(str(p.get("link", "")))
        return [Text(SMS_DOCUMENT_READY.msgid, {"number": number, "code": code, "link": link})]
    return [Text(DOCUMENT_READY.msgid, {"number": number, "service": _service(p), "code": code})]


def lines(notification: Notification, *, sms: bool) -> list[Text]:
    """The message of one notification, line by line (untranslated); about a child, sent to
    their representative, it starts with whom it is for (issue 15: «Әли С. үшін», "For Ali
    S.", the same words as the dialogs' confirmations)."""
    about = notification.params.get(FOR_NAME)
    out = _lines(notification, sms=sms)
    if about:
        return [T("For {name}", name=person_name(str(about))), *out]
    return out


def _lines(notification: Notification, *, sms: bool) -> list[Text]:
    p = notification.params
    number = _number(p)
    kind = notification.kind
    if kind is Kind.STATUS:
        status = ApplicationStatus(p["status"])
        out = [
            T(
                "Application No. {number}, status: {status}.",
                number=number,
                status=status_label(status),
            )
            if sms
            else T(
                "Application {number} ({service}) has a new status: {status}.",
                number=number,
                service=_service(p),
                status=status_label(status),
            )
        ]
        refusal = p.get("refusal")
        if status is ApplicationStatus.REFUSED and refusal and not sms:
            out.append(refusal_notice(Refusal(RefusalCode(refusal))))  # with its ground
        return out
    if kind is Kind.BOOKED:
        return [
            T(
                "An appointment was made for you: {when}, application {number}.",
                when=_when(p),
                number=number,
            )
        ]
    if kind is Kind.MOVED:
        return [
            T(
                "Your appointment was moved to {when}, application {number}.",
                when=_when(p),
                number=number,
            )
        ]
    if kind is Kind.CANCELLED:
        return [
            T(
                "Your appointment of {when} was cancelled, application {number}.",
                when=_when(p),
                number=number,
            )
        ]
    if kind is Kind.REMINDER:
        return [
            T(
                "Reminder: your appointment is on {when}, application {number}.",
                when=_when(p),
                number=number,
            )
        ]
    if kind is Kind.VISIT:
        until = dt.datetime.fromisoformat(str(p["until"])).astimezone(KZ_TZ)
        return [
            T(
                "The doctor will come to you on {when}–{until}, application {number}.",
                when=_when(p),
                until=until.time(),
                number=number,
            )
        ]
    if kind is Kind.DOCUMENT:
        return _document_lines(p, number, sms=sms)
    if kind is Kind.DEADLINE:
        if sms:
            return [Text(SMS_DEADLINE.msgid, {"number": number})]
        return [Text(DEADLINE.msgid, {"number": number, "service": _service(p)})]
    raise ValueError(f"no message for {kind}")  # pragma: no cover - every kind is above


def render_telegram(notification: Notification, translator: Translator) -> RenderedNotification:
    language = notification.language or DEFAULT_LANGUAGE
    parts = [translator.render(t, language) for t in lines(notification, sms=False)]
    if notification.kind is Kind.REMINDER:
        actions = [CONFIRM, CANCEL]
    else:
        if notification.kind is not Kind.DEADLINE:
            parts.append(translator.render(NOT_ME_LINE, language))
        actions = [OPEN, NOT_ME]
    buttons = [(a, translator.render(BUTTONS[a], language)) for a in actions]
    document = (
        notification.params.get("document_id")
        if notification.kind is Kind.DOCUMENT and not notification.params.get("revoked")
        else None
    )
    return RenderedNotification("\n\n".join(parts), buttons, int(document) if document else None)


def render_sms(notification: Notification, translator: Translator) -> str:
    language = notification.language or DEFAULT_LANGUAGE
    texts = lines(notification, sms=True)
    if notification.kind is Kind.REMINDER:
        texts.append(SMS_REMINDER_ANSWER)
    elif notification.kind is Kind.DOCUMENT:
        pass  # one message: the code and the link (2 segments)
    elif notification.kind is not Kind.DEADLINE:
        texts.extend((SMS_OPEN, SMS_NOT_ME))
    body = "\n".join(translator.render(t, language, style="short", context="sms") for t in texts)
    return gsm7_or_original(body)  # English: GSM-7 (one segment more text), as Twilio would
