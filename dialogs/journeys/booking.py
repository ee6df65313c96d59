"""Journey 3: book an appointment, S3 «Дәрігердің қабылдауына жазылу».

specialty → doctor → time → confirm → result; a specialty with one doctor skips the doctor
step, and the times shown first are those of the doctor's earliest free day, with "Other day"
for the list of days (issue 15: one SMS reply less in every booking). The main menu asks a
parent for whom (issue 14) in its own options: "Book for myself", "Book for Асель А.".
The attachment is checked first; a patient attached nowhere is told the legal
ground and how to attach (S2). The day → time → confirm → result part is one set of classes
parametrised by a `Flow`, shared with rescheduling in «My appointments» (journey 4,
dialogs/journeys/appointments.py).

Every option id that comes back is checked against the list as it is *now* (a doctor not in the
list, a taken time, a malformed id → the same screen with a hint); what the patient chose is
kept in `conv.data` as plain JSON values under the flow's own keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from backend.domain.model import Clinic, Doctor, FreeSlot, Specialty
from backend.domain.refusals import ATTACHED_NOWHERE, Refusal, RefusalCode
from backend.domain.statuses import ApplicationStatus
from backend.services import applications, booking, patients
from backend.services.booking import AppointmentView
from dialogs.common import (
    attached_nowhere,
    clinic_address,
    doctor_name,
    localized,
    name_label,
    refusal_notice,
    status_label,
)
from dialogs.engine.conversation import JsonValue
from dialogs.engine.screen import Option, OptionRole
from dialogs.engine.step import CHOOSE_AN_OPTION, Back, Ctx, Goto, Outcome, Retry, Step, View
from dialogs.engine.text import T, Text, Verbatim, common_noun, omissible
from dialogs.journeys.common import APPOINTMENTS, BOOK
from dialogs.journeys.for_whom import asking, for_lines, subject

BOOK_DOCTOR = "book.doctor"

# R-20 / §5.11: «Мемлекеттік көрсетілетін қызмет тегін көрсетіледі.»
FREE_OF_CHARGE = T("The state service is provided free of charge.")
GONE = T("This appointment is already cancelled or over.")
MY_APPOINTMENTS = T("My appointments")


# --- the parts the two journeys share -----------------------------------------------------


@dataclass(frozen=True)
class Flow:
    """Day → time → confirm → result, for a new booking or for moving an appointment."""

    prefix: str  # of the states ("book.day") and of the data keys ("book:slot")
    moving: bool = False
    # Issue 15: the times of the earliest free day come first, the days only on request.
    earliest: bool = False

    @property
    def day(self) -> str:
        return f"{self.prefix}.day"

    @property
    def slot(self) -> str:
        return f"{self.prefix}.slot"

    @property
    def confirm(self) -> str:
        return f"{self.prefix}.confirm"

    @property
    def done(self) -> str:
        return f"{self.prefix}.done"

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def forget(self, ctx: Ctx, *names: str) -> None:
        for name in names:
            ctx.data.pop(self.key(name), None)


BOOKING = Flow("book", earliest=True)
MOVING = Flow("appts", moving=True, earliest=True)  # "appts:number": the application being moved


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold().strip(".")


@dataclass(frozen=True)
class Item:
    """One choice of a list screen: its option, what may be typed instead, what to remember."""

    id: str
    label: Text | Verbatim
    keys: tuple[str, ...] = ()  # matched ignoring case, spacing and a final full stop
    data: Mapping[str, JsonValue] = field(default_factory=dict)

    @property
    def option(self) -> Option:
        return Option(self.id, self.label)


@dataclass
class ListStep(Step):
    """A screen listing items. The list is read again for every answer, so an id that is not
    (or no longer) in it, or a malformed one, is `Retry`, never an exception."""

    hint: ClassVar[Text] = CHOOSE_AN_OPTION  # the error after an answer that is not an item

    async def items(self, ctx: Ctx) -> Sequence[Item]:
        raise NotImplementedError

    async def picked(self, ctx: Ctx, item: Item) -> Outcome:
        raise NotImplementedError

    async def action(self, ctx: Ctx, option_id: str) -> Outcome | None:
        """An option besides the items ("other", "appts"); None when it is not one."""
        return None

    async def item(self, ctx: Ctx, option_id: str) -> Item | None:
        """The listed item of this id, if any (a list may find it without building the rest)."""
        return next((i for i in await self.items(ctx) if i.id == option_id), None)

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        outcome = await self.action(ctx, option_id)
        if outcome is not None:
            return outcome
        item = await self.item(ctx, option_id)
        if item is not None:
            return await self._pick(ctx, item)
        return Retry(self.hint)

    async def on_text(self, ctx: Ctx, text: str) -> Outcome:
        typed = _norm(text)
        found = [i for i in await self.items(ctx) if typed and typed in map(_norm, i.keys)]
        if len(found) == 1:
            return await self._pick(ctx, found[0])
        return Retry(self.hint)

    async def _pick(self, ctx: Ctx, item: Item) -> Outcome:
        ctx.data.update(item.data)
        return await self.picked(ctx, item)


async def active_appointment(
    ctx: Ctx, number: str | None
) -> tuple[AppointmentView, ApplicationStatus] | None:
    """The patient's upcoming appointment of this application and the application's status."""
    if not number:
        return None
    try:
        details = await applications.application_details(
            ctx.uow(), ctx.require_patient(), number, today=ctx.now.date()
        )  # one's own or a represented child's (issue 14)
    except Refusal:
        return None
    appointment = details.appointment
    if appointment is None or appointment.starts_at <= ctx.now:
        return None
    return appointment, details.summary.status


def appointment_lines(
    doctor: Doctor, specialty: Specialty, clinic: Clinic, room: str, local_start: dt.datetime
) -> tuple[Text, ...]:
    """Doctor, clinic and room, date and time (S3 row 5: the date and time of the schedule)."""
    who = T(
        "Doctor: {doctor}, {specialty}.",
        doctor=doctor_name(doctor),
        specialty=common_noun(localized(specialty)),
    )
    if room:
        where = T(
            "Clinic: {clinic}, {address}, room {room}.",
            clinic=localized(clinic),
            address=clinic_address(clinic),
            room=Verbatim(room),
        )
    else:
        where = T(
            "Clinic: {clinic}, {address}.",
            clinic=localized(clinic),
            address=clinic_address(clinic),
        )
    return who, where, T("Date and time: {when}.", when=local_start)


def _shown_before(lines: tuple[Text, ...]) -> tuple[Text, ...]:
    """The result screen after the confirmation (S3 row 5: the status with the date and
    time): the doctor and the place were on the confirmation just before, so SMS leaves them
    out (issue 15: no repeated headers); the date and time stay."""
    *details, when = lines
    return (*(omissible(line) for line in details), when)


def _need_int(ctx: Ctx, key: str) -> int:
    value = ctx.int_data(key)
    if value is None:  # a record from an older release, or a path the patient cannot take
        raise Refusal(RefusalCode.INVALID_INPUT)
    return value


@dataclass(frozen=True)
class Chosen:
    doctor: Doctor
    specialty: Specialty
    clinic: Clinic
    appointment: AppointmentView | None = None  # the one being moved


# Read-only look-ups, done once per event: a handler and the next view share them.
def _for(ctx: Ctx) -> int | None:
    """Issue 14: the child the patient books for (None: themselves); the services check it."""
    return subject(ctx, BOOK)


async def _attachment(ctx: Ctx) -> patients.AttachmentSummary | None:
    patient, child = ctx.require_patient(), _for(ctx)
    return await ctx.once(
        ("attachment", patient, child),
        lambda: patients.attachment_summary(
            ctx.uow(), patient, for_patient=child, today=ctx.now.date()
        ),
    )


async def _specialties(ctx: Ctx) -> Sequence[Specialty]:
    patient = ctx.require_patient()
    return await ctx.once(
        # Only the specialties that serve the patient's age today (issue 10).
        ("specialties", patient, _for(ctx)),
        lambda: booking.specialties_for(ctx.uow(), patient, now=ctx.now, for_patient=_for(ctx)),
    )


async def _doctors(ctx: Ctx, patient: int, specialty_id: int) -> Sequence[Doctor]:
    return await ctx.once(
        ("doctors", patient, specialty_id, _for(ctx)),
        lambda: booking.doctors_for(
            ctx.uow(), patient, specialty_id, now=ctx.now, for_patient=_for(ctx)
        ),
    )


async def _own_clinic(ctx: Ctx) -> Clinic:
    summary = await _attachment(ctx)
    if summary is None:  # S3 row 9 (2): attached to no clinic
        raise Refusal(RefusalCode.NOT_ATTACHED_HERE, attached=ATTACHED_NOWHERE)
    return summary.clinic


async def _specialty(ctx: Ctx) -> Specialty:
    specialty_id = _need_int(ctx, BOOKING.key("specialty"))
    for specialty in await _specialties(ctx):
        if specialty.id == specialty_id:
            return specialty
    raise Refusal(RefusalCode.INVALID_INPUT)


async def _chosen(ctx: Ctx, flow: Flow) -> Chosen:
    """The doctor (with specialty and clinic) whose days and times the flow shows."""
    if flow.moving:
        found = await active_appointment(ctx, ctx.str_data(flow.key("number")))
        if found is None:
            raise Refusal(RefusalCode.APPOINTMENT_NOT_ACTIVE)
        appointment = found[0]
        return Chosen(appointment.doctor, appointment.specialty, appointment.clinic, appointment)
    specialty = await _specialty(ctx)
    doctor_id = _need_int(ctx, flow.key("doctor"))
    patient = ctx.require_patient()
    # S3 row 9 (2): only doctors of the patient's own clinic are listed and accepted.
    for doctor in await _doctors(ctx, patient, specialty.id or 0):
        if doctor.id == doctor_id:
            return Chosen(doctor, specialty, await _own_clinic(ctx))
    raise Refusal(RefusalCode.INVALID_INPUT)


def _whose(ctx: Ctx, chosen: Chosen) -> int | None:
    """Whose times are shown: the appointment's own patient when moving one (a child's, issue
    14), else the person booked for."""
    if chosen.appointment is not None:
        return chosen.appointment.patient_id or None
    return _for(ctx)


def _to_my_appointments(option_id: str) -> Outcome | None:
    return Goto(APPOINTMENTS, reset=True) if option_id == "appts" else None


# --- journey 3: specialty and doctor ------------------------------------------------------


def _not_attached(refusal: Refusal) -> View:
    """S3 row 9 (2), R-17: why (the legal ground, with 1414) and how to attach (S2); the
    refusal of a patient attached to no clinic says how to attach itself."""
    if attached_nowhere(refusal):
        return View(body=(refusal_notice(refusal),))
    return View(
        body=(
            refusal_notice(refusal),
            T(
                "To attach, apply to the PHC clinic of your choice with an ID document, or on "
                "eGov: the service «Attachment to a PHC organisation». It takes 1 working day."
            ),
        )
    )


@dataclass
class ChooseSpecialty(ListStep):
    async def items(self, ctx: Ctx) -> Sequence[Item]:
        specialties = await _specialties(ctx)
        return [
            Item(
                f"sp.{s.id}",
                T("{specialty}", specialty=localized(s)),
                keys=(s.name_kk, s.name_ru, s.name_en),
                data={BOOKING.key("specialty"): s.id},
            )
            for s in specialties
        ]

    async def view(self, ctx: Ctx) -> View:
        try:  # the attachment first
            items = await self.items(ctx)
        except Refusal as refusal:
            if refusal.code is not RefusalCode.NOT_ATTACHED_HERE:
                raise
            return _not_attached(refusal)
        limit = ctx.services.backend.policy.max_future_appointments
        upcoming = await booking.upcoming_appointments(
            ctx.uow(), ctx.require_patient(), now=ctx.now, for_patient=_for(ctx)
        )
        if len(upcoming) >= limit:  # the cap of issue 2, said before any choice is made
            return View(
                body=(
                    T(
                        "You can have at most {limit} upcoming appointments at a time.",
                        limit=limit,
                    ),
                    T("Cancel or move one in «My appointments» to book another."),
                ),
                options=(Option("appts", MY_APPOINTMENTS, OptionRole.ACTION),),
            )
        clinic = await _own_clinic(ctx)
        if not items:
            return View(body=(T("Your clinic has no doctors to book online yet."),))
        return View(
            body=(
                *await for_lines(ctx, BOOK),
                T("Booking at {clinic}. Choose a specialty.", clinic=localized(clinic)),
            ),
            options=[i.option for i in items],
        )

    async def action(self, ctx: Ctx, option_id: str) -> Outcome | None:
        return _to_my_appointments(option_id)

    async def picked(self, ctx: Ctx, item: Item) -> Outcome:
        BOOKING.forget(ctx, "doctor", "day", "slot", "slot_at", "room")
        specialty_id = _need_int(ctx, BOOKING.key("specialty"))
        doctors = await _doctors(ctx, ctx.require_patient(), specialty_id)
        if len(doctors) == 1:
            # Nothing to choose: straight to that doctor's times (one screen, one SMS less);
            # "back" from the times returns to the specialties.
            ctx.data[BOOKING.key("doctor")] = doctors[0].id
            return Goto(BOOKING.slot)
        return Goto(BOOK_DOCTOR)


@dataclass
class ChooseDoctor(ListStep):
    async def items(self, ctx: Ctx) -> Sequence[Item]:
        return await self._items(ctx, await _specialty(ctx))

    async def _items(self, ctx: Ctx, specialty: Specialty) -> Sequence[Item]:
        doctors = await _doctors(ctx, ctx.require_patient(), specialty.id or 0)
        return [
            Item(
                f"dr.{d.id}",
                name_label(doctor_name(d)),
                keys=(d.short_name, d.surname, d.short_name_latin),
                data={BOOKING.key("doctor"): d.id},
            )
            for d in doctors
        ]

    async def view(self, ctx: Ctx) -> View:
        specialty = await _specialty(ctx)
        items = await self._items(ctx, specialty)
        if not items:
            return View(body=(T("No doctor of this specialty can be booked online."),))
        return View(
            body=(T("{specialty}: choose a doctor.", specialty=localized(specialty)),),
            options=[i.option for i in items],
        )

    async def picked(self, ctx: Ctx, item: Item) -> Outcome:
        BOOKING.forget(ctx, "day", "slot", "slot_at", "room")
        return Goto(BOOKING.slot)  # the earliest free day's times (issue 15)


# --- day → time → confirm → result, for both journeys --------------------------------------


def _date_keys(day: dt.date) -> tuple[str, ...]:
    return (
        f"{day:%d.%m}",
        f"{day.day}.{day.month}",
        f"{day:%d.%m.%Y}",
        f"{day.day}.{day.month}.{day.year}",
        f"{day:%d/%m}",
        day.isoformat(),
    )


def _time_keys(at: dt.datetime) -> tuple[str, ...]:
    h, m = at.hour, at.minute
    return (
        f"{h:02d}:{m:02d}",
        f"{h}:{m:02d}",
        f"{h:02d}.{m:02d}",
        f"{h}.{m:02d}",
        f"{h:02d}{m:02d}",
    )


def _chosen_day(ctx: Ctx, flow: Flow) -> dt.date:
    raw = ctx.str_data(flow.key("day"))
    try:
        return dt.date.fromisoformat(raw or "")
    except ValueError:
        raise Refusal(RefusalCode.INVALID_INPUT) from None


async def _free_by_day(
    ctx: Ctx, flow: Flow, chosen: Chosen
) -> Mapping[dt.date, Sequence[FreeSlot]]:
    whose = _whose(ctx, chosen)
    return await ctx.once(
        ("free_by_day", flow.prefix, chosen.doctor.id, whose),
        lambda: booking.free_slots_by_day(
            ctx.uow(),
            ctx.require_patient(),
            chosen.doctor.id or 0,
            now=ctx.now,
            horizon_days=ctx.services.backend.policy.horizon_days,
            for_patient=whose,
        ),
    )


async def _free_days(ctx: Ctx, flow: Flow, chosen: Chosen) -> Sequence[dt.date]:
    return list(await _free_by_day(ctx, flow, chosen))


async def _no_free_days(ctx: Ctx, flow: Flow, chosen: Chosen) -> View:
    days = ctx.services.backend.policy.horizon_days
    body = T(
        "{doctor} has no free times in the next {days} days.",
        doctor=doctor_name(chosen.doctor),
        days=days,
    )
    if flow.moving:
        return View(body=(body, T("Your appointment stays as it is.")))
    only = len(await _doctors(ctx, ctx.require_patient(), chosen.specialty.id or 0)) == 1
    other = T("Choose another specialty") if only else T("Choose another doctor")
    return View(body=(body,), options=(Option("other", other, OptionRole.ACTION),))


@dataclass
class ChooseDay(ListStep):
    flow: Flow = field(default=BOOKING, kw_only=True)

    hint: ClassVar[Text] = T("Choose a day below, or type its date, for example 24.11.")

    async def items(self, ctx: Ctx) -> Sequence[Item]:
        return await self._items(ctx, await _chosen(ctx, self.flow))

    async def _items(self, ctx: Ctx, chosen: Chosen) -> Sequence[Item]:
        days = await _free_days(ctx, self.flow, chosen)
        return [
            # The date goes in as a date: the renderer names the day and month (CLDR).
            Item(
                f"day.{d.isoformat()}",
                T("{day}", day=d),
                keys=_date_keys(d),
                data={self.flow.key("day"): d.isoformat()},
            )
            for d in days
        ]

    async def view(self, ctx: Ctx) -> View:
        chosen = await _chosen(ctx, self.flow)
        items = await self._items(ctx, chosen)
        doctor = doctor_name(chosen.doctor)
        if not items:
            return await _no_free_days(ctx, self.flow, chosen)
        head = (
            T("Move the appointment with {doctor}: choose a new day.", doctor=doctor)
            if self.flow.moving
            else T("{doctor}: choose a day.", doctor=doctor)
        )
        return View(body=(head,), options=[i.option for i in items], columns=2)

    async def action(self, ctx: Ctx, option_id: str) -> Outcome | None:
        if option_id == "other" and not self.flow.moving:
            return Back()  # to the doctors (to the specialties when there was one doctor)
        return None

    async def picked(self, ctx: Ctx, item: Item) -> Outcome:
        self.flow.forget(ctx, "slot", "slot_at", "room")
        if self.flow.earliest:  # asked for from the times: back to them, of the chosen day
            return Back()
        return Goto(self.flow.slot)


@dataclass
class ChooseSlot(ListStep):
    flow: Flow = field(default=BOOKING, kw_only=True)

    hint: ClassVar[Text] = T("Choose a time below, or type it, for example 09:20.")

    async def items(self, ctx: Ctx) -> Sequence[Item]:
        return await self._items(ctx, await _chosen(ctx, self.flow))

    async def item(self, ctx: Ctx, option_id: str) -> Item | None:
        # A tapped time: only its own item is built (issue 16: a day has dozens).
        found = await self._items(ctx, await _chosen(ctx, self.flow), only=option_id)
        return found[0] if found else None

    async def _day(self, ctx: Ctx, chosen: Chosen) -> dt.date | None:
        """The day chosen, or (issue 15) before any choice the earliest with free times."""
        if not self.flow.earliest or ctx.str_data(self.flow.key("day")):
            return _chosen_day(ctx, self.flow)
        days = await _free_days(ctx, self.flow, chosen)
        return days[0] if days else None

    async def _items(self, ctx: Ctx, chosen: Chosen, *, only: str | None = None) -> Sequence[Item]:
        day = await self._day(ctx, chosen)
        if day is None:
            return []
        if self.flow.earliest and not ctx.str_data(self.flow.key("day")):
            slots = (await _free_by_day(ctx, self.flow, chosen)).get(day, ())
        else:
            slots = await booking.free_slots(
                ctx.uow(),
                ctx.require_patient(),
                chosen.doctor.id or 0,
                day,
                now=ctx.now,
                for_patient=_whose(ctx, chosen),
            )
        items = []
        for slot in slots:
            if only is not None and only != f"slot.{slot.id}":
                continue
            local = slot.starts_at.astimezone(chosen.clinic.tz)  # the clinic's zone, not ours
            items.append(
                Item(
                    f"slot.{slot.id}",
                    T("{time}", time=local.time()),
                    keys=_time_keys(local),
                    data={
                        self.flow.key("slot"): slot.id,
                        self.flow.key("slot_at"): slot.starts_at.isoformat(),
                        self.flow.key("room"): slot.room or chosen.doctor.room,
                    },
                )
            )
        return items

    async def view(self, ctx: Ctx) -> View:
        chosen = await _chosen(ctx, self.flow)
        day = await self._day(ctx, chosen)
        if day is None:  # the earliest free day was asked for, and there is none
            return await _no_free_days(ctx, self.flow, chosen)
        items = await self._items(ctx, chosen)
        if not items:
            return View(
                body=(T("There are no free times left on {day}.", day=day),),
                options=(Option("days", T("Choose another day"), OptionRole.ACTION),),
            )
        options = [i.option for i in items]
        if self.flow.earliest:
            # First, so that by SMS it stays "1" on the first page however many times follow
            # (Telegram lays actions out below the times anyway).
            options.insert(0, Option("days", T("Other day"), OptionRole.ACTION))
        return View(
            body=(
                T(
                    "{doctor}, {day}: choose a time.",
                    doctor=doctor_name(chosen.doctor),
                    day=day,
                ),
            ),
            options=options,
            columns=3,
        )

    async def action(self, ctx: Ctx, option_id: str) -> Outcome | None:
        if option_id == "days":  # the list of days (the earliest day's times came first)
            return Goto(self.flow.day) if self.flow.earliest else Back()
        # Offered (when booking) when no day is free at all.
        no_day = option_id == "other" and self.flow.earliest and not self.flow.moving
        if no_day and await self._day(ctx, await _chosen(ctx, self.flow)) is None:
            return Back()  # to the doctors (the specialties)
        return None

    async def picked(self, ctx: Ctx, item: Item) -> Outcome:
        return Goto(self.flow.confirm)


@dataclass
class Confirm(Step):
    flow: Flow = field(default=BOOKING, kw_only=True)

    def _slot_start(self, ctx: Ctx) -> dt.datetime:
        try:
            start = dt.datetime.fromisoformat(ctx.str_data(self.flow.key("slot_at")) or "")
        except ValueError:
            raise Refusal(RefusalCode.INVALID_INPUT) from None
        if start.tzinfo is None:
            raise Refusal(RefusalCode.INVALID_INPUT)
        return start

    async def view(self, ctx: Ctx) -> View:
        chosen = await _chosen(ctx, self.flow)
        local = self._slot_start(ctx).astimezone(chosen.clinic.tz)
        room = ctx.str_data(self.flow.key("room")) or ""
        lines = appointment_lines(chosen.doctor, chosen.specialty, chosen.clinic, room, local)
        if chosen.appointment is not None:
            body: tuple[Text, ...] = (
                T(
                    "Move your appointment of {old} to this time?",
                    old=chosen.appointment.local_start,
                ),
                *lines,
            )
            confirm = T("Yes, move it")
        else:
            # Issue 15: one SMS segment where it can be. SMS leaves out the heading (the
            # option says "confirm") and the clinic, named at the specialty step; the room
            # stays, on a line of its own.
            who, _, when = lines
            place = (
                (omissible(T("Clinic: {clinic}, {address}.", clinic=localized(chosen.clinic),
                             address=clinic_address(chosen.clinic))),
                 T("Room {room}.", room=Verbatim(room)))
                if room
                else (lines[1],)
            )  # fmt: skip
            body = (
                omissible(T("Please check and confirm your appointment.")),
                *await for_lines(ctx, BOOK),
                who,
                *place,
                when,
                FREE_OF_CHARGE,
            )
            confirm = T("Confirm")
        return View(body=body, options=(Option("confirm", confirm, OptionRole.ACTION),))

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        if option_id != "confirm":
            return Retry(CHOOSE_AN_OPTION)
        slot_id = _need_int(ctx, self.flow.key("slot"))
        patient = ctx.require_patient()
        try:
            if self.flow.moving:
                chosen = await _chosen(ctx, self.flow)
                moving = chosen.appointment.appointment_id if chosen.appointment else 0
                # Atomic in the backend: the new slot is held before the old one is freed.
                result = await booking.reschedule(ctx.uow(), patient, moving, slot_id, now=ctx.now)
            else:
                result = await booking.book(
                    ctx.uow(),
                    patient,
                    slot_id,
                    now=ctx.now,
                    policy=ctx.services.backend.policy,
                    for_patient=_for(ctx),
                )
        except Refusal as refusal:
            return self._refused(ctx, refusal)
        self.flow.forget(ctx, "slot", "slot_at", "room")
        ctx.data[self.flow.key("number")] = result.application_number
        return Goto(self.flow.done, reset=True)

    def _refused(self, ctx: Ctx, refusal: Refusal) -> Outcome:
        code = refusal.code
        if code in (RefusalCode.SLOT_TAKEN, RefusalCode.SLOT_UNAVAILABLE):
            # Back to the times, read again; the doctor and the day stay chosen.
            self.flow.forget(ctx, "slot", "slot_at", "room")
            return Back(refusal_notice(refusal))
        if code is RefusalCode.TOO_MANY_APPOINTMENTS:  # names the limit; the way out is there
            return Goto(BOOK, notice=refusal_notice(refusal), reset=True)
        if code in (RefusalCode.APPOINTMENT_NOT_ACTIVE, RefusalCode.APPOINTMENT_NOT_FOUND):
            return Goto(APPOINTMENTS, notice=refusal_notice(refusal), reset=True)
        raise refusal  # the engine shows it on this screen (e.g. NOT_ATTACHED_HERE)


@dataclass
class Done(Step):
    """S3 row 5: the result is the application status with the date and time."""

    flow: Flow = field(default=BOOKING, kw_only=True)

    async def view(self, ctx: Ctx) -> View:
        number = ctx.str_data(self.flow.key("number"))
        options = (Option("appts", MY_APPOINTMENTS, OptionRole.ACTION),)
        found = await active_appointment(ctx, number)
        if found is None:
            return View(body=(GONE,), options=options)
        appointment, status = found
        head = (
            T(
                "Your appointment is moved. Application No. {number}.",
                number=Verbatim(number or ""),
            )
            if self.flow.moving
            else T("You are booked. Application No. {number}.", number=Verbatim(number or ""))
        )
        return View(
            body=(
                head,
                # For whom: on the confirmation just before, so SMS leaves it out (issue 15).
                *(() if self.flow.moving else map(omissible, await for_lines(ctx, BOOK))),
                T("Status: {status}.", status=status_label(status)),
                *_shown_before(
                    appointment_lines(
                        appointment.doctor,
                        appointment.specialty,
                        appointment.clinic,
                        appointment.room,
                        appointment.local_start,
                    )
                ),
            ),
            options=options,
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        return _to_my_appointments(option_id) or Retry(CHOOSE_AN_OPTION)


def flow_steps(flow: Flow) -> tuple[Step, ...]:
    return (
        ChooseDay(flow.day, flow=flow),
        ChooseSlot(flow.slot, flow=flow),
        Confirm(flow.confirm, flow=flow),
        Done(flow.done, flow=flow),
    )


STEPS: tuple[Step, ...] = (
    asking(ChooseSpecialty(BOOK), BOOK),  # issue 14: "for whom?" first, for a parent
    ChooseDoctor(BOOK_DOCTOR),
    *flow_steps(BOOKING),
)
