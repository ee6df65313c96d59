"""Journey 4: my appointments: the upcoming ones, details, cancel (confirmed) or move.

Cancelling asks "yes / no" first and frees the slot at once; moving reuses the booking
journey's time (the earliest free day first, "Other day" for the days) → confirm → result
steps (`booking.MOVING`) and ends in the backend's
atomic `reschedule`: the new time is held before the old one is freed, and the application
keeps its number. The application being looked at is kept as its number under "appts:number".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from backend.domain.refusals import Refusal
from backend.services import booking
from backend.services.booking import AppointmentView
from dialogs.common import doctor_name, person_name, refusal_notice, status_label
from dialogs.engine.screen import Option, OptionRole
from dialogs.engine.step import CHOOSE_AN_OPTION, Back, Ctx, Goto, Outcome, Retry, Step, View
from dialogs.engine.text import T, Text, Verbatim
from dialogs.journeys.booking import (
    GONE,
    MOVING,
    MY_APPOINTMENTS,
    Item,
    ListStep,
    active_appointment,
    appointment_lines,
    flow_steps,
)
from dialogs.journeys.common import APPOINTMENTS, BOOK
from dialogs.journeys.for_whom import dependants

APPOINTMENT = "appts.detail"
CANCEL = "appts.cancel"
NUMBER = MOVING.key("number")


def _lines(appointment: AppointmentView) -> tuple[Text, ...]:
    return appointment_lines(
        appointment.doctor,
        appointment.specialty,
        appointment.clinic,
        appointment.room,
        appointment.local_start,
    )


def _gone() -> View:
    return View(body=(GONE,), options=(Option("list", MY_APPOINTMENTS, OptionRole.ACTION),))


@dataclass
class AppointmentList(ListStep):
    async def items(self, ctx: Ctx) -> Sequence[Item]:
        patient = ctx.require_patient()
        people: list[tuple[int | None, str | None]] = [(None, None)]
        # Issue 14: the appointments of the children the patient represents, with their names.
        people += [(c.patient_id, c.short_name) for c in await dependants(ctx)]
        items = []
        for child, name in people:
            upcoming = await booking.upcoming_appointments(
                ctx.uow(), patient, now=ctx.now, for_patient=child
            )
            for a in upcoming:
                label = T("{when}, {doctor}", when=a.local_start, doctor=doctor_name(a.doctor))
                items.append(
                    Item(
                        f"ap.{a.appointment_id}",
                        label
                        if name is None
                        else T("{name}: {line}", name=person_name(name), line=label),
                        keys=(a.application_number, a.application_number.replace("-", "")),
                        data={NUMBER: a.application_number},
                    )
                )
        return items

    async def view(self, ctx: Ctx) -> View:
        items = await self.items(ctx)
        book = Option("book", T("Book an appointment"), OptionRole.ACTION)
        if not items:
            return View(body=(T("You have no upcoming appointments."),), options=(book,))
        return View(
            body=(T("Your upcoming appointments. Choose one to see, cancel or move it."),),
            options=(*(i.option for i in items), book),
        )

    async def action(self, ctx: Ctx, option_id: str) -> Outcome | None:
        return Goto(BOOK) if option_id == "book" else None

    async def picked(self, ctx: Ctx, item: Item) -> Outcome:
        return Goto(APPOINTMENT)


@dataclass
class AppointmentDetails(Step):
    async def view(self, ctx: Ctx) -> View:
        number = ctx.str_data(NUMBER)
        found = await active_appointment(ctx, number)
        if found is None:
            return _gone()
        appointment, status = found
        return View(
            body=(
                T(
                    "Application No. {number}, status: {status}.",
                    number=Verbatim(appointment.application_number),
                    status=status_label(status),
                ),
                *_lines(appointment),
            ),
            options=(
                Option("move", T("Move to another time"), OptionRole.ACTION),
                Option("cancel", T("Cancel the appointment"), OptionRole.ACTION),
            ),
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        if option_id == "list":
            return Goto(APPOINTMENTS, reset=True)
        if option_id not in ("move", "cancel"):
            return Retry(CHOOSE_AN_OPTION)
        if await active_appointment(ctx, ctx.str_data(NUMBER)) is None:
            return Goto(APPOINTMENTS, notice=GONE, reset=True)
        if option_id == "cancel":
            return Goto(CANCEL)
        MOVING.forget(ctx, "day", "slot", "slot_at", "room")
        return Goto(MOVING.slot)  # the earliest free day's times, "Other day" (issue 15)


@dataclass
class ConfirmCancel(Step):
    """An explicit yes / no before anything changes."""

    async def view(self, ctx: Ctx) -> View:
        found = await active_appointment(ctx, ctx.str_data(NUMBER))
        if found is None:
            return _gone()
        appointment = found[0]
        return View(
            body=(T("Cancel this appointment?"), *_lines(appointment)),
            options=(
                Option("yes", T("Yes, cancel it"), OptionRole.ACTION),
                Option("no", T("No, keep it"), OptionRole.ACTION),
            ),
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        if option_id == "list":
            return Goto(APPOINTMENTS, reset=True)
        if option_id == "no":
            return Back(T("Nothing has changed: the appointment is kept."))
        if option_id != "yes":
            return Retry(CHOOSE_AN_OPTION)
        found = await active_appointment(ctx, ctx.str_data(NUMBER))
        if found is None:
            return Goto(APPOINTMENTS, notice=GONE, reset=True)
        appointment = found[0]
        try:
            # The slot is free for others at once (backend/services/booking.py).
            await booking.cancel(
                ctx.uow(), ctx.require_patient(), appointment.appointment_id, now=ctx.now
            )
        except Refusal as refusal:
            return Goto(APPOINTMENTS, notice=refusal_notice(refusal), reset=True)
        return Goto(
            APPOINTMENTS,
            notice=T(
                "Cancelled: the appointment of {when}, application No. {number}.",
                when=appointment.local_start,
                number=Verbatim(appointment.application_number),
            ),
            reset=True,
        )


STEPS: tuple[Step, ...] = (
    AppointmentList(APPOINTMENTS),
    AppointmentDetails(APPOINTMENT),
    ConfirmCancel(CANCEL),
    *flow_steps(MOVING),
)
