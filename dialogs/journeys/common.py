"""Journeys 1 and 8: start and main menu, language, help, the operator (1414), the account."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from backend.domain.model import Language
from backend.services import desk, patients
from dialogs.common import (
    CALL_CENTRE,
    EMERGENCY,
    clinic_hours,
    home_visit_cutoff,
    opening_hours,
    person_name,
)
from dialogs.engine.engine import DESK_REASON, HELP, LANGUAGE, MENU, OPERATOR
from dialogs.engine.engine import EMERGENCY as EMERGENCY_SCREEN
from dialogs.engine.screen import InputKind, Option, OptionRole
from dialogs.engine.step import CHOOSE_AN_OPTION, Back, Ctx, Goto, Outcome, Retry, Stay, Step, View
from dialogs.engine.text import T, Text, Verbatim
from dialogs.journeys import sign_in
from dialogs.journeys.for_whom import children_only, choose, dependants, forget_all

# Entry states of the journeys (each journey module defines its own steps).
BOOK = "book.specialty"
APPOINTMENTS = "appts.list"
HOME_VISIT = "visit.terms"
APPLICATIONS = "apps.list"
CERTIFICATES = "certs.list"
ACCOUNT = "account"
HELP_HOURS = "help.hours"
SIGN_IN = "signin.iin"

BOOK_LABEL = T("Book an appointment")
# Issue 15: a parent's menu offers "Book for myself" and "Book for <child>"; the plain word
# for booking typed by SMS («жазылу», «запись», "book") reaches the menu as this text and asks
# "for whom?" with everyone (the channel recognises the word: bot/sms/render.py).
BOOK_ASK = "book.ask"
_MENU_SIGNED_IN = (
    Option("book", BOOK_LABEL),
    Option("appts", T("My appointments")),
    Option("visit", T("Call a doctor home")),
    Option("apps", T("My applications")),
    Option("certs", T("Certificates")),
    Option("help", T("Help")),
    Option("account", T("Sign out")),
)
# Issue 15: booking asks a parent "for whom?" in the menu itself (one SMS reply less): S3/S4
# row 8, the service is received by the patient or their legal representative (issue 14).
_BOOK_FOR = "book.for."  # + the child's patient id
_BOOK_CHILD = "book.child"  # several children: "for which child?" follows
_IIN_LIKE_DIGITS = 10
_IIN_DIGITS = 12
# "1 900315410014": a menu number, then the ИИН (what follows is read as the ИИН).
_NUMBER_THEN_IIN = re.compile(r"\s*\d{1,2}[.)]?\s+(\d[\d \t\-\u00a0]{9,}\d)\s*")
_MENU_TARGETS = {
    "book": BOOK,
    "appts": APPOINTMENTS,
    "visit": HOME_VISIT,
    "apps": APPLICATIONS,
    "certs": CERTIFICATES,
    "help": HELP,
    "account": ACCOUNT,
    "signin": SIGN_IN,
}


async def _booking_options(ctx: Ctx) -> tuple[Option, ...]:
    """ "Book an appointment"; for a parent "Book for myself" and "Book for <child>" (with
    several children "Book for a child"): whom it is for stays an explicit choice."""
    children = await dependants(ctx)
    if not children:
        return _MENU_SIGNED_IN[:1]
    mine = Option("book", T("Book for myself"))
    if len(children) == 1:
        child = children[0]
        name = person_name(child.short_name)
        return mine, Option(f"{_BOOK_FOR}{child.patient_id}", T("Book for {name}", name=name))
    return mine, Option(_BOOK_CHILD, T("Book for a child"))


async def _book_for(ctx: Ctx, option_id: str) -> Outcome:
    patient = ctx.require_patient()
    if option_id == "book":
        choose(ctx, BOOK, patient)
        return Goto(BOOK)
    children = await dependants(ctx)
    if option_id == _BOOK_CHILD and len(children) > 1:
        children_only(ctx, BOOK)
        return Goto(BOOK)
    for child in children:  # only a listed child; the services check again (NOT_REPRESENTED)
        if option_id == f"{_BOOK_FOR}{child.patient_id}":
            choose(ctx, BOOK, child.patient_id)
            return Goto(BOOK)
    return Retry(CHOOSE_AN_OPTION)


@dataclass
class MainMenu(Step):
    async def view(self, ctx: Ctx) -> View:
        if ctx.patient_id is None:
            return View(
                body=(
                    T(
                        "Welcome to Dariger: appointments, home visits and certificates "
                        "of your clinic."
                    ),
                    T(
                        "Sign in with your IIN and a one-time code sent by SMS to your "
                        "registered phone."
                    ),
                    EMERGENCY,
                ),
                options=(Option("signin", T("Sign in")), Option("help", T("Help"))),
            )
        return View(
            body=(T("Main menu. What would you like to do?"), EMERGENCY),
            options=(*await _booking_options(ctx), *_MENU_SIGNED_IN[1:]),
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        target = _MENU_TARGETS.get(option_id)
        if option_id.startswith(_BOOK_FOR) or option_id == _BOOK_CHILD:
            target = BOOK
        if target is None:
            return Retry(CHOOSE_AN_OPTION)
        forget_all(ctx.data)  # issue 14: "for whom?" is asked again
        if target == BOOK and ctx.patient_id is not None:
            return await _book_for(ctx, option_id)
        return Goto(target)

    async def on_text(self, ctx: Ctx, text: str) -> Outcome:
        # By SMS people often send their ИИН first, or after the menu's number ("1 900315…"):
        # take it as the start of sign-in. The sign-in service decides whether a code goes out
        # (on SMS only to the sender's own registered phone, issue 9 §1).
        if ctx.patient_id is None and sum(ch.isdigit() for ch in text) >= _IIN_LIKE_DIGITS:
            numbered = _NUMBER_THEN_IIN.fullmatch(text)
            whole = sum(ch.isdigit() for ch in text) == _IIN_DIGITS  # "90 0315 410014"
            typed = numbered.group(1) if numbered and not whole else text
            return await sign_in.AskIin(SIGN_IN, requires_patient=False).on_text(ctx, typed)
        if ctx.patient_id is not None and text.strip() == BOOK_ASK and await dependants(ctx):
            forget_all(ctx.data)  # "for whom?" with "Myself" and every child
            return Goto(BOOK)
        return Retry(CHOOSE_AN_OPTION)


@dataclass
class Emergency(Step):
    """S12 / R-38: emergency words typed where a choice was expected: 103, nothing queued."""

    async def view(self, ctx: Ctx) -> View:
        return View(
            body=(
                T("This sounds like an emergency. Call 103 now."),
                T("The ambulance 103 answers day and night, free of charge."),
            )
        )


_LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


@dataclass
class ChooseLanguage(Step):
    async def view(self, ctx: Ctx) -> View:
        return View(
            body=(T("Choose the language."),),
            options=tuple(
                Option(f"lang.{code}", Verbatim(name), OptionRole.ITEM)
                for code, name in _LANGUAGE_NAMES.items()
            ),
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        code = option_id.removeprefix("lang.")
        if code not in _LANGUAGE_NAMES:
            return Retry(CHOOSE_AN_OPTION)
        ctx.conv.locale = code
        if ctx.patient_id is not None:  # the explicit choice wins on every channel
            await patients.set_language(ctx.uow(), ctx.patient_id, Language(code))
        ctx.language = code
        return Back(T("Done: the language is changed."))


# The 1414 desk (issue 12; anchors §2.2): the hours, the place and the expected wait before
# queueing; outside the hours the next opening and a message for a call back.
OPERATOR_QUEUED = "operator.queued"
OPERATOR_CALLBACK = "operator.callback"
QUALITY_1 = "desk.quality.1"
QUALITY_2 = "desk.quality.2"
DESK_CHAT = "desk_chat"  # the data key of the closed chat the quality questions are about
JOIN = "desk.join"
LEAVE = "desk.leave"
CALLBACK = "desk.callback"
DESK_STEPS = frozenset({OPERATOR, OPERATOR_QUEUED, OPERATOR_CALLBACK})
_MAX_CALLBACK = 1000


def desk_hours_text(hours: desk.DeskHours, now: dt.datetime) -> Text:
    """The desk's weekly hours as stored by a supervisor (the one place every patient text
    that states them takes them from; anchors §4: the seeds give no 1414 chat hours), and
    today's own when a supervisor set other hours for today (a holiday, a short day)."""
    week = opening_hours(hours.weekly)
    today = now.astimezone(desk.ALMATY).date()
    if today not in hours.exceptions:
        return week
    special = hours.exceptions[today]
    if special is None:
        return T("{week}; closed today", week=week)
    return T(
        "{week}; today {opens}–{closes}", week=week, opens=special.opens, closes=special.closes
    )


def expected_wait_text(wait: dt.timedelta | None) -> Text:
    if wait is None:
        return T("Expected wait: not known yet.")
    minutes = max(1, round(wait.total_seconds() / 60))
    return T("Expected wait: about {minutes} min.", minutes=minutes)


@dataclass
class Operator(Step):
    """Journey 8 / R-36: a person at 1414 takes the chat over. Before queueing: the hours and
    the queue; outside the hours: the next opening, a message for a call back, or the bot."""

    async def view(self, ctx: Ctx) -> View:
        hours = await desk.hours(ctx.uow())
        if not desk.is_open_at(ctx.now, hours):
            return View(
                body=(
                    T(
                        "The 1414 chat is closed now (operators answer {hours}). It opens {when}.",
                        hours=desk_hours_text(hours, ctx.now),
                        when=desk.next_opening(ctx.now, hours),
                    ),
                    EMERGENCY,
                ),
                options=(
                    Option(CALLBACK, T("Leave a message for a call back"), OptionRole.ACTION),
                ),
            )
        return View(
            body=(
                T(
                    "An operator of the contact centre 1414 can take over this chat ({hours}).",
                    hours=desk_hours_text(hours, ctx.now),
                ),
                expected_wait_text(await desk.expected_wait(ctx.uow(), ctx.now)),
            ),
            options=(Option(JOIN, T("Write to an operator"), OptionRole.ACTION),),
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        if option_id == CALLBACK:
            return Goto(OPERATOR_CALLBACK)
        if option_id != JOIN:
            return Retry(CHOOSE_AN_OPTION)
        if not desk.is_open_at(ctx.now, await desk.hours(ctx.uow())):  # closed meanwhile
            return Stay()
        conv = ctx.conv
        previous = conv.stack[-1] if conv.stack else MENU
        await desk.escalate(
            ctx.uow(),
            channel=conv.channel,
            user_id=conv.user_id,
            address=conv.user_id,  # a private Telegram chat's id is the user's; SMS: the phone
            patient_id=ctx.patient_id,
            reason=str(ctx.data.get(DESK_REASON) or "operator"),
            language=ctx.language,
            snapshot={"state": previous, "data": dict(conv.data)},
            now=ctx.now,
        )
        return Goto(OPERATOR_QUEUED)


@dataclass
class OperatorQueued(Step):
    """In the queue: the place and the expected wait; the channel passes every message on."""

    async def view(self, ctx: Ctx) -> View:
        chat = await desk.open_chat(ctx.uow(), ctx.conv.channel, ctx.conv.user_id)
        if chat is None or chat.state is not desk.DeskState.WAITING:
            return View(body=(T("You are chatting with an operator of 1414."),))
        place = await desk.place(ctx.uow(), chat.id)
        return View(
            body=(
                T(
                    "You are in the queue for an operator of 1414: number {place}.",
                    place=place or 1,
                ),
                expected_wait_text(await desk.expected_wait(ctx.uow(), ctx.now)),
                T("Write your question here: the operator will see it."),
            ),
            options=(Option(LEAVE, T("Leave the queue"), OptionRole.ACTION),),
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        # Reached only when the chat is no longer open (the channel answers open chats).
        return Back()

    async def on_text(self, ctx: Ctx, text: str) -> Outcome:
        return Back()


@dataclass
class OperatorCallback(Step):
    """Outside the desk's hours: a message for a call back (the desk sees these first)."""

    async def view(self, ctx: Ctx) -> View:
        return View(
            body=(
                T("Write your message: what you need and, if not this number, a phone to call."),
            ),
            expects=InputKind.TEXT,
        )

    async def on_text(self, ctx: Ctx, text: str) -> Outcome:
        message = text.strip()
        if not message:
            return Retry(T("Please write your message."))
        if not any(ch.isalnum() for ch in message):  # issue 15: «🙏🙏» tells the desk nothing
            return Retry(T("Please write your message in words: what you need."))
        await desk.request_callback(
            ctx.uow(),
            channel=ctx.conv.channel,
            address=ctx.conv.user_id,
            patient_id=ctx.patient_id,
            language=ctx.language,
            text=message[:_MAX_CALLBACK],
            now=ctx.now,
        )
        return Goto(
            MENU,
            notice=T("Thank you. An operator of 1414 will call you back when the desk opens."),
            reset=True,
        )


# Seed 001 §2.7 (Annex 3): the two questions and their three answers, asked after a chat.
_ANSWERS = (
    Option("q.1", T("Not satisfied"), OptionRole.ITEM),
    Option("q.2", T("Partly satisfied"), OptionRole.ITEM),
    Option("q.3", T("Satisfied"), OptionRole.ITEM),
)


@dataclass
class Quality(Step):
    question: int = 1

    async def view(self, ctx: Ctx) -> View:
        if self.question == 1:
            body: tuple[Text, ...] = (
                T("The chat with the operator of 1414 is over."),
                T("Are you satisfied with the quality and the result of the service?"),
            )
        else:
            body = (T("Are you satisfied with the information on how the service works?"),)
        return View(body=body, options=_ANSWERS)

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        answer = {"q.1": 1, "q.2": 2, "q.3": 3}.get(option_id)
        chat_id = ctx.int_data(DESK_CHAT)
        if answer is None:
            return Retry(CHOOSE_AN_OPTION)
        if chat_id is not None:
            await desk.answer_quality(ctx.uow(), chat_id, self.question, answer, ctx.now)
        if self.question == 1:
            return Goto(QUALITY_2)
        return Goto(MENU, notice=T("Thank you for your answers."), reset=True)

    async def on_text(self, ctx: Ctx, text: str) -> Outcome:
        typed = text.strip()
        if typed in ("1", "2", "3"):  # the number of an answer, as SMS patients write it
            return await self.on_option(ctx, f"q.{typed}")
        return Retry(CHOOSE_AN_OPTION)


@dataclass
class Help(Step):
    """What the service does, 1414 and 103; the hours one tap further (short enough for one
    SMS reply of 2 segments, issue 5)."""

    async def view(self, ctx: Ctx) -> View:
        return View(
            body=(
                T(
                    "Here you can book an appointment with a doctor of your clinic, cancel or "
                    "move it, call a doctor home, request certificates and follow the status of "
                    "every application."
                ),
                CALL_CENTRE,
                EMERGENCY,
            ),
            options=(Option("hours", T("Working hours"), OptionRole.ACTION),),
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        return Goto(HELP_HOURS) if option_id == "hours" else Retry(CHOOSE_AN_OPTION)


@dataclass
class HelpHours(Step):
    """The hours and the home-visit cut-off: a signed-in patient's own clinic's, computed from
    its schedule (S4 row 7, R-14); signed out or attached nowhere, the standard ones, said so."""

    async def view(self, ctx: Ctx) -> View:
        schedule = None
        if ctx.patient_id is not None:
            attached = await patients.attachment_summary(ctx.uow(), ctx.patient_id)
            schedule = attached.clinic.schedule if attached is not None else None
        return View(
            body=(
                clinic_hours(schedule),
                home_visit_cutoff(schedule),
                T("The state services here are free of charge."),
            )
        )


@dataclass
class Account(Step):
    async def view(self, ctx: Ctx) -> View:
        return View(
            body=(T("Sign out here, or on all your devices at once."),),
            options=(
                Option("signout", T("Sign out"), OptionRole.ACTION),
                Option("signout.all", T("Sign out everywhere"), OptionRole.ACTION),
            ),
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        sessions = ctx.services.sessions
        # Issue 15: signing out keeps the language the patient was reading.
        ctx.conv.locale = ctx.language
        if option_id == "signout":
            await sessions.sign_out(ctx.conv.channel, ctx.conv.user_id)
            ctx.patient_id = None
            return Goto(MENU, notice=T("You are signed out."), reset=True)
        if option_id == "signout.all":
            await sessions.sign_out_everywhere(ctx.require_patient())
            ctx.patient_id = None
            return Goto(MENU, notice=T("You are signed out on all your devices."), reset=True)
        return Retry(CHOOSE_AN_OPTION)


STEPS: tuple[Step, ...] = (
    MainMenu(MENU, requires_patient=False),
    Emergency(EMERGENCY_SCREEN, requires_patient=False),
    ChooseLanguage(LANGUAGE, requires_patient=False),
    Operator(OPERATOR, requires_patient=False),
    OperatorQueued(OPERATOR_QUEUED, requires_patient=False),
    OperatorCallback(OPERATOR_CALLBACK, requires_patient=False),
    Quality(QUALITY_1, requires_patient=False, question=1),
    Quality(QUALITY_2, requires_patient=False, question=2),
    Help(HELP, requires_patient=False),
    HelpHours(HELP_HOURS, requires_patient=False),
    Account(ACCOUNT),
)
