"""Help → working hours: the patient's own clinic's hours and home-visit cut-off (issue 10
part 3, S4 row 7, R-14); signed out or attached nowhere, the standard ones, said so."""

from __future__ import annotations

import pytest

from backend.bootstrap import Backend
from tests.backend.world import World
from tests.dialogs.harness import Chat, RecordingSender, sign_in
from tests.dialogs.test_home_visit_journey import SHORT_WEEK, set_hours

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

STANDARD_CUTOFF = (
    "Home visits are accepted until 2 hours before the clinic closes; with the standard hours: "
    "Mon–Fri until 18:00, Sat until 12:00. Later requests go to the next working day."
)


async def _hours(chat: Chat) -> str:
    await chat.tap("help")
    await chat.tap("hours")
    assert chat.state == "help.hours"
    return chat.text("en")


async def test_signed_out_the_standard_hours_are_labelled_as_such(chat: Chat) -> None:
    await chat.start()

    text = await _hours(chat)

    assert "Clinics work Mon–Fri 08:00–20:00, Sat 09:00–14:00" in text
    assert STANDARD_CUTOFF in text
    assert "стандартном графике: пн–пт до 18:00, сб до 12:00" in chat.text("ru")


async def test_signed_in_the_patients_own_clinic_hours_and_cut_off(
    chat: Chat, sender: RecordingSender, world: World, backend: Backend
) -> None:
    await set_hours(backend, world.clinic_a, SHORT_WEEK)
    await sign_in(chat, sender, world.alice.iin)

    text = await _hours(chat)

    assert (
        "Your clinic works Mon–Thu 08:00–19:00, Fri 08:00–17:00; closed on other days and on "
        "public holidays."
    ) in text
    assert "Mon–Thu until 17:00, Fri until 15:00" in text
    assert "standard" not in text
    assert "18:00" not in text and "20:00" not in text


async def test_attached_nowhere_gets_the_standard_hours(
    chat: Chat, sender: RecordingSender, world: World
) -> None:
    await sign_in(chat, sender, world.carol.iin)

    text = await _hours(chat)

    assert STANDARD_CUTOFF in text
