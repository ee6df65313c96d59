"""Issue 15, fewer SMS segments: booking from the main menu on the demo city, by signed Twilio
webhooks to the production app (bench/sms_cost.py, the same run `python -m bench.sms_cost`
prints), costs at most 7 segments in kk and ru and 5 in en, for a specialty with one doctor
and with several, with the confirmation step; every English reply is one GSM-7 segment.

For every patient, parents included: the featured kk and en speakers represent children
(issue 14). Their main menu asks for whom ("Book for myself", "Book for <child>" or "Book for
a child"), every reply is counted, and a booking for a child is held to the same goal."""

from __future__ import annotations

from bench.sms_cost import GOALS, Journey, cost, run
from bot.sms.segments import Encoding, encoding_of, segments


async def test_booking_from_the_menu_meets_the_segment_goal() -> None:
    results = await run(detail=False)

    assert [journey.language for journey, *_ in results] == ["kk", "ru", "en"]
    parents = 0
    for journey, signed_in, again, child in results:
        language = journey.language
        assert cost(journey, signed_in) <= GOALS[language], _replies(journey, signed_in)
        assert cost(again, 0) <= GOALS[language], _replies(again, 0)
        booked = [journey.legs[signed_in:], again.legs]
        if child is not None:  # a parent: for a child too, "for which child?" counted
            parents += 1
            assert cost(child, 0) <= GOALS[language], _replies(child, 0)
            booked.append(child.legs)
        for legs in booked:  # the confirmation step stays
            assert [leg.screen for leg in legs][-2:] == ["book.confirm", "book.done"]
        # A parent books for themselves with no "for whom?" reply: the menu asked.
        assert not any(leg.for_whom for leg in [*journey.legs, *again.legs])
    assert parents == 2  # the kk (two children) and en (one child) speakers
    figures = {journey.language: cost(journey, signed_in) for journey, signed_in, *_ in results}
    assert figures["kk"] <= 7 and figures["ru"] <= 7 and figures["en"] <= 5


async def test_every_english_reply_is_one_gsm7_segment() -> None:
    results = await run(detail=False)

    [(journey, _, again, child)] = [r for r in results if r[0].language == "en"]
    assert child is not None
    for leg in [*journey.legs, *again.legs, *child.legs]:  # the sign-in too, and the code SMS
        for text in (leg.reply, *leg.outbox):
            assert encoding_of(text) is Encoding.GSM7, text
            assert segments(text) <= 1 or leg.sent == "EN", text  # the welcome: 2
    for journey, *_ in results:
        if journey.language != "en":  # Kazakh and Russian: the names as registered
            assert "Оспанова С. Б." in "\n".join(leg.reply for leg in journey.legs)


def _replies(journey: Journey, since: int) -> list[tuple[str, int, str]]:
    return [(leg.sent, segments(leg.reply), leg.reply) for leg in journey.legs[since:]]
