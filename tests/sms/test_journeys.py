"""Every journey end to end by SMS, in Kazakh, Russian and English (issue 5, "Must show").

Each test is a patient's phone: signed webhooks in, TwiML replies out, the OTP code read from
what the outbox worker handed to the gateway. Assertions are on the replies' shape (numbers,
short dates, the segment budget), on the backend's state, and on the gateway's messages.
"""

from __future__ import annotations

import datetime as dt

import pytest

from backend.bootstrap import Backend
from backend.domain.iin import Sex, make_iin
from backend.domain.phone import mask_phone
from backend.domain.statuses import ApplicationStatus, ServiceType
from backend.services import applications, booking, outbox
from backend.services.outbox import OutboxStatus
from bot.sms import texts
from bot.sms.outbox_worker import OutboxSmsSender
from otp import SmsSendError
from tests.backend.world import World
from tests.sms.conftest import PhoneFactory
from tests.sms.harness import SmsPhone

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

LANGUAGE_KEYWORD = {"kk": "KZ", "ru": "RU", "en": "EN"}
BUDGET = 2


@pytest.fixture(params=["kk", "ru", "en"])
def language(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


async def _start_in(phone: SmsPhone, language: str) -> None:
    """The first SMS: the language keyword (the language-switch journey)."""
    await phone.send(LANGUAGE_KEYWORD[language])
    state = await phone.state()
    assert state.rendering.language == language
    assert state.rendering.state == "menu"


async def _signed_in(phone: SmsPhone, world: World, language: str) -> None:
    await _start_in(phone, language)
    await phone.choose("signin")
    assert await phone.screen() == "signin.iin"
    await phone.send(world.alice.iin)
    assert await phone.screen() == "signin.code"
    await phone.send(phone.last_code())
    state = await phone.state()
    assert state.rendering.state == "menu"
    assert "book" in await phone.options()  # the signed-in menu
    assert state.rendering.language == language


def _within_budget(phone: SmsPhone) -> None:
    assert phone.reply_segments, phone.replies
    assert max(phone.reply_segments) <= BUDGET, list(
        zip(phone.reply_segments, phone.replies, strict=True)
    )


async def _book(phone: SmsPhone, world: World, slot: int = 0) -> str:
    await phone.send("00")
    await phone.choose("book")
    await phone.choose(f"sp.{world.therapist.id}")
    await phone.choose(f"dr.{world.doctor_a.id}")  # Tuesday's times: the earliest free day
    await phone.choose(f"slot.{world.slots_a[slot].id}")
    assert await phone.screen() == "book.confirm"
    return await phone.choose("confirm")


async def _upcoming(backend: Backend, world: World) -> list[booking.AppointmentView]:
    return list(
        await booking.upcoming_appointments(
            backend.uow(), world.alice.id or 0, now=backend.clock.now()
        )
    )


async def test_sign_in_with_the_code_from_the_outbox(
    alice: SmsPhone, world: World, backend: Backend, language: str
) -> None:
    await _signed_in(alice, world, language)

    [code_sms] = alice.outbox_texts()
    assert alice.last_code() in code_sms.replace(" ", "")
    [message] = await outbox.messages_to(backend.uow(), alice.phone)
    assert message.kind == "otp"
    assert message.status is OutboxStatus.ACCEPTED
    assert message.body is None  # the code is not kept once sent
    _within_budget(alice)


async def test_book(alice: SmsPhone, world: World, backend: Backend, language: str) -> None:
    await _signed_in(alice, world, language)

    done = await _book(alice, world)

    [appointment] = await _upcoming(backend, world)
    assert appointment.starts_at == world.slots_a[0].starts_at
    assert await alice.screen() == "book.done"
    reply_pages = "\n".join(p.text for p in (await alice.state()).rendering.pages)
    assert appointment.application_number in done
    assert "24.11 09:00" in reply_pages  # the short, unambiguous date
    _within_budget(alice)


async def test_cancel_needs_the_numbered_confirmation(
    alice: SmsPhone, world: World, backend: Backend, language: str
) -> None:
    await _signed_in(alice, world, language)
    await _book(alice, world)
    await alice.send("00")
    await alice.choose("appts")
    [item] = [o for o in await alice.options() if o.startswith("ap.")]
    await alice.choose(item)

    await alice.send("CANCEL")  # the bare word: a hint, nothing cancelled
    await alice.send("cancel the appointment")  # an action is never matched by its label
    assert len(await _upcoming(backend, world)) == 1
    assert await alice.screen() == "appts.detail"

    await alice.choose("cancel")
    assert await alice.screen() == "appts.cancel"
    await alice.send("Cancel")
    assert len(await _upcoming(backend, world)) == 1
    await alice.choose("yes")

    assert await _upcoming(backend, world) == []
    assert await alice.screen() == "appts.list"
    _within_budget(alice)


async def test_reschedule(alice: SmsPhone, world: World, backend: Backend, language: str) -> None:
    await _signed_in(alice, world, language)
    await _book(alice, world)
    [before] = await _upcoming(backend, world)
    await alice.send("00")
    await alice.choose("appts")
    await alice.choose(f"ap.{before.appointment_id}")

    await alice.choose("move")  # the earliest free day's times (issue 15)
    await alice.choose(f"slot.{world.slots_a[2].id}")
    assert await alice.screen() == "appts.confirm"
    await alice.choose("confirm")

    [after] = await _upcoming(backend, world)
    assert after.starts_at == world.slots_a[2].starts_at
    assert after.application_number == before.application_number
    assert await alice.screen() == "appts.done"
    _within_budget(alice)


async def test_home_visit(alice: SmsPhone, world: World, backend: Backend, language: str) -> None:
    await _signed_in(alice, world, language)

    await alice.choose("visit")
    await alice.choose("start")
    await alice.choose("addr.reg")
    await alice.send("fever 38.5, cough")
    await alice.choose("skip")
    await alice.choose("phone.reg")
    assert await alice.screen() == "visit.confirm"
    await alice.choose("confirm")

    assert await alice.screen() == "visit.done"
    [app] = await applications.list_applications(backend.uow(), world.alice.id or 0)
    assert app.service is ServiceType.HOME_VISIT
    assert app.status is ApplicationStatus.REGISTERED
    assert app.number in "\n".join(p.text for p in (await alice.state()).rendering.pages)
    _within_budget(alice)


async def test_a_home_visit_is_cancelled_by_sms_after_the_confirmation(
    alice: SmsPhone, world: World, backend: Backend, language: str
) -> None:
    """Issue 10: a second request the same day shows the open one; its card cancels it."""
    await _signed_in(alice, world, language)
    await alice.choose("visit")
    await alice.choose("start")
    await alice.choose("addr.reg")
    await alice.send("fever 38.5, cough")
    await alice.choose("skip")
    await alice.choose("phone.reg")
    await alice.choose("confirm")
    [app] = await applications.list_applications(backend.uow(), world.alice.id or 0)

    await alice.send("00")
    await alice.choose("visit")
    await alice.choose("start")
    assert await alice.screen() == "visit.exists"
    assert app.number in "\n".join(p.text for p in (await alice.state()).rendering.pages)
    await alice.choose("open")
    assert await alice.screen() == "apps.details"
    await alice.choose("cancel")
    assert await alice.screen() == "apps.cancel_visit"
    await alice.choose("yes")

    assert await alice.screen() == "apps.details"
    [cancelled] = await applications.list_applications(backend.uow(), world.alice.id or 0)
    assert cancelled.status is ApplicationStatus.CANCELLED
    _within_budget(alice)


async def test_a_long_reason_is_shown_short_and_kept_whole(
    alice: SmsPhone, world: World, backend: Backend, language: str
) -> None:
    reason = "Қатты жөтел, дене қызуы 38,5, екі күннен бері басым ауырады, әлсіздік. " * 6
    await _signed_in(alice, world, language)
    await alice.choose("visit")
    await alice.choose("start")
    await alice.choose("addr.reg")
    await alice.send(reason)
    await alice.choose("skip")
    confirm = await alice.choose("phone.reg")

    assert await alice.screen() == "visit.confirm"
    assert len((await alice.state()).rendering.pages) == 1  # one reply, the reason cut short
    assert "Қатты жөтел" in confirm
    assert reason.strip() not in confirm
    await alice.choose("confirm")
    [app] = await applications.list_applications(backend.uow(), world.alice.id or 0)
    details = await applications.application_details(
        backend.uow(), world.alice.id or 0, app.number
    )
    assert details.home_visit is not None
    assert details.home_visit.reason == reason.strip()  # nothing the patient typed is lost
    _within_budget(alice)


async def test_status_of_applications(
    alice: SmsPhone, world: World, backend: Backend, language: str
) -> None:
    await _signed_in(alice, world, language)
    await _book(alice, world)
    [app] = await applications.list_applications(backend.uow(), world.alice.id or 0)

    await alice.send("00")
    await alice.choose("apps")

    assert await alice.screen() == "apps.list"
    assert app.number in "\n".join(p.text for p in (await alice.state()).rendering.pages)
    await alice.send(app.number)  # the number typed (SMS): its details
    assert await alice.screen() == "apps.details"
    _within_budget(alice)


async def test_certificate_request(
    alice: SmsPhone, world: World, backend: Backend, language: str
) -> None:
    await _signed_in(alice, world, language)

    await alice.choose("certs")
    await alice.choose("cert.027")
    await alice.choose("confirm")

    assert await alice.screen() == "certs.done"
    [app] = await applications.list_applications(backend.uow(), world.alice.id or 0)
    assert app.service is ServiceType.CERTIFICATE_027
    assert app.number in "\n".join(p.text for p in (await alice.state()).rendering.pages)
    _within_budget(alice)


@pytest.mark.parametrize("word", ["HELP", "көмек", "Помощь", "help!"])
async def test_help_says_what_to_type_and_names_1414(
    alice: SmsPhone, world: World, word: str, language: str
) -> None:
    await _start_in(alice, language)
    await alice.choose("signin")

    reply = await alice.send(word)

    assert reply.startswith(alice.channel.renderer.text(texts.HELP, language))
    assert "1414" in reply
    assert await alice.screen() == "help"
    await alice.send("0")  # back to where the patient was
    assert await alice.screen() == "signin.iin"


async def test_the_help_journey_from_the_menu(
    alice: SmsPhone, world: World, language: str
) -> None:
    await _start_in(alice, language)

    await alice.choose("help")

    assert await alice.screen() == "help"
    state = await alice.state()
    assert len(state.rendering.pages) == 1  # one reply
    assert "1414" in alice.last
    assert "103" in alice.last

    await alice.choose("hours")

    assert await alice.screen() == "help.hours"
    assert "08:00" in alice.last
    assert "18:00" in alice.last  # the home-visit cut-off (S4 row 7)
    assert "12:00" in alice.last
    await alice.send("0")
    assert await alice.screen() == "help"
    _within_budget(alice)


@pytest.mark.parametrize(
    ("word", "language"),
    [("KZ", "kk"), ("қаз", "kk"), ("RU", "ru"), ("ру", "ru"), ("EN", "en"), ("eng", "en")],
)
async def test_language_switch_keeps_the_place(
    alice: SmsPhone, world: World, word: str, language: str
) -> None:
    await alice.send("Сәлем")
    await alice.choose("signin")

    await alice.send(word)

    state = await alice.state()
    assert state.rendering.language == language
    assert state.rendering.state == "signin.iin"  # back where the patient was


async def test_language_choice_is_kept_after_sign_in(
    alice: SmsPhone, world: World, backend: Backend
) -> None:
    await _signed_in(alice, world, "ru")
    await alice.send("EN")
    assert (await alice.state()).rendering.language == "en"

    await alice.send("00")

    assert (await alice.state()).rendering.language == "en"


@pytest.mark.parametrize("stop", ["STOP", "стоп", "ТОҚТА", "Stop.", "ЫЕЩЗ"])
async def test_stop_and_start(
    alice: SmsPhone, world: World, backend: Backend, stop: str, language: str
) -> None:
    await _start_in(alice, language)

    stopped = await alice.send(stop)
    assert stopped
    assert await outbox.is_opted_out(backend.uow(), alice.phone)
    with pytest.raises(SmsSendError):  # the outbox sends nothing to this phone now
        await OutboxSmsSender(backend, kind="notification").send(alice.phone, "Reminder")
    assert stopped == alice.channel.renderer.notice([texts.STOPPED], language)
    off = await alice.send("1")
    assert off == alice.channel.renderer.notice([texts.OFF], language)
    assert await alice.screen() == "menu"  # nothing was processed

    await alice.send("START")

    assert not await outbox.is_opted_out(backend.uow(), alice.phone)
    assert await alice.screen() == "menu"
    await alice.choose("signin")
    assert await alice.screen() == "signin.iin"


async def test_carrier_opt_out_is_recorded_without_a_second_confirmation(
    alice: SmsPhone, backend: Backend, world: World
) -> None:
    await alice.send("Сәлем")

    status, xml = await alice.post("UNSUBSCRIBE", extra={"OptOutType": "STOP"})

    assert status == 200
    assert "<Message" not in xml  # Twilio has confirmed it already
    assert await outbox.is_opted_out(backend.uow(), alice.phone)


async def test_an_iin_registered_to_another_phone_is_refused_politely(
    alice: SmsPhone, world: World, backend: Backend
) -> None:
    await alice.send("Сәлем")
    await alice.choose("signin")

    other = await alice.send(world.bob.iin)  # Bob's ИИН from Alice's phone
    unknown = await alice.send(make_iin(dt.date(1970, 5, 5), Sex.MALE, 4242))

    assert "1414" in other
    assert world.bob.phone is not None
    assert world.bob.phone[-7:] not in other
    assert mask_phone(world.bob.phone) not in other
    assert unknown == other  # an unknown ИИН: the same reply (nothing to enumerate)
    assert alice.gateway.sent == []  # no code to anyone
    assert await alice.screen() == "signin.iin"

    await alice.send(world.alice.iin)  # her own ИИН works
    assert await alice.screen() == "signin.code"


async def test_a_stranger_cannot_sign_in_as_alice(phone_of: PhoneFactory, world: World) -> None:
    stranger = await phone_of("+77051234599")
    await stranger.send("Сәлем")
    await stranger.choose("signin")

    reply = await stranger.send(world.alice.iin)

    assert "1414" in reply
    assert stranger.gateway.sent == []
    assert await stranger.screen() == "signin.iin"


async def test_numbers_back_menu_and_strikes(alice: SmsPhone, world: World) -> None:
    await alice.send("Сәлем")
    await alice.choose("signin")

    await alice.send("0")
    assert await alice.screen() == "menu"
    await alice.choose("signin")
    await alice.send("00")
    assert await alice.screen() == "menu"

    for _ in range(3):  # out of range: the dialog's hint, three strikes
        await alice.send("7")
    assert "1414" in alice.last
    assert await alice.screen() == "menu"


async def test_several_numbers_at_once(alice: SmsPhone, world: World, backend: Backend) -> None:
    await _signed_in(alice, world, "en")
    book = await alice.number_of("book")

    await alice.send(f"{book} 2 1")  # book, the second specialty, the first doctor

    assert await alice.screen() == "book.slot"  # issue 15: the earliest free day's times
    assert "Akhmetova A. S." in alice.last
