"""Journey 6: my applications, the «жеке кабинет» analogue (seed-003 R-33..R-35).

Every application with its number, service and status, newest first: an appointment with its
date and time, a deadline only while a result is owed, «late» with 1414 past it (R-16); the details
with the status history, the appointment or home-visit specifics and, for a refusal, its legal
ground with the contact centre (R-35: never a bare "refused"; R-36: 1414 on every refusal).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from backend.domain.refusals import Refusal
from backend.domain.statuses import (
    ACTOR_LABELS,
    STATEMENT_VALIDITY,
    ApplicationStatus,
    ServiceType,
    is_open,
)
from backend.services import applications, documents, home_visit, patients
from backend.services.applications import ApplicationDetails, ApplicationSummary
from backend.services.common import normalize_application_number
from dialogs.common import (
    CALL_CENTRE,
    doctor_name,
    localized,
    person_name,
    refusal_notice,
    service_label,
    status_label,
)
from dialogs.engine.screen import InputKind, Option, OptionRole
from dialogs.engine.step import (
    CHOOSE_AN_OPTION,
    Back,
    Ctx,
    Goto,
    Outcome,
    Retry,
    Stay,
    Step,
    View,
)
from dialogs.engine.text import T, Text, Verbatim, common_noun, omissible
from dialogs.journeys.appointments import APPOINTMENT
from dialogs.journeys.appointments import NUMBER as APPOINTMENT_NUMBER
from dialogs.journeys.common import APPLICATIONS

LIST = APPLICATIONS  # "apps.list"
DETAILS = "apps.details"
CANCEL_VISIT = "apps.cancel_visit"  # issue 10: the patient cancels an open home visit
K_NUMBER = "apps.number"
K_PAGE = "apps.page"
PAGE_SIZE = 6  # one screen, and one SMS later
# Kazakhstan has been one zone (UTC+5) since 2024-03-01: for applications without a clinic.
KZ_TZ = ZoneInfo("Asia/Almaty")
_OPTION = re.compile(r"^app\.([A-Z0-9]{4}-[A-Z0-9]{4})$")
STATEMENTS = frozenset(
    {ServiceType.STATEMENT_TB, ServiceType.STATEMENT_PSYCHIATRY, ServiceType.STATEMENT_NARCOLOGY}
)
# S17-S19 row 10: registry statements are valid 10 calendar days.
STATEMENT_DAYS = STATEMENT_VALIDITY // dt.timedelta(days=1)
REFRESH = Option("refresh", T("Refresh"), OptionRole.ACTION)
# Issue 13: a completed certificate's card sends its signed document again (Telegram: the
# file, protected; SMS: the code and a fresh link).
SEND_AGAIN = Option("resend", T("Send the document again"), OptionRole.ACTION)
SENT_AGAIN = T("The document is on its way: it arrives in a moment.")
NOT_SENT = T("The document could not be sent. Please call the contact centre 1414.")
UNKNOWN_NUMBER = T("No application of yours has this number. Choose one below.")
# Issue 15: a number typed on the empty list says the list is empty and what to do.
NO_APPLICATIONS_YET = T(
    "You have no applications yet. Book an appointment, call a doctor home or request a "
    "certificate from the main menu."
)


async def _zone(ctx: Ctx) -> ZoneInfo:
    """The zone of the patient's clinic, for the times shown."""
    attached = await patients.attachment_summary(ctx.uow(), ctx.require_patient())
    return attached.clinic.tz if attached else KZ_TZ


def _line(app: ApplicationSummary, tz: ZoneInfo, now: dt.datetime) -> Text:
    """One application in the list: an appointment with its date and time; a deadline only
    while a result is owed, and past it «late» with 1414 (R-16)."""
    number, service, status = (
        Verbatim(app.number),
        service_label(app.service),
        status_label(app.status),
    )
    deadline = app.pending_deadline
    if deadline is not None and app.is_late(now):
        return T(
            "{number}: {service}. {status}. Late: due {deadline}; call 1414.",
            number=number,
            service=service,
            status=status,
            deadline=deadline.astimezone(tz),
        )
    if deadline is not None:
        return T(
            "{number}: {service}. {status}. Deadline: {deadline}.",
            number=number,
            service=service,
            status=status,
            deadline=deadline.astimezone(tz),
        )
    if app.appointment_at is not None:
        return T(
            "{number}: {service} on {when}. {status}.",
            number=number,
            service=service,
            status=status,
            when=app.appointment_at.astimezone(tz),
        )
    return T("{number}: {service}. {status}.", number=number, service=service, status=status)


def _summary(app: ApplicationSummary, tz: ZoneInfo, now: dt.datetime) -> Text:
    """An application's option: its number, what and its status; late, with 1414 (R-16)."""
    if app.pending_deadline is not None and app.is_late(now):
        return _line(app, tz, now)
    return T(
        "{number}: {service}. {status}.",
        number=Verbatim(app.number),
        service=service_label(app.service),
        status=status_label(app.status),
    )


def _deadline_lines(summary: ApplicationSummary, tz: ZoneInfo, now: dt.datetime) -> list[Text]:
    """The card's deadline, only while a result is owed; past it, late and 1414 (R-16)."""
    deadline = summary.pending_deadline
    if deadline is None:
        return []
    if summary.is_late(now):
        return [
            T(
                "Late: the deadline {deadline} has passed without a result. Please call the "
                "contact centre: 1414, 8-800-080-7777 (free).",
                deadline=deadline.astimezone(tz),
            )
        ]
    return [T("Deadline: {deadline}.", deadline=deadline.astimezone(tz))]


async def _listed(ctx: Ctx) -> list[ApplicationSummary]:
    """The patient's own and those of every child they represent today (issue 14)."""
    return await applications.list_applications(
        ctx.uow(), ctx.require_patient(), today=ctx.now.date()
    )


def _marked(app: ApplicationSummary, line: Text) -> Text:
    """A represented child's application carries the child's short name (issue 14)."""
    if app.for_name is None:
        return line
    return T("{name}: {line}", name=person_name(app.for_name), line=line)


async def _details(ctx: Ctx, number: str) -> ApplicationDetails:
    # Another patient's or unknown: Refusal (a represented child's is found, issue 14).
    return await applications.application_details(
        ctx.uow(), ctx.require_patient(), number, today=ctx.now.date()
    )


@dataclass
class ApplicationList(Step):
    async def view(self, ctx: Ctx) -> View:
        apps = await _listed(ctx)
        if not apps:
            return View(
                body=(
                    T("You have no applications yet."),
                    T("Appointments, home visits and certificates you request appear here."),
                ),
                options=(REFRESH,),
            )
        pages = (len(apps) + PAGE_SIZE - 1) // PAGE_SIZE
        page = min(max(ctx.int_data(K_PAGE) or 0, 0), pages - 1)
        shown = apps[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        tz = await _zone(ctx)
        body: list[Text] = [T("Your applications, newest first:")]
        # Issue 15: SMS shows no line above the options (they carry the short summary), so a
        # patient picks an application on the first page; Telegram keeps the full lines.
        body.extend(omissible(_marked(app, _line(app, tz, ctx.now))) for app in shown)
        options = [
            Option(f"app.{app.number}", _marked(app, _summary(app, tz, ctx.now))) for app in shown
        ]
        if page + 1 < pages:
            options.append(Option("more", T("Older applications"), OptionRole.ACTION))
        if page > 0:
            options.append(Option("newer", T("Newer applications"), OptionRole.ACTION))
        options.append(REFRESH)
        return View(body=body, options=options, expects=InputKind.TEXT)

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        page = ctx.int_data(K_PAGE) or 0
        if option_id == "refresh":
            return Stay()
        if option_id in ("more", "newer"):
            ctx.data[K_PAGE] = max(page + (1 if option_id == "more" else -1), 0)
            return Stay()
        match = _OPTION.match(option_id)
        if match is None:
            return Retry(CHOOSE_AN_OPTION)
        ctx.data[K_NUMBER] = match.group(1)
        return Goto(DETAILS)

    async def on_text(self, ctx: Ctx, text: str) -> Outcome:
        """A typed application number (SMS, or read out by 1414) opens its details."""
        number = normalize_application_number(text)
        apps = await _listed(ctx)
        if not apps:
            return Retry(NO_APPLICATIONS_YET)
        if number not in {a.number for a in apps}:
            return Retry(UNKNOWN_NUMBER)
        ctx.data[K_NUMBER] = number
        return Goto(DETAILS)


def _specifics(details: ApplicationDetails, tz: ZoneInfo, doctor: str | None) -> list[Text]:
    lines: list[Text] = []
    open_ = details.summary.status not in (ApplicationStatus.REFUSED, ApplicationStatus.CANCELLED)
    if details.appointment is not None:
        booked = details.appointment
        lines.append(
            T(
                "Appointment: {when}, {doctor} ({specialty}), room {room}, {clinic}.",
                when=booked.local_start,
                doctor=doctor_name(booked.doctor),
                specialty=common_noun(localized(booked.specialty)),
                room=Verbatim(booked.room or "—"),
                clinic=localized(booked.clinic),
            )
        )
    visit = details.home_visit
    if visit is not None:
        lines.append(T("Address: {address}", address=Verbatim(visit.address, echo=True)))
        lines.append(T("Reason: {reason}", reason=Verbatim(visit.reason, echo=True)))
        lines.append(
            T("Doctor: {doctor}", doctor=person_name(doctor))
            if doctor
            else T("The clinic assigns a doctor.")
        )
        lines.append(
            T(
                "Planned arrival: {start}–{end}.",
                start=visit.window_start.astimezone(tz),
                end=visit.window_end.astimezone(tz).time(),
            )
        )
    certificate = details.certificate
    if certificate is not None and certificate.kind in STATEMENTS:
        if certificate.valid_until is not None:  # valid 10 calendar days
            lines.append(T("Valid until {date}.", date=certificate.valid_until))
        elif open_:
            lines.append(T("Once issued, it is valid {days} calendar days.", days=STATEMENT_DAYS))
    if certificate is not None and open_ and certificate.valid_until is None:
        lines.append(T("The signed document will appear here when it is ready."))
    return lines


def _history(details: ApplicationDetails, tz: ZoneInfo) -> list[Text]:
    """Issue 15: SMS leaves the history out (its first and last steps are the card's
    «Submitted» and «Status» lines), so the actions stand on the first reply."""
    lines = [T("History:")]
    lines.extend(
        T(
            "{at}: {status} ({actor})",
            at=change.at.astimezone(tz),
            status=status_label(change.to_status),
            actor=Text(ACTOR_LABELS[change.actor]),
        )
        for change in details.history
    )
    return lines


async def _doctor_name(ctx: Ctx, details: ApplicationDetails) -> str | None:
    """The home visit's doctor, when it is the patient's district doctor (the usual case)."""
    visit = details.home_visit
    if visit is None or visit.doctor_id is None:
        return None
    attached = await patients.attachment_summary(ctx.uow(), ctx.require_patient())
    doctor = attached.district_doctor if attached else None
    return doctor.short_name if doctor is not None and doctor.id == visit.doctor_id else None


@dataclass
class ApplicationCard(Step):
    async def view(self, ctx: Ctx) -> View:
        number = ctx.str_data(K_NUMBER) or ""
        details = await _details(ctx, number)  # Refusal → the main menu with the reason
        summary = details.summary
        tz = await _zone(ctx)
        body: list[Text] = [
            T(
                "Application {number}: {service}.",
                number=Verbatim(summary.number),
                service=service_label(summary.service),
            ),
            *(
                (T("For {name}", name=person_name(summary.for_name)),)
                if summary.for_name is not None
                else ()
            ),
            T("Status: {status}.", status=status_label(summary.status)),
            *_deadline_lines(summary, tz, ctx.now),  # right under the status: late is news
            T("Submitted: {created}.", created=summary.created_at.astimezone(tz)),
        ]
        if summary.status is ApplicationStatus.REFUSED and summary.refusal is not None:
            body.append(refusal_notice(Refusal(summary.refusal)))  # R-35, with 1414
        elif summary.status is ApplicationStatus.NEXT_WORKING_DAY and not summary.is_late(ctx.now):
            body.append(CALL_CENTRE)  # on every delay (the late line names 1414 itself)
        body.extend(_specifics(details, tz, await _doctor_name(ctx, details)))
        body.extend(map(omissible, _history(details, tz)))
        options: tuple[Option, ...] = (REFRESH,)
        if details.home_visit is not None and is_open(summary.status):
            options = (Option("cancel", T("Cancel this request"), OptionRole.ACTION), REFRESH)
        elif details.appointment is not None and details.appointment.starts_at > ctx.now:
            # Issue 14: a child's appointment is cancelled or moved from here too.
            options = (Option("appt", T("Cancel or move"), OptionRole.ACTION), REFRESH)
        elif summary.status is ApplicationStatus.COMPLETED and await documents.issued_for(
            ctx.uow(), summary.number
        ):  # issue 13: the signed document once more
            options = (SEND_AGAIN, REFRESH)
        return View(
            body=body,
            options=options,
            # Registry statements and the reason of a visit are medical data.
            sensitive=summary.service in STATEMENTS or details.home_visit is not None,
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        if option_id == "cancel":
            return Goto(CANCEL_VISIT)
        if option_id == "appt":
            ctx.data[APPOINTMENT_NUMBER] = ctx.str_data(K_NUMBER) or ""
            return Goto(APPOINTMENT)
        if option_id == SEND_AGAIN.id:
            number = ctx.str_data(K_NUMBER) or ""
            sent = await documents.send_again(
                ctx.uow(), ctx.require_patient(), number, now=ctx.now
            )
            return Stay(notice=SENT_AGAIN if sent else NOT_SENT)
        return Stay() if option_id == "refresh" else Retry(CHOOSE_AN_OPTION)


@dataclass
class ConfirmVisitCancel(Step):
    """Issue 10: an explicit yes / no before a home-visit request is cancelled (as for
    appointments); its place in the doctor's window is free again at once."""

    async def view(self, ctx: Ctx) -> View:
        number = ctx.str_data(K_NUMBER) or ""
        details = await _details(ctx, number)
        visit = details.home_visit
        if visit is None or not is_open(details.summary.status):
            return View(
                body=(T("This request can no longer be cancelled."),),
                options=(Option("back", T("Back to the request"), OptionRole.ACTION),),
            )
        tz = await _zone(ctx)
        return View(
            body=(
                T(
                    "Cancel the home-visit request No. {number}?",
                    number=Verbatim(details.summary.number),
                ),
                T(
                    "Planned arrival: {start}–{end}.",
                    start=visit.window_start.astimezone(tz),
                    end=visit.window_end.astimezone(tz).time(),
                ),
            ),
            options=(
                Option("yes", T("Yes, cancel it"), OptionRole.ACTION),
                Option("no", T("No, keep it"), OptionRole.ACTION),
            ),
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        if option_id in ("no", "back"):
            return Back(
                T("Nothing has changed: the request is kept.") if option_id == "no" else None
            )
        if option_id != "yes":
            return Retry(CHOOSE_AN_OPTION)
        number = ctx.str_data(K_NUMBER) or ""
        try:
            await home_visit.cancel(ctx.uow(), ctx.require_patient(), number, now=ctx.now)
        except Refusal as refusal:
            return Goto(DETAILS, notice=refusal_notice(refusal), reset=True)
        return Goto(
            DETAILS,
            notice=T("Cancelled: the home-visit request No. {number}.", number=Verbatim(number)),
            reset=True,
        )


STEPS: tuple[Step, ...] = (
    ApplicationList(LIST),
    ApplicationCard(DETAILS),
    ConfirmVisitCancel(CANCEL_VISIT),
)
