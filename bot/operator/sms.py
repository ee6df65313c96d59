"""Failed outgoing SMS, as operators see them (issue 5: "a failed OTP or notification is
visible to operators").

The rows are `backend.services.outbox.problems`: messages the worker gave up on, codes that
expired unsent, and messages the gateway reported undelivered or failed. The body of a
sensitive message (an OTP code) is never shown, whatever the database still holds; other
bodies (notifications) are, so that the operator can tell the patient what they missed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Final
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from backend.services.notifications import Notification
from backend.services.outbox import OutboxMessage, OutboxStatus
from bot.i18n import LANGUAGES
from bot.operator.language import C_, Words
from bot.operator.page import esc

ALMATY: Final = ZoneInfo("Asia/Almaty")  # 1414 and the clinics keep Almaty time
DEFAULT_DAYS: Final = 7
MAX_DAYS: Final = 90  # the "days" error message names 1 to 90 in every language
PERIODS: Final = (1, 7, 30, 90)  # the quick links
LIMIT: Final = 200  # rows on one page; a longer list asks for a shorter period

KINDS: Final = {"otp": C_("SMS code"), "notification": C_("Notification")}
STATUSES: Final = {
    OutboxStatus.QUEUED: C_("Queued"),
    OutboxStatus.SENDING: C_("Sending"),
    OutboxStatus.ACCEPTED: C_("Accepted by the gateway"),
    OutboxStatus.FAILED: C_("Not sent"),
    OutboxStatus.EXPIRED: C_("Expired before sending"),
    OutboxStatus.SUPPRESSED: C_("Stopped by the patient (STOP)"),
}
# Twilio's delivery reports.
REPORTS: Final = {
    "accepted": C_("Queued"),
    "queued": C_("Queued"),
    "sending": C_("Sending"),
    "sent": C_("Sent"),
    "delivered": C_("Delivered"),
    "undelivered": C_("Not delivered"),
    "failed": C_("Failed"),
}
# Twilio's delivery error codes that an operator can act on (the others are shown as numbers).
CARRIER_ERRORS: Final = {
    "30003": C_("The phone is switched off or out of coverage."),
    "30005": C_("The number is unknown or no longer in use."),
    "30006": C_("The number cannot receive SMS (a landline?)."),
    "30007": C_("The mobile operator blocked it as spam."),
}
_GATEWAY_HTTP = re.compile(r"twilio_http_(\d{3})_code_(\w+)")
_CARRIER = re.compile(r"provider_error_(\w+)")

BAD_DAYS: Final = C_("days must be a whole number from 1 to 90.")
BAD_FORMAT: Final = C_("format must be html or json.")
TRUNCATED: Final = C_("Only the latest {limit} are shown: choose a shorter period.")


class BadQuery(ValueError):
    """A query parameter the page cannot use; `msgid` says why (a console string)."""

    def __init__(self, msgid: str) -> None:
        super().__init__(msgid)
        self.msgid = msgid


def parse_days(raw: str | None) -> int:
    if raw is None or raw.strip() == "":
        return DEFAULT_DAYS
    value = raw.strip()
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_DAYS:
        raise BadQuery(BAD_DAYS)
    return int(value)


def shown(message: OutboxMessage) -> OutboxMessage:
    """A failed message as the console may show it: without the body of a sensitive message
    (an OTP code), whatever the database still holds."""
    return replace(message, body=None) if message.sensitive else message


def local_time(moment: dt.datetime) -> str:
    """Almaty time, short and unambiguous within the 90 days shown: "25.11 09:20"."""
    return moment.astimezone(ALMATY).strftime("%d.%m %H:%M")


def _utc(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.UTC).isoformat()


def what(row: OutboxMessage, words: Words) -> str:
    label = KINDS.get("notification" if row.kind.startswith("notify_") else row.kind)
    return words(label) if label else words(C_("Other ({kind})"), kind=row.kind)


def explain(error: str | None, words: Words) -> str | None:
    """What an error code means for the operator (None: only the code is shown)."""
    if not error:
        return None
    if error == "expired_before_sending":
        return words(C_("The code expired before it could be sent."))
    if error == "opted_out":
        return words(C_("The patient has opted out of SMS (STOP)."))
    if match := _GATEWAY_HTTP.fullmatch(error):
        status = int(match.group(1))
        if status == 429 or status >= 500:
            return words(C_("The SMS gateway was unavailable."))
        return words(C_("The SMS gateway refused the message (error {code})."), code=match[2])
    if match := _CARRIER.fullmatch(error):
        known = CARRIER_ERRORS.get(match.group(1))
        if known:
            return words(known)
        return words(C_("The phone network did not deliver it (error {code})."), code=match[1])
    if error.startswith(("transport_", "twilio_", "error_")):
        return words(C_("The SMS gateway could not be reached."))
    return None


# --- JSON ------------------------------------------------------------------------------------


def as_json(
    rows: Sequence[OutboxMessage],
    *,
    days: int,
    since: dt.datetime,
    now: dt.datetime,
    more: bool,
    telegram: Sequence[Notification] = (),
) -> dict[str, Any]:
    return {
        "days": days,
        "since": _utc(since),
        "generated_at": _utc(now),
        "count": len(rows),
        "limit": LIMIT,
        "truncated": more,
        "messages": [
            {
                "id": row.id,
                "created_at": _utc(row.created_at),
                "local_time": local_time(row.created_at),
                "kind": row.kind,
                "to": row.to_phone,
                "status": row.status.value,
                "provider_status": row.provider_status,
                "error": row.error,
                "attempts": row.attempts,
                "sensitive": row.sensitive,
                "text": row.body,
            }
            for row in rows
        ],
        "telegram": [
            {
                "id": note.id,
                "created_at": _utc(note.created_at),
                "local_time": local_time(note.created_at),
                "kind": note.kind.value,
                "chat": note.address,
                "application": note.application_number,
                "status": note.status.value,
                "error": note.error,
                "attempts": note.attempts,
            }
            for note in telegram
        ],
    }


# --- HTML ------------------------------------------------------------------------------------


def _href(**query: object) -> str:
    return esc("?" + urlencode(query))


def _nav(language: str, days: int) -> str:
    links = []
    for code in LANGUAGES:
        current = ' aria-current="page"' if code == language else ""
        links.append(f'<a href="{_href(days=days, lang=code)}"{current}>{esc(code)}</a>')
    return " | ".join(links)


def _filters(words: Words, language: str, days: int) -> str:
    quick = []
    for period in PERIODS:
        current = ' aria-current="page"' if period == days else ""
        label = esc(words(C_("{days} d"), days=period))
        quick.append(f'<a href="{_href(days=period, lang=language)}"{current}>{label}</a>')
    period_label = esc(words(C_("Period:")))
    days_label = esc(words(C_("Days (1–90):")))
    show = esc(words(C_("Show")))
    return (
        f'<div class="filters"><span>{period_label}</span>{"".join(quick)}'
        f'<form method="get"><label>{days_label} '
        f'<input type="number" name="days" min="1" max="{MAX_DAYS}" value="{days}" required>'
        f'</label> <input type="hidden" name="lang" value="{esc(language)}">'
        f'<button type="submit">{show}</button></form></div>'
    )


def _row(row: OutboxMessage, words: Words) -> str:
    report = REPORTS.get(row.provider_status or "")
    if row.provider_status is None:
        no_report = esc(words(C_("No report")))
        delivery = f'<span class="muted">{no_report}</span>'
    elif report:
        delivery = f"{esc(words(report))}<br><code>{esc(row.provider_status)}</code>"
    else:
        delivery = f"<code>{esc(row.provider_status)}</code>"
    meaning = explain(row.error, words)
    error = "" if meaning is None else esc(meaning)
    if row.error:
        error += f"{'<br>' if error else ''}<code>{esc(row.error)}</code>"
    if row.sensitive:  # an OTP code: never shown, even if the database still held it
        hidden = esc(words(C_("hidden: an SMS code is never shown")))
        text = f'<span class="muted">{hidden}</span>'
    else:
        text = esc(row.body or "")
    cells = (
        esc(local_time(row.created_at)),
        esc(what(row, words)),
        f'<a href="tel:{esc(row.to_phone)}">{esc(row.to_phone)}</a>',
        esc(words(STATUSES[row.status])),
        delivery,
        error,
        str(row.attempts),
        text,
    )
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


HEADINGS: Final = (
    C_("Time"),
    C_("Type"),
    C_("Phone"),
    C_("Sending status"),
    C_("Delivery report"),
    C_("Error"),
    C_("Attempts"),
    C_("Text"),
)
PERIOD: Final = C_("The last {days} days, from {since} (Almaty time).")
LEAD: Final = C_(
    "SMS that did not reach the patient: the gateway refused them, they were not sent in "
    "time, or the phone network did not deliver them. A patient whose SMS code did not arrive "
    "could not sign in: call them back."
)


# Issue 11: Telegram notifications that could not be delivered (the patient has no phone to
# fall back to, the chat is gone, or Telegram kept failing).
TELEGRAM_TITLE: Final = C_("Failed Telegram notifications")
TELEGRAM_LEAD: Final = C_(
    "Notifications that did not reach the patient on Telegram and could not go by SMS "
    "instead: tell the patient by phone what changed in their application."
)
TELEGRAM_HEADINGS: Final = (
    C_("Time"),
    C_("Type"),
    C_("Telegram chat"),
    C_("Application"),
    C_("Error"),
    C_("Attempts"),
)
NOTICE_KINDS: Final = {
    "status": C_("Status changed"),
    "booked": C_("Appointment made by staff"),
    "moved": C_("Appointment moved by staff"),
    "cancelled": C_("Appointment cancelled by staff"),
    "reminder": C_("Appointment reminder"),
    "deadline": C_("Deadline passed (R-16)"),
}


def _telegram_error(error: str | None, words: Words) -> str:
    if not error:
        return ""
    meaning = ""
    if error.startswith("blocked_by_user"):
        meaning = words(C_("The patient blocked the bot and has no registered phone."))
    elif error.startswith("telegram_"):
        meaning = words(C_("Telegram refused the message."))
    elif error.startswith("error_"):
        meaning = words(C_("Telegram could not be reached."))
    code = f"<code>{esc(error)}</code>"
    return f"{esc(meaning)}<br>{code}" if meaning else code


def _telegram_row(note: Notification, words: Words) -> str:
    label = NOTICE_KINDS.get(note.kind.value)
    cells = (
        esc(local_time(note.created_at)),
        esc(words(label) if label else note.kind.value),
        f"<code>{esc(note.address)}</code>",
        esc(note.application_number or "—"),
        _telegram_error(note.error, words),
        str(note.attempts),
    )
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def _telegram_section(telegram: Sequence[Notification], words: Words) -> list[str]:
    parts = [
        f"<h2>{esc(words(TELEGRAM_TITLE))}</h2>",
        f'<p class="lead">{esc(words(TELEGRAM_LEAD))}</p>',
    ]
    if telegram:
        head = "".join(f'<th scope="col">{esc(words(h))}</th>' for h in TELEGRAM_HEADINGS)
        body = "\n".join(_telegram_row(note, words) for note in telegram)
        parts.append(
            f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"
        )
    else:
        empty = esc(words(C_("No failed Telegram notifications in this period.")))
        parts.append(f'<p class="empty">{empty}</p>')
    return parts


def as_html(
    rows: Sequence[OutboxMessage],
    *,
    words: Words,
    language: str,
    days: int,
    since: dt.datetime,
    more: bool,
    telegram: Sequence[Notification] = (),
) -> tuple[str, str, str]:
    """(title, nav, body) of the page."""
    title = words(C_("Failed SMS"))
    since_text = since.astimezone(ALMATY).strftime("%d.%m.%Y %H:%M")
    period = words(PERIOD, days=days, since=since_text)
    found = words(C_("Found: {count}"), count=len(rows))
    parts = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="lead">{esc(words(LEAD))}</p>',
        _filters(words, language, days),
        f"<p>{esc(period)} {esc(found)}</p>",
    ]
    if more:
        latest = words(TRUNCATED, limit=LIMIT)
        parts.append(f"<p><strong>{esc(latest)}</strong></p>")
    if rows:
        head = "".join(f'<th scope="col">{esc(words(h))}</th>' for h in HEADINGS)
        body = "\n".join(_row(row, words) for row in rows)
        parts.append(
            f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"
        )
    else:
        empty = esc(words(C_("No failed SMS in this period.")))
        parts.append(f'<p class="empty">{empty}</p>')
    parts.extend(_telegram_section(telegram, words))
    return title, _nav(language, days), "\n".join(parts)
