"""What booking an appointment costs by SMS, in segments, per locale (issue 15: booking from the
menu in ≤ 7 segments in kk and ru, ≤ 5 in en).

    .venv/bin/python -m bench.sms_cost [--detail] [--screens]

Runs the production app in-process on a fresh SQLite demo city (Monday 23.11.2026 10:00,
Almaty) and books an appointment the way a patient with a plain phone would: every message is a
signed Twilio webhook; every reply and every SMS the service sends on its own (the OTP code) is
counted in segments, exactly (bot/sms/segments.py). The journey:

    language keyword → "sign in" → ИИН → code → "book" → specialty → [doctor] → time
    → confirm

taking the first item of each list, and "9" (next page) wherever the option is not on the page
shown. A specialty with one doctor has no doctor step, and the times shown first are those of
the earliest free day, with "Other day" for the days (dialogs/journeys/booking.py). The
patients are the demo's featured kk, ru and en speakers, each from their own phone. Four
figures per locale:

  (a) booking: from the main menu, signed in, "book" → the first specialty (in the demo, the
      clinic's only cardiologist) → time → confirm: the replies to those messages (and to
      any "9").
  (b) full journey: (a) plus the sign-in before it (language keyword, "sign in", ИИН, code),
      the OTP SMS included.
  (c) a second booking, from the main menu, in the first specialty with several doctors: (a)
      plus the doctor step.
  (d) a parent's booking for a child: "Book for <child>" (one child), or "Book for a child"
      and then the first child (several), → the child's first specialty → [doctor] → time →
      confirm. "-" for a patient who represents no one.

The goal (≤ 7 kk/ru, ≤ 5 en) holds for (a), (c) and (d), every reply counted: for every
patient, parents included. The featured kk (two children) and en (one child) speakers are
parents (issue 14): their main menu offers "Book for myself" and "Book for <child>" (or "Book
for a child"), so a parent booking for themselves answers no "for whom?" question. A "for
whom?" question's reply (the kk "for which child?" in (d)) is counted, and the figure without
it is printed after the slash.

`--screens` also walks every screen of every dialog (bench/sms_screens.py) and lists, per
locale, the screens over the SMS budget (`over_budget`: not one reply of 2 segments, and no
list), with their message ids: the messages that want a shorter `pgettext("sms", …)` variant.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from backend.adapters.db import migrate
from backend.bootstrap import Backend, bootstrap
from backend.ports import FixedClock
from backend.services import booking, patients
from backend.services.demo import featured_patients, load_demo_data
from bench.sms_screens import crawl, over_budget, variant
from bot.app import RUNTIME_KEY, create_app
from bot.config import Settings
from bot.logs import configure_logging
from bot.sms.channel import SMS_KEY, SMS_WORKER_KEY, SmsChannel
from bot.sms.chat import SignedPoster
from bot.sms.segments import segments
from bot.sms.webhook import INBOUND_PATH
from dialogs.engine.screen import InputKind, Screen
from otp import SentSms

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Almaty"))
PUBLIC = "http://dariger.bench"
TOKEN = "bench-token-0123456789"  # noqa: S105 - signs the bench's own requests
GOALS = {"kk": 7, "ru": 7, "en": 5}  # issue 15: (a) and (c), replies only, parents too
KEYWORD = {"kk": "KZ", "ru": "RU", "en": "EN"}
PHONES = {"kk": "+77011110001", "ru": "+77021110002", "en": "+77071110003"}
_CODE = re.compile(r"(\d{3}) ?(\d{3})")


@dataclass
class Gateway:
    """Counts what the service sends on its own (Twilio would deliver these)."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, to: str, body: str) -> SentSms:
        self.sent.append((to, body))
        return SentSms(provider_id=f"SMbench{len(self.sent):026d}", status="queued")


@dataclass
class Leg:
    sent: str
    reply: str
    outbox: list[str]
    for_whom: bool = False  # the reply is "for whom?" (issue 14: a parent only)
    screen: str = ""  # the state the reply shows


@dataclass
class Journey:
    language: str
    legs: list[Leg] = field(default_factory=list)

    def segments(
        self, *, since: int = 0, replies_only: bool = False, for_whom: bool = True
    ) -> int:
        return sum(
            segments(leg.reply) + (0 if replies_only else sum(segments(b) for b in leg.outbox))
            for leg in self.legs[since:]
            if for_whom or not leg.for_whom
        )


class Phone:
    def __init__(
        self, poster: SignedPoster, channel: SmsChannel, gateway: Gateway, number: str
    ) -> None:
        self.poster = poster
        self.channel = channel
        self.gateway = gateway
        self.number = number

    async def send(self, journey: Journey, body: str) -> str:
        before = len(self.gateway.sent)
        reply = await self.poster.send(self.number, body) or ""
        await self.channel.worker.drain()
        outbox = [b for to, b in self.gateway.sent[before:] if to == self.number]
        state = await self.channel.conversations.states.load(self.number)
        screen = "" if state is None else state.rendering.state
        journey.legs.append(Leg(body, reply, outbox, screen=screen))
        return reply

    async def pick(self, journey: Journey, wanted: str, nth: int = 0) -> None:
        """Send the number of the option `wanted` (an id, or the `nth` of the ids starting with
        a prefix ending in "."), paging with "9" until it is shown."""
        screen = "?"
        for _ in range(12):
            state = await self.channel.conversations.states.load(self.number)
            if state is None:
                raise RuntimeError("no screen yet")
            screen = state.rendering.state
            every = [o for p in state.rendering.pages for o in p.numbers.values()]
            matching = [
                o for o in every if o == wanted or (wanted[-1] == "." and o.startswith(wanted))
            ]
            target = matching[min(nth, len(matching) - 1)] if matching else None
            for number, option in state.current.numbers.items():
                if option == target:
                    await self.send(journey, number)
                    return
            if len(state.rendering.pages) < 2:
                break
            await self.send(journey, "9")
        raise RuntimeError(f"{wanted} is not offered on {screen}")


async def book(phone: Phone, language: str, iin: str) -> tuple[Journey, int]:
    journey = Journey(language)
    await phone.send(journey, KEYWORD[language])
    await phone.pick(journey, "signin")
    await phone.send(journey, iin)
    code = _CODE.search(phone.gateway.sent[-1][1])
    if code is None:
        raise RuntimeError("no code was sent")
    await phone.send(journey, code.group(1) + code.group(2))
    signed_in = len(journey.legs)
    await _book_from_menu(phone, journey, "sp.")
    return journey, signed_in


async def _screen(phone: Phone) -> str:
    state = await phone.channel.conversations.states.load(phone.number)
    return "?" if state is None else state.rendering.state


async def _offers(phone: Phone, option: str) -> bool:
    state = await phone.channel.conversations.states.load(phone.number)
    return state is not None and any(
        option in page.numbers.values() for page in state.rendering.pages
    )


async def _book_from_menu(phone: Phone, journey: Journey, specialty: str) -> bool:
    """Book from the main menu; whether a doctor had to be chosen."""
    await phone.pick(journey, "book")
    if await _offers(phone, "for.me"):  # a "for whom?" question after the menu (issue 14)
        journey.legs[-1].for_whom = True  # this reply is the question
        await phone.pick(journey, "for.me")
    return await _book_specialty(phone, journey, specialty)


async def _book_specialty(phone: Phone, journey: Journey, specialty: str) -> bool:
    """From the specialties to the result; whether a doctor had to be chosen."""
    await phone.pick(journey, specialty)
    doctor_step = await _screen(phone) == "book.doctor"
    if doctor_step:  # a specialty with one doctor has no such step
        await phone.pick(journey, "dr.")
    if await _screen(phone) == "book.day":  # a day step (before issue 15's earliest day)
        await phone.pick(journey, "day.", nth=1)  # tomorrow: today's first time may be past
    await phone.pick(journey, "slot.")
    await phone.pick(journey, "confirm")
    if await _screen(phone) != "book.done":
        raise RuntimeError(f"the booking did not finish: {journey.legs[-1].reply}")
    return doctor_step


async def book_with_doctor_choice(
    phone: Phone, backend: Backend, language: str, iin: str
) -> Journey:
    """(c): booking again, signed in, in the first specialty that has several doctors."""
    found = await patients.find_by_iin(backend.uow(), iin)
    if found is None or found.id is None:
        raise RuntimeError("the featured patient is not in the demo city")
    patient = found.id
    specialty_id = None
    for specialty in await booking.specialties_for(backend.uow(), patient):
        if len(await booking.doctors_for(backend.uow(), patient, specialty.id or 0)) > 1:
            specialty_id = specialty.id
            break
    if specialty_id is None:
        raise RuntimeError("the demo clinic has no specialty with several doctors")
    await phone.send(Journey(language), "00")  # back to the menu (not counted)
    journey = Journey(language)
    if not await _book_from_menu(phone, journey, f"sp.{specialty_id}"):
        raise RuntimeError("no doctor step was shown")
    return journey


async def book_for_child(phone: Phone, language: str) -> Journey | None:
    """(d): a parent books for a child from the main menu: "Book for <child>", or "Book for a
    child" then the first child; then the child's first specialty. None: no child."""
    await phone.send(Journey(language), "00")  # back to the menu (not counted)
    journey = Journey(language)
    state = await phone.channel.conversations.states.load(phone.number)
    shown = [] if state is None else [o for p in state.rendering.pages for o in p.numbers.values()]
    if "book.child" in shown:
        await phone.pick(journey, "book.child")
        journey.legs[-1].for_whom = True  # "for which child?"
        await phone.pick(journey, "for.")
    elif any(o.startswith("book.for.") for o in shown):
        await phone.pick(journey, "book.for.")
    else:
        return None
    await _book_specialty(phone, journey, "sp.")
    return journey


def _typed(screen: Screen) -> list[str]:
    answers = {
        InputKind.IIN: ["123"],
        InputKind.CODE: ["000000"],
        InputKind.ADDRESS: ["Астана, Абай даңғылы, 1", "x"],
        InputKind.PHONE: ["+77011110001", "123"],
        InputKind.DATE: ["24.11", "x"],
    }
    return answers.get(screen.expects, ["fever 38.5, cough", "?"])


async def overflowing_screens(app: web.Application, phone: Phone) -> None:
    """Walk every screen as the (signed-in) patient; print those that need SMS variants."""
    engine = app[RUNTIME_KEY].engine
    found: dict[str, Screen] = {}
    for _ in range(2):  # again with what the first walk booked and requested
        for item in await crawl(engine, phone.number, _typed):
            found.setdefault(variant(item.screen), item.screen)
    renderer = phone.channel.renderer
    print(f"\nScreens over the SMS budget ({len(found)} screens walked):")
    for language in KEYWORD:
        listed: set[str] = set()
        for screen in found.values():
            if screen.state in listed:
                continue
            total = over_budget(renderer.render(screen, language))
            if total is None:
                continue
            listed.add(screen.state)
            texts = [t for t in (screen.notice, screen.error, *screen.body) if t is not None]
            print(f"  [{language}] {screen.state} ({total} segments):")
            for text in texts:
                print(f"      {text.msgid!r}")
            for page in renderer.render(screen, language).pages:  # what the patient reads
                print("      | " + page.text.replace("\n", "\n      | "))
        if not listed:
            print(f"  [{language}] none")


# The journey, where sign-in ended, the second booking, a booking for a child (None: none).
Result = tuple[Journey, int, Journey, Journey | None]


async def run(detail: bool, screens: bool = False) -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await asyncio.to_thread(migrate, url)
        backend = bootstrap(url, clock=FixedClock(NOW))
        await load_demo_data(backend)
        settings = Settings(
            _env_file=None,
            database_url=url,
            redis_url="",
            public_base_url=PUBLIC,
            twilio_auth_token=SecretStr(TOKEN),
            otp_pepper=SecretStr("bench-pepper-0123456789abcdef"),
            console_sms_path=str(Path(tmp) / "sms.jsonl"),
        )
        gateway = Gateway()
        app = create_app(settings, backend, sender=gateway)
        app[SMS_WORKER_KEY] = False
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        results: list[Result] = []
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            host, port = runner.addresses[0][:2]
            iins = {p.phone: p.iin for p in featured_patients() if p.phone}
            async with aiohttp.ClientSession() as session:
                poster = SignedPoster(
                    session, f"http://{host}:{port}{INBOUND_PATH}", PUBLIC + INBOUND_PATH, TOKEN
                )
                for language, number in PHONES.items():
                    phone = Phone(poster, app[SMS_KEY], gateway, number)
                    journey, signed_in = await book(phone, language, iins[number])
                    again = await book_with_doctor_choice(phone, backend, language, iins[number])
                    child = await book_for_child(phone, language)
                    results.append((journey, signed_in, again, child))
                if screens:
                    walker = Phone(poster, app[SMS_KEY], gateway, PHONES["kk"])  # signed in
                    await overflowing_screens(app, walker)
        finally:
            await runner.cleanup()
    if detail:
        for journey, _, again, child in results:
            for title, legs in (
                ("", journey.legs),
                (" (c)", again.legs),
                (" (d)", child.legs if child else []),
            ):
                print(f"\n[{journey.language}]{title}")
                for leg in legs:
                    cost = segments(leg.reply)
                    print(f"  > {leg.sent}")
                    for line in leg.reply.splitlines():
                        print(f"    {line}")
                    print(f"    ({cost} segment{'s' if cost != 1 else ''})")
                    for body in leg.outbox:
                        print(f"    [SMS] {body} ({segments(body)})")
    return results


def main() -> None:
    configure_logging("console", "WARNING")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detail", action="store_true", help="print every message")
    parser.add_argument(
        "--screens", action="store_true", help="list the screens that need SMS variants"
    )
    args = parser.parse_args()
    results = asyncio.run(run(args.detail, args.screens))
    print("\nSMS segments to book an appointment by SMS, demo city (Monday 23.11.2026 10:00)")
    print("  (a) booking: main menu, signed in → book → the first specialty (one doctor: no")
    print("      doctor step) → time (the earliest free day) → confirm (the replies only)")
    print("  (b) full journey: sign-in (keyword, sign in, ИИН, code + the OTP SMS), then (a)")
    print("  (c) booking again in the first specialty with several doctors (+ the doctor step)")
    print('  (d) a parent booking for a child: "Book for <child>" (or "Book for a child", then')
    print("      the child) → the child's first specialty → [doctor] → time → confirm")
    print('  a/b: with a "for whom?" reply, if any (a parent) / without it; the goal: a')
    print(
        f"{'locale':<8}{'(a) booking':>13}{'replies':>9}{'(b) full':>10}{'messages':>10}"
        f"{'(c) doctors':>13}{'(d) child':>11}{'goal':>6}"
    )
    for journey, signed_in, again, child in results:
        booking_legs = journey.legs[signed_in:]
        booking_replies = sum(1 for leg in booking_legs if leg.reply)
        messages = sum(bool(leg.reply) + len(leg.outbox) for leg in journey.legs)
        a, c = cost(journey, signed_in), cost(again, 0)
        d = None if child is None else cost(child, 0)
        goal = GOALS[journey.language]
        print(
            f"{journey.language:<8}{_both(journey, signed_in):>13}{booking_replies:>9}"
            f"{journey.segments():>10}{messages:>10}{_both(again, 0):>13}"
            f"{'-' if child is None else _both(child, 0):>11}{goal:>6}"
        )
        verdict = "met" if max(a, c, d or 0) <= goal else "NOT met"
        print(f"        goal (a), (c), (d) ≤ {goal} (every reply counted): {verdict}")


def replies(journey: Journey, since: int = 0) -> int:
    return sum(1 for leg in journey.legs[since:] if leg.reply)


def goal_with_doctors(journey: Journey) -> int:
    """The goal for (c): the locale's, as for (a) (issue 15: ≤ 5 in en too)."""
    return GOALS[journey.language]


def cost(journey: Journey, since: int, *, for_whom: bool = True) -> int:
    """A booking's reply segments from the main menu (every reply; `for_whom=False` leaves a
    "for whom?" question out)."""
    return journey.segments(since=since, replies_only=True, for_whom=for_whom)


def _both(journey: Journey, since: int) -> str:
    return f"{cost(journey, since)}/{cost(journey, since, for_whom=False)}"


if __name__ == "__main__":
    main()
