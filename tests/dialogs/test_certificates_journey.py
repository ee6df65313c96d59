"""Journey 7, certificates and statements (R-28..R-32), through the engine."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.bootstrap import Backend
from backend.domain.statuses import ApplicationStatus, ServiceType
from backend.ports import FixedClock
from backend.services import applications
from tests.backend.world import World, at
from tests.dialogs.harness import Chat, RecordingSender, sign_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def _open(chat: Chat, sender: RecordingSender, iin: str) -> None:
    await sign_in(chat, sender, iin)
    await chat.tap("certs")


async def _apps(backend: Backend, patient_id: int | None) -> list[applications.ApplicationSummary]:
    return await applications.list_applications(backend.uow(), patient_id or 0)


async def test_the_catalogue(chat: Chat, sender: RecordingSender, world: World) -> None:
    await _open(chat, sender, world.alice.iin)

    assert chat.state == "certs.list"
    assert chat.last is not None
    assert chat.last.option_ids[:7] == (
        "cert.027",
        "cert.tb",
        "cert.psy",
        "cert.narco",
        "cert.sick",
        "cert.075",
        "cert.103",
    )
    text = chat.text("en")
    for label in (
        "Certificate from the PHC clinic (form 027/u)",
        "Statement from the TB registry",
        "Statement from the psychiatric registry",
        "Statement from the narcological registry",
    ):
        assert label in text


async def test_request_027_then_it_is_in_my_applications(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend
) -> None:
    await _open(chat, sender, world.alice.iin)
    await chat.tap("cert.027")
    assert chat.state == "certs.027"
    assert "signed with the clinic's EDS" in chat.text("en")

    await chat.tap("confirm")

    assert chat.state == "certs.done"
    [app] = await _apps(backend, world.alice.id)
    assert app.service is ServiceType.CERTIFICATE_027
    result = chat.text("en")
    assert f"Application number: {app.number}." in result
    assert "Status: Registered." in result
    assert "The signed document will appear in My applications when it is ready." in result

    await chat.tap("apps")
    assert chat.state == "apps.list"
    assert f"{app.number}: Certificate from the PHC clinic (form 027/u). Registered." in (
        chat.text("en")
    )


async def test_a_tb_statement_is_sensitive_and_valid_ten_days(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend
) -> None:
    await _open(chat, sender, world.alice.iin)
    await chat.tap("cert.tb")
    assert chat.state == "certs.tb"
    assert chat.last is not None and chat.last.sensitive
    assert "Valid 10 calendar days once issued." in chat.text("en")

    await chat.tap("confirm")

    assert chat.state == "certs.done"
    assert chat.last.sensitive
    [app] = await _apps(backend, world.alice.id)
    assert app.service is ServiceType.STATEMENT_TB

    await chat.tap("apps")
    assert f"{app.number}: Statement from the TB registry. Registered." in chat.text("en")
    await chat.tap(f"app.{app.number}")
    assert chat.last.sensitive
    assert "Once issued, it is valid 10 calendar days." in chat.text("en")


async def test_a_027_request_after_hours_goes_to_the_next_working_day(
    chat: Chat, sender: RecordingSender, world: World, clock: FixedClock
) -> None:
    clock.current = at(dt.date(2026, 11, 23), 21)
    await _open(chat, sender, world.alice.iin)
    await chat.tap("cert.027")

    await chat.tap("confirm")

    text = chat.text("en")
    assert "Status: Will be processed on the next working day." in text
    assert "1414" in text


async def test_not_attached_carol_is_refused_the_027_with_the_ground(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend
) -> None:
    await _open(chat, sender, world.carol.iin)
    await chat.tap("cert.027")

    await chat.tap("confirm")

    assert chat.state == "certs.027"
    text = chat.text("en")
    assert (
        "Reasoned refusal: You are not attached to any PHC clinic. To attach, apply to the "
        "clinic of your choice with an ID document, or on eGov (egov.kz)"
    ) in text
    assert "Вы не прикреплены ни к одной организации ПМСП" in chat.text("ru")
    assert "Сіз ешбір МСАК ұйымына бекітілмегенсіз" in chat.text("kk")
    assert "1414" in text
    assert await _apps(backend, world.carol.id) == []


async def test_not_attached_carol_may_still_get_a_registry_statement(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend
) -> None:
    await _open(chat, sender, world.carol.iin)
    await chat.tap("cert.narco")

    await chat.tap("confirm")

    assert chat.state == "certs.done"
    [app] = await _apps(backend, world.carol.id)
    assert app.service is ServiceType.STATEMENT_NARCOLOGY
    assert app.status is ApplicationStatus.REGISTERED


async def test_sick_leave_075_and_ambulance_are_information_screens(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend
) -> None:
    await _open(chat, sender, world.alice.iin)

    await chat.tap("cert.sick")
    assert chat.state == "certs.sick"
    # issue 10 part 3: no data source, so no "none issued to you"; what is known, and where
    sick = chat.text("en")
    assert "No sick-leave documents have been issued" not in sick
    assert "This service does not see sick-leave documents" in sick
    assert "issued free of charge by the doctor who examines you" in sick
    assert "eGov" in sick and "1414" in sick

    await chat.tap("nav.back")
    menu = chat.text("en") + chat.text("ru") + chat.text("kk")
    assert "Driving certificate, form 073/u" in menu and "075" not in menu
    await chat.tap("cert.075")
    assert chat.state == "certs.075"
    assert "It is paid and needs an in-person medical examination first" in chat.text("en")
    # issue 10 part 5: form 073/е (seed 000 std 9), not 075/е (the pre-employment form)
    assert "The driving certificate (form 073/u) is not issued through the bot." in chat.text("en")
    assert "073/у" in chat.text("ru") and "073/е" in chat.text("kk")
    assert "075" not in chat.text("en") + chat.text("ru") + chat.text("kk")

    await chat.tap("nav.back")
    await chat.tap("cert.103")
    assert chat.state == "certs.103"
    assert "Call 103 at once." in chat.text("en")

    assert await _apps(backend, world.alice.id) == []
