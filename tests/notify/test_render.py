"""Every notification as an SMS fits the budget (2 UCS-2 segments) in kk, ru and en, names
the application and 1414 or how to open it; on Telegram it has its buttons (issue 11)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from backend.domain.refusals import LEGAL_GROUNDS
from backend.domain.statuses import ApplicationStatus, ServiceType
from backend.services.notifications import Kind, Notification, NotificationStatus
from bot.notify.render import render_sms, render_telegram
from bot.sms.segments import segments
from tests.dialogs.harness import TRANSLATOR

NOW = dt.datetime(2026, 11, 23, 5, 0, tzinfo=dt.UTC)
NUMBER = "ABCD-1234"


def note(kind: Kind, language: str, **params: object) -> Notification:
    return Notification(
        id=1,
        patient_id=1,
        channel="sms",
        address="+77011234501",
        kind=kind,
        params={"number": NUMBER, **params},
        application_number=NUMBER,
        urgent=False,
        status=NotificationStatus.SENDING,
        attempts=1,
        next_attempt_at=NOW,
        created_at=NOW,
        sent_at=None,
        error=None,
        language=language,
    )


def every_notification(language: str) -> list[Notification]:
    when = (NOW + dt.timedelta(days=1)).isoformat()
    out = [
        note(Kind.STATUS, language, service=service.value, status=status.value, refusal=None)
        for service in ServiceType
        for status in ApplicationStatus
    ]
    out += [
        note(
            Kind.STATUS,
            language,
            service=ServiceType.CERTIFICATE_027.value,
            status=ApplicationStatus.REFUSED.value,
            refusal=ground.value,
        )
        for ground in LEGAL_GROUNDS
    ]
    out += [note(k, language, when=when) for k in (Kind.BOOKED, Kind.MOVED, Kind.CANCELLED)]
    out.append(note(Kind.REMINDER, language, when=when, reminder="day_before"))
    out += [note(Kind.DEADLINE, language, service=s.value) for s in ServiceType]
    until = (NOW + dt.timedelta(days=1, hours=2)).isoformat()
    out.append(note(Kind.VISIT, language, when=when, until=until))
    out.append(
        note(
            Kind.DOCUMENT,
            language,
            service=ServiceType.STATEMENT_TB.value,
            code="K7QFM9PXW3",
            link="https://dariger.example/d/abc",
        )
    )
    return out


def test_every_kind_is_rendered_here() -> None:
    assert {n.kind for n in every_notification("en")} == set(Kind)


def test_the_visit_notice_names_the_arrival_window() -> None:
    when = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)  # 14:00 in Almaty
    visit = note(
        Kind.VISIT, "en", when=when.isoformat(), until=(when + dt.timedelta(hours=2)).isoformat()
    )
    text = render_sms(visit, TRANSLATOR)
    assert "14:00" in text and "16:00" in text and NUMBER in text


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_every_sms_notification_fits_two_segments_and_says_what_to_do(language: str) -> None:
    for notification in every_notification(language):
        text = render_sms(notification, TRANSLATOR)
        assert segments(text) <= 2, (segments(text), text)
        assert NUMBER in text
        if notification.kind is Kind.REMINDER:
            assert TRANSLATOR.gettext(language, "My appointments") in text
        elif notification.kind is Kind.DOCUMENT:  # the way on is the link (issue 13)
            assert "K7QF-M9PX-W3" in text and str(notification.params["link"]) in text
        else:
            assert "1414" in text


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_every_telegram_notification_has_its_buttons(language: str) -> None:
    for notification in every_notification(language):
        rendered = render_telegram(notification, TRANSLATOR)
        assert NUMBER in rendered.text
        actions = [a for a, _ in rendered.buttons]
        if notification.kind is Kind.REMINDER:
            assert actions == ["ok", "cancel"]
        else:
            assert actions == ["open", "notme"]
            assert "1414" in rendered.text
        if notification.params.get("refusal"):
            assert "1414" in rendered.text  # the ground, with the contact centre


# Issue 15: a notice about a child, sent to their representative, says whom it is about.
# Russian without «для» (a name after it would need the genitive): «Ребёнок: …», by SMS «…:».
FOR_ARUZHAN = {"kk": "Аружан С. үшін", "ru": "Ребёнок: Аружан С.", "en": "For Aruzhan S."}
SMS_FOR_ARUZHAN = {**FOR_ARUZHAN, "ru": "Аружан С.:"}


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_a_notice_about_a_child_names_the_child_within_the_budget(language: str) -> None:
    for plain in every_notification(language):
        about = replace(plain, params={**plain.params, "for_name": "Аружан С."})
        text = render_sms(about, TRANSLATOR)
        assert segments(text) <= 2, (segments(text), text)
        assert text.startswith(SMS_FOR_ARUZHAN[language]), text
        assert NUMBER in text
        rendered = render_telegram(about, TRANSLATOR)
        assert rendered.text.startswith(FOR_ARUZHAN[language]), rendered.text
        assert SMS_FOR_ARUZHAN[language] not in render_sms(plain, TRANSLATOR)  # only about a child
