"""Issue 14: "for whom?", the first step of booking, home visit and certificates for a patient
who legally represents children (S3/S4 row 8: the service is received by the patient or their
legal representative).

`ForWhom` wraps a journey's entry step under the entry's own state name. A patient who
represents no one never sees the question (the entry step is shown at once); a parent chooses
themselves or a child (name and age) and the entry step follows on the same state, for the
chosen person. The choice is kept in `conv.data` per journey and forgotten when the main menu
opens a journey again. Booking asks in the main menu itself (issue 15: one SMS reply less):
"Book for myself" and "Book for <child>" (or, with several children, "Book for a child", which
asks "for which child?" with the children only), so the menu chooses before the journey starts.
The dialog only passes the choice on: the backend services decide,
with the signed-in patient as the actor, whether it may be acted for (a forged option id or a
typed number of a child one does not represent is refused there, NOT_REPRESENTED).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from backend.services import patients
from backend.services.patients import Dependant
from dialogs.common import person_name
from dialogs.engine.conversation import JsonValue
from dialogs.engine.screen import Option
from dialogs.engine.step import CHOOSE_AN_OPTION, Ctx, Outcome, Retry, Stay, Step, View
from dialogs.engine.text import T, Text

_PREFIX = "for:"
_ME = "for.me"
_CHILDREN = "children:"  # the menu's "Book for a child": the question lists the children only


def _key(journey: str) -> str:
    return f"{_PREFIX}{journey}"


def choose(ctx: Ctx, journey: str, patient_id: int) -> None:
    """Chosen before the journey starts (the main menu's "Book for …")."""
    ctx.data[_key(journey)] = patient_id


def children_only(ctx: Ctx, journey: str) -> None:
    """The question is asked about the children only (the menu's "Book for a child")."""
    ctx.data[f"{_PREFIX}{_CHILDREN}{journey}"] = True


def forget_all(data: dict[str, JsonValue]) -> None:
    """The main menu opens a journey afresh: the question is asked again."""
    for key in [k for k in data if k.startswith(_PREFIX)]:
        del data[key]


def subject(ctx: Ctx, journey: str) -> int | None:
    """The chosen person's patient id when it is not the signed-in patient; else None."""
    chosen = ctx.int_data(_key(journey))
    return None if chosen is None or chosen == ctx.require_patient() else chosen


async def dependants(ctx: Ctx) -> Sequence[Dependant]:
    patient = ctx.require_patient()
    return await ctx.once(
        ("dependants", patient),
        lambda: patients.dependants(ctx.uow(), patient, today=ctx.now.date()),
    )


async def for_lines(ctx: Ctx, journey: str) -> tuple[Text, ...]:
    """«Әли С. үшін.» / «Для Әли С.» / "For Әли С.": whom a confirmation is for."""
    chosen = subject(ctx, journey)
    if chosen is None:
        return ()
    for child in await dependants(ctx):
        if child.patient_id == chosen:
            return (T("For {name}", name=person_name(child.short_name)),)
    return ()


@dataclass
class ForWhom(Step):
    """The journey's entry step, asked "for whom?" first when there is a choice."""

    inner: Step = field(kw_only=True)
    journey: str = field(kw_only=True)

    async def _asking(self, ctx: Ctx) -> bool:
        return ctx.int_data(_key(self.journey)) is None and bool(await dependants(ctx))

    async def view(self, ctx: Ctx) -> View:
        if not await self._asking(ctx):
            return await self.inner.view(ctx)
        if ctx.data.get(f"{_PREFIX}{_CHILDREN}{self.journey}"):
            question = T("For which child?")
            options = []
        else:
            question = T("For whom is this request?")
            options = [Option(_ME, T("Myself"))]
        options += [
            Option(
                f"for.{c.patient_id}",
                T("{name}, age {age}", name=person_name(c.short_name), age=c.age),
            )
            for c in await dependants(ctx)
        ]
        return View(body=(question,), options=options)

    async def _choose(self, ctx: Ctx, chosen: int) -> Outcome:
        ctx.data[_key(self.journey)] = chosen
        return Stay()

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        if not await self._asking(ctx):
            return await self.inner.on_option(ctx, option_id)
        if option_id == _ME:
            return await self._choose(ctx, ctx.require_patient())
        # Only the listed children; the services check again (NOT_REPRESENTED).
        for child in await dependants(ctx):
            if option_id == f"for.{child.patient_id}":
                return await self._choose(ctx, child.patient_id)
        return Retry(CHOOSE_AN_OPTION)

    async def on_text(self, ctx: Ctx, text: str) -> Outcome:
        if not await self._asking(ctx):
            return await self.inner.on_text(ctx, text)
        typed = " ".join(text.split()).casefold()
        found = [
            c
            for c in await dependants(ctx)
            if typed and typed in (c.short_name.casefold(), c.short_name.split()[0].casefold())
        ]
        if len(found) == 1:
            return await self._choose(ctx, found[0].patient_id)
        return Retry(CHOOSE_AN_OPTION)

    async def on_contact(self, ctx: Ctx, phone: str, same_user: bool) -> Outcome:
        if not await self._asking(ctx):
            return await self.inner.on_contact(ctx, phone, same_user)
        return Retry(CHOOSE_AN_OPTION)


def asking(inner: Step, journey: str) -> ForWhom:
    return ForWhom(
        inner.name, requires_patient=inner.requires_patient, inner=inner, journey=journey
    )
