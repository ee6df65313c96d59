"""Issue 15, fewer SMS segments: booking from the main menu on the demo city, by signed Twilio
webhooks to the production app (bench/sms_cost.py, the same run `python -m bench.sms_cost`
prints), costs at most 7 segments in kk and ru and 5 in en, for a specialty with one doctor
and with several, with the confirmation step; every English reply is one GSM-7 segment.

The featured kk and en speakers represent children, so they are asked "for whom?" first (issue
14): that reply (one segment) is counted apart, as the goal was set before the step existed."""

from __future__ import annotations

from bench.sms_cost import GOALS, Journey, cost, goal_with_doctors, run
from bot.sms.segments import Encoding, encoding_of, segments


async def test_booking_from_the_menu_meets_the_segment_goal() -> None:
    results = await run(detail=False)

    assert [journey.language for journey, _, _ in results] == ["kk", "ru", "en"]
    for journey, signed_in, again in results:
        language = journey.language
        booking = cost(journey, signed_in)
        with_doctors = cost(again, 0)
        assert booking <= GOALS[language], _replies(journey, signed_in)
        assert with_doctors <= goal_with_doctors(again), _replies(again, 0)
        for legs in (journey.legs[signed_in:], again.legs):  # the confirmation step stays
            assert [leg.screen for leg in legs][-2:] == ["book.confirm", "book.done"]
        for leg in [*journey.legs[signed_in:], *again.legs]:
            if leg.for_whom:
                assert segments(leg.reply) == 1, leg.reply
    figures = {journey.language: cost(journey, signed_in) for journey, signed_in, _ in results}
    assert figures["kk"] <= 7 and figures["ru"] <= 7 and figures["en"] <= 5


async def test_every_english_reply_is_one_gsm7_segment() -> None:
    results = await run(detail=False)

    [(journey, _, again)] = [r for r in results if r[0].language == "en"]
    for leg in [*journey.legs, *again.legs]:  # the sign-in too, and the code SMS
        for text in (leg.reply, *leg.outbox):
            assert encoding_of(text) is Encoding.GSM7, text
            assert segments(text) <= 1 or leg.sent == "EN", text  # the welcome: 2
    for journey, _, _ in results:
        if journey.language != "en":  # Kazakh and Russian: the names as registered
            assert "Оспанова С. Б." in "\n".join(leg.reply for leg in journey.legs)


def _replies(journey: Journey, since: int) -> list[tuple[str, int, str]]:
    return [(leg.sent, segments(leg.reply), leg.reply) for leg in journey.legs[since:]]
