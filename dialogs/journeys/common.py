"""Journeys 1 and 8: start and main menu, language, help, the operator (1414), the account."""

from __future__ import annotations

import re
from dataclasses import dataclass

from backend.domain.model import Language
from backend.services import patients
from dialogs.common import CALL_CENTRE, EMERGENCY, clinic_hours, home_visit_cutoff
from dialogs.engine.engine import EMERGENCY as EMERGENCY_SCREEN
from dialogs.engine.engine import HELP, LANGUAGE, MENU, OPERATOR
from dialogs.engine.screen import Option, OptionRole
from dialogs.engine.step import CHOOSE_AN_OPTION, Back, Ctx, Goto, Outcome, Retry, Step, View
from dialogs.engine.text import T, Verbatim
from dialogs.journeys import sign_in

# Entry states of the journeys (each journey module defines its own steps).
BOOK = "book.specialty"
APPOINTMENTS = "appts.list"
HOME_VISIT = "visit.terms"
APPLICATIONS = "apps.list"
CERTIFICATES = "certs.list"
ACCOUNT = "account"
HELP_HOURS = "help.hours"
SIGN_IN = "signin.iin"

_MENU_SIGNED_IN = (
    Option("book", T("Book an appointment")),
    Option("appts", T("My appointments")),
    Option("visit", T("Call a doctor home")),
    Option("apps", T("My applications")),
    Option("certs", T("Certificates")),
    Option("help", T("Help")),
    Option("account", T("Sign out")),
)
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
            body=(T("Main menu. What would you like to do?"), EMERGENCY), options=_MENU_SIGNED_IN
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        target = _MENU_TARGETS.get(option_id)
        return Goto(target) if target else Retry(CHOOSE_AN_OPTION)

    async def on_text(self, ctx: Ctx, text: str) -> Outcome:
        # By SMS people often send their ИИН first, or after the menu's number ("1 900315…"):
        # take it as the start of sign-in. The sign-in service decides whether a code goes out
        # (on SMS only to the sender's own registered phone, issue 9 §1).
        if ctx.patient_id is None and sum(ch.isdigit() for ch in text) >= _IIN_LIKE_DIGITS:
            numbered = _NUMBER_THEN_IIN.fullmatch(text)
            whole = sum(ch.isdigit() for ch in text) == _IIN_DIGITS  # "90 0315 410014"
            typed = numbered.group(1) if numbered and not whole else text
            return await sign_in.AskIin(SIGN_IN, requires_patient=False).on_text(ctx, typed)
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


@dataclass
class Operator(Step):
    """Journey 8 / R-36. The live takeover is a later issue; for now: the number and hours."""

    async def view(self, ctx: Ctx) -> View:
        return View(
            body=(
                T("A person can help you at the contact centre 1414."),
                CALL_CENTRE,
                T("Operators answer Mon–Fri 08:00–20:00 and Sat 09:00–14:00."),
                EMERGENCY,
            )
        )


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
    Help(HELP, requires_patient=False),
    HelpHours(HELP_HOURS, requires_patient=False),
    Account(ACCOUNT),
)
