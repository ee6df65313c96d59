"""Issue 15, never trapped (the two screens the way-on crawler still found), by signed Twilio
webhooks: after a wrong answer on the certificates (kk) the numbers shown before still work, on
the page the patient sees, under a short hint; the hours in ru say how to go on."""

from __future__ import annotations

import pytest

from tests.backend.world import World
from tests.sms.harness import SmsPhone
from tests.sms.test_journeys import _signed_in, _start_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_a_wrong_answer_on_the_certificates_keeps_the_numbers(
    alice: SmsPhone, world: World
) -> None:
    await _signed_in(alice, world, "kk")
    await alice.send("00")
    await alice.choose("certs")
    assert await alice.screen() == "certs.list"
    shown = dict((await alice.state()).current.numbers)
    assert shown["4"] == "cert.narco"

    hint = await alice.send("x")

    assert hint.startswith("Нөмірді жіберіңіз.")  # the short SMS hint, above the options
    assert dict((await alice.state()).current.numbers) == shown
    assert "4 «Наркология» мәліметі" in hint
    await alice.send("4")
    assert await alice.screen() == "certs.narco"


async def test_the_hours_say_how_to_go_on(alice: SmsPhone) -> None:
    await _start_in(alice, "ru")
    await alice.choose("help")
    await alice.choose("hours")

    assert await alice.screen() == "help.hours"
    assert alice.last.splitlines()[-1] == "00 меню"
    assert alice.reply_segments[-1] <= 2
    await alice.send("00")
    assert await alice.screen() == "menu"
