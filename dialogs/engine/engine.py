"""The dialog engine: one step of one conversation per inbound event.

The engine, not each dialog, owns the cross-cutting rules: the navigation options on every
screen (back, main menu, language, operator 1414), the same screen with a hint after bad input
with nothing entered lost, the operator offered after three failed inputs in a row, stale
buttons, the sign-in guard, a polite restart of an expired conversation, and never a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace

from backend.domain.refusals import Refusal
from backend.ports import Clock
from dialogs.common import refusal_notice
from dialogs.emergency import looks_like_emergency
from dialogs.engine.conversation import Conversation
from dialogs.engine.events import Chose, Command, Event, Start, Typed
from dialogs.engine.screen import Option, OptionRole, Screen
from dialogs.engine.step import Back, Ctx, Goto, Outcome, Retry, Stay, Step, View
from dialogs.engine.store import ConversationStore
from dialogs.engine.text import T, Text
from dialogs.services import Services

log = logging.getLogger(__name__)

LANGUAGES = ("kk", "ru", "en")
DEFAULT_LANGUAGE = "kk"  # Kazakh when nothing is known (issue 4, journey 1)
MAX_STRIKES = 3
MAX_STACK = 20

MENU = "menu"
LANGUAGE = "language"
OPERATOR = "operator"
HELP = "help"
SIGN_IN = "signin.iin"
EMERGENCY = "emergency"  # S12 / R-38: the 103 screen for emergency words typed anywhere

DESK_REASON = "desk_reason"  # conversation data: why the operator screen was opened

NAV_BACK = "nav.back"
NAV_MENU = "nav.menu"
NAV_LANGUAGE = "nav.lang"
NAV_OPERATOR = "nav.op"

COMMANDS = {"menu": MENU, "help": HELP, "language": LANGUAGE, "operator": OPERATOR}

STALE = T("This menu is out of date. Here is the current one.")
ALREADY_DONE = T("Already done: the message shows where you are.")
RESTARTED = T("Welcome back! We start again from the main menu.")
SIGN_IN_FIRST = T("Please sign in first.")
TROUBLE = T("Having trouble? Choose «Operator 1414» and a person will help you.")
FAILURE = T("Something went wrong on our side. Please try again or call 1414.")
UNKNOWN_COMMAND = T("Unknown command. Please use the menu.")


def _nav_options(state: str, can_go_back: bool) -> list[Option]:
    options = []
    if can_go_back:
        options.append(Option(NAV_BACK, T("« Back"), OptionRole.NAV))
    if state != MENU:
        options.append(Option(NAV_MENU, T("Main menu"), OptionRole.NAV))
    if state != LANGUAGE:
        options.append(
            Option(NAV_LANGUAGE, T("Language: Қазақша / Русский / English"), OptionRole.NAV)
        )
    if state != OPERATOR:
        options.append(Option(NAV_OPERATOR, T("Operator 1414"), OptionRole.NAV))
    return options


class Engine:
    def __init__(
        self,
        steps: Iterable[Step],
        *,
        services: Services,
        store: ConversationStore,
        clock: Clock,
    ) -> None:
        self.steps: Mapping[str, Step] = {s.name: s for s in steps}
        for required in (MENU, LANGUAGE, OPERATOR, HELP, SIGN_IN):
            if required not in self.steps:
                raise ValueError(f"the dialogs define no {required!r} step")
        self.services = services
        self.store = store
        self.clock = clock

    async def handle(
        self, channel: str, user_id: str, event: Event, *, language_hint: str | None = None
    ) -> Screen:
        """Step the conversation of (channel, user) with one event; always one screen back."""
        # Issue 16: one unit of work for the whole event (services borrow its session).
        async with self.store.lock(channel, user_id), self.services.backend.event():
            conv = await self.store.load(channel, user_id)
            fresh = conv is None
            if conv is None:
                conv = Conversation(channel=channel, user_id=user_id, state=MENU)
            ctx = await self._context(conv, language_hint)
            screen = await self._step(ctx, event, fresh=fresh)
            await self.store.save(conv)
            return screen

    async def open(
        self,
        channel: str,
        user_id: str,
        state: str,
        *,
        data: Mapping[str, str | int] | None = None,
        language_hint: str | None = None,
    ) -> Screen:
        """Open a screen directly (a notification's button, issue 11), with the main menu to go
        back to; `data` is what the screen reads (an application's number). The sign-in guard,
        refusals and failures apply as to any step."""
        async with self.store.lock(channel, user_id), self.services.backend.event():
            conv = await self.store.load(channel, user_id)
            if conv is None:
                conv = Conversation(channel=channel, user_id=user_id, state=MENU)
            ctx = await self._context(conv, language_hint)
            conv.data.update(data or {})
            conv.state, conv.stack, conv.pending = MENU, [], None
            screen = await self._apply(ctx, Goto(state if state in self.steps else MENU))
            await self.store.save(conv)
            return screen

    async def resume(
        self,
        channel: str,
        user_id: str,
        notice: Text,
        *,
        language_hint: str | None = None,
    ) -> Screen:
        """Back from the 1414 desk (issue 12): the screen the patient left for the operator,
        with what they had entered (the record was left untouched meanwhile), and a notice."""
        async with self.store.lock(channel, user_id), self.services.backend.event():
            conv = await self.store.load(channel, user_id)
            if conv is None:
                conv = Conversation(channel=channel, user_id=user_id, state=MENU)
            ctx = await self._context(conv, language_hint)
            while conv.state.split(".")[0] == OPERATOR and conv.stack:
                conv.state = conv.stack.pop()
            if conv.state.split(".")[0] == OPERATOR:
                conv.state = MENU
            screen = await self._apply(ctx, Stay(notice))
            await self.store.save(conv)
            return screen

    async def current_language(
        self, channel: str, user_id: str, *, language_hint: str | None = None
    ) -> str:
        async with self.services.backend.event():
            conv = await self.store.load(channel, user_id) or Conversation(channel, user_id)
            return (await self._context(conv, language_hint)).language

    async def _context(self, conv: Conversation, language_hint: str | None) -> Ctx:
        # Issue 16: the session brings the patient's language (kept with the sign-in in the
        # session store, otp/sessions.py): a step that reads nothing else runs no SQL.
        session = await self.services.sessions.current(conv.channel, conv.user_id)
        patient_id = session.patient_id if session else None
        language = session.language if session else None
        language = language or conv.locale
        if language is None and language_hint:
            hint = language_hint.split("-")[0].lower()
            language = hint if hint in LANGUAGES else None
        return Ctx(
            services=self.services,
            conv=conv,
            now=self.clock.now(),
            patient_id=patient_id,
            language=language or DEFAULT_LANGUAGE,
        )

    async def _step(self, ctx: Ctx, event: Event, *, fresh: bool) -> Screen:
        shown_before = (ctx.conv.seq, list(ctx.conv.shown))
        try:
            outcome = await self._dispatch(ctx, event, fresh=fresh)
        except Refusal as refusal:
            outcome = Stay(refusal_notice(refusal))
        except Exception:
            log.exception("dialog step failed", extra={"state": ctx.conv.state})
            outcome = Goto(MENU, notice=FAILURE, reset=True)
        screen = await self._apply(ctx, outcome)
        notice = None if isinstance(outcome, Retry) else outcome.notice
        stale = isinstance(event, Chose) and notice in (STALE, RESTARTED)
        seq, shown = shown_before
        if (
            stale
            and notice is STALE
            and isinstance(event, Chose)
            and event.seq == seq - 1
            and list(screen.option_ids) == shown
        ):
            # A second tap on the screen just replaced (a double tap, issue 15): the current
            # screen is already shown with these very options, so its buttons stay valid.
            ctx.conv.seq = seq
            return replace(screen, seq=seq, stale=True, repeat=True, notice=ALREADY_DONE)
        return replace(screen, stale=stale)

    async def _dispatch(self, ctx: Ctx, event: Event, *, fresh: bool) -> Outcome:
        conv = ctx.conv
        if isinstance(event, Start):
            return Goto(MENU, reset=True)
        if isinstance(event, Command):
            name = event.name.lower().lstrip("/")
            if name == "start":
                return Goto(MENU, reset=True)
            target = COMMANDS.get(name)
            if target is None:
                return Stay(UNKNOWN_COMMAND)
            return Goto(target, reset=target == MENU)
        if fresh:
            if isinstance(event, Typed):
                # A first message (SMS patients often start with their ИИН): the main menu
                # reads it; anything it cannot use just gets the welcome, without a strike.
                conv.state = MENU
                outcome = self._emergency(event, await self.steps[MENU].on_text(ctx, event.text))
                return Goto(MENU, reset=True) if isinstance(outcome, Retry) else outcome
            return Goto(MENU, notice=RESTARTED, reset=True)  # an old button: say we restarted
        step = self.steps.get(conv.state)
        if step is None:  # a state removed by a newer release
            return Goto(MENU, notice=RESTARTED, reset=True)
        if isinstance(event, Chose):
            if (event.seq is not None and event.seq != conv.seq) or (
                event.option_id not in conv.shown
            ):
                return Stay(STALE)
            return await self._chose(ctx, step, event.option_id)
        if isinstance(event, Typed):
            return self._emergency(event, await step.on_text(ctx, event.text))
        # SharedContact: Telegram's own phone, trusted only when the contact is the sender's.
        same = event.contact_user_id is not None and event.contact_user_id == event.sender_user_id
        return await step.on_contact(ctx, event.phone, same)

    def _emergency(self, event: Typed, outcome: Outcome) -> Outcome:
        """Text the screen could not use (a menu expects a choice, a phone a number …) that
        names an emergency gets the 103 screen, on every channel (S12, R-38). Screens that take
        free text (the home visit's reason, symptoms, address) check it themselves."""
        unused = isinstance(outcome, Retry) and EMERGENCY in self.steps
        return Goto(EMERGENCY) if unused and looks_like_emergency(event.text) else outcome

    async def _chose(self, ctx: Ctx, step: Step, option_id: str) -> Outcome:
        if option_id == NAV_BACK:
            return Back()
        if option_id == NAV_MENU:
            return Goto(MENU, reset=True)
        if option_id == NAV_LANGUAGE:
            return Goto(LANGUAGE)
        if option_id == NAV_OPERATOR:
            return Goto(OPERATOR)
        return await step.on_option(ctx, option_id)

    def _move(self, conv: Conversation, outcome: Outcome) -> tuple[Text | None, Text | None]:
        """Apply the outcome to the conversation; return (notice, error) for the screen."""
        if isinstance(outcome, Retry):
            conv.strikes += 1
            return (TROUBLE if conv.strikes >= MAX_STRIKES else None), outcome.error
        if isinstance(outcome, Goto) and outcome.state == OPERATOR:
            # What the 1414 desk is told: why the patient asked for a person (issue 12).
            conv.data[DESK_REASON] = "three_strikes" if conv.strikes >= MAX_STRIKES else "operator"
        conv.strikes = 0
        if isinstance(outcome, Goto):
            if outcome.reset:
                conv.stack.clear()
            elif outcome.state != conv.state:
                conv.stack = [*conv.stack, conv.state][-MAX_STACK:]
            conv.state = outcome.state
            return outcome.notice, None
        if isinstance(outcome, Back):
            conv.state = conv.stack.pop() if conv.stack else MENU
            return outcome.notice, None
        return outcome.notice, None

    async def _apply(self, ctx: Ctx, outcome: Outcome) -> Screen:
        conv = ctx.conv
        notice, error = self._move(conv, outcome)
        step = self.steps.get(conv.state) or self.steps[MENU]
        if step.requires_patient and ctx.patient_id is None:
            conv.pending = step.name
            conv.state = SIGN_IN
            step = self.steps[SIGN_IN]
            notice = notice or SIGN_IN_FIRST
        try:
            view = await step.view(ctx)
        except Refusal as refusal:
            view, step, notice = await self._fallback(ctx, refusal_notice(refusal))
        except Exception:
            log.exception("dialog view failed", extra={"state": conv.state})
            view, step, notice = await self._fallback(ctx, FAILURE)
        options = (*view.options, *_nav_options(step.name, bool(conv.stack)))
        conv.seq += 1
        conv.shown = [o.id for o in options]
        return Screen(
            state=step.name,
            body=tuple(view.body),
            options=options,
            expects=view.expects,
            notice=notice,
            error=error,
            sensitive=view.sensitive,
            document=view.document,
            seq=conv.seq,
            columns=view.columns,
            language=ctx.language,
        )

    async def _fallback(self, ctx: Ctx, notice: Text) -> tuple[View, Step, Text]:
        """The main menu with a notice, when a screen cannot be shown where we are."""
        ctx.conv.state = MENU
        ctx.conv.stack.clear()
        menu = self.steps[MENU]
        try:
            return await menu.view(ctx), menu, notice
        except Exception:  # the menu itself failed: a bare screen, still one reply
            log.exception("main menu failed")
            return View(body=(FAILURE,)), menu, notice
