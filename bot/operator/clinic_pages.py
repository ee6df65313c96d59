"""Clinic staff pages (issue 11): for clinics without a system of their own, the Clinic API's
actions in the browser: the queue of open applications (overdue first, filters, new ones
appear live), an application's card with its history, and the actions (take into work,
complete, refuse on a ground of the service's standard, assign a home visit doctor and
window, record attendance, post a PDF, revoke the signed document with a reason). Everything
goes through backend.services.clinic (and .documents) with the staff member's clinic as the
scope: another clinic's application is "not found". Each
action and each card opened is written to the staff audit log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.typedefs import Handler

from backend.domain.documents import format_code
from backend.domain.refusals import REFUSAL_GROUNDS, Refusal, RefusalCode
from backend.domain.statuses import ApplicationStatus, InvalidTransition, ServiceType
from backend.services import clinic, documents, staff
from bot.logs import get_logger
from bot.operator.language import C_, Words
from bot.operator.web import Event, Form, current, event_stream, form, render, require, words

if TYPE_CHECKING:
    from bot.operator.console import StaffConsole

log = get_logger("bot.operator.clinic")

CLINIC_ROLES: Final = frozenset({staff.Role.CLINIC_STAFF})
NUMBER: Final = r"[A-Za-z0-9-]{1,32}"
PER_PAGE: Final = 50
POLL_SECONDS: Final = 5.0
# Tests poll faster: app[POLL_KEY] = 0.1 on the main application.
POLL_KEY: Final = web.AppKey("clinic_poll_seconds", float)

SERVICES: Final[Mapping[ServiceType, str]] = {
    ServiceType.APPOINTMENT: C_("Appointment with a doctor"),
    ServiceType.HOME_VISIT: C_("Doctor's home visit"),
    ServiceType.CERTIFICATE_027: C_("Certificate 027/u"),
    ServiceType.STATEMENT_TB: C_("TB dispensary statement"),
    ServiceType.STATEMENT_PSYCHIATRY: C_("Psychiatric dispensary statement"),
    ServiceType.STATEMENT_NARCOLOGY: C_("Narcology dispensary statement"),
}
STATUSES: Final[Mapping[ApplicationStatus, str]] = {
    ApplicationStatus.SUBMITTED: C_("Submitted"),
    ApplicationStatus.REGISTERED: C_("Registered"),
    ApplicationStatus.NEXT_WORKING_DAY: C_("Carried over to the next working day"),
    ApplicationStatus.IN_PROGRESS: C_("In progress"),
    ApplicationStatus.COMPLETED: C_("Completed"),
    ApplicationStatus.REFUSED: C_("Refused"),
    ApplicationStatus.CANCELLED: C_("Cancelled"),
    ApplicationStatus.NO_SHOW: C_("Did not attend"),
}
# The legal grounds as the standards word them (S3-S5 row 9, S17-S19).
GROUNDS: Final[Mapping[RefusalCode, str]] = {
    RefusalCode.UNRELIABLE_DATA: C_(
        "The documents or the data in them are found to be unreliable (row 9, 1)"
    ),
    RefusalCode.NOT_ATTACHED_HERE: C_(
        "The patient is not attached to this clinic (row 9, 2; order ҚР ДСМ-194/2020)"
    ),
    RefusalCode.NO_SUBJECT_CONSENT: C_("No consent of the person the request is about"),
}
ACTORS: Final[Mapping[str, str]] = {
    "patient": C_("Patient"),
    "clinic": C_("Clinic"),
    "operator": C_("1414 operator"),
    "system": C_("System"),
}

DONE: Final[Mapping[str, str]] = {
    "take": C_("Taken into work."),
    "complete": C_("Completed: the patient is told."),
    "refuse": C_("Refused: the patient is told the ground."),
    "attendance": C_("Attendance recorded."),
    "visit": C_("The doctor and the window are assigned."),
    "document": C_("The document is attached."),
    "revoke": C_("The document is revoked: the patient is told, and verification says so."),
}
CONFLICTS: Final[Mapping[str, str]] = {
    "use_attendance": C_("An appointment is completed by recording attendance."),
    "not_an_appointment": C_("Attendance is recorded for appointments only."),
    "appointment_not_started": C_("The appointment has not started yet: record it after."),
    "not_a_home_visit": C_("A doctor is assigned to home visits only."),
    "no_home_visit": C_("This application has no home visit record."),
    "application_closed": C_("The application is closed: no document can be added."),
    "no_document": C_("This application has no document signed by Dariger to revoke."),
}
INVALID: Final[Mapping[str, str]] = {
    "ground_not_allowed": C_("This ground is not allowed for this service."),
    "unknown_doctor": C_("Choose a doctor of this clinic."),
    "bad_window": C_("The window must be 30 minutes to 4 hours long, not over, within 31 days."),
    "not_a_working_day": C_("The window is not on a working day."),
    "outside_hours": C_("The window is outside the clinic's hours."),
    "outside_doctor_hours": C_("The window is outside the doctor's hours that day."),
    "empty_document": C_("Choose a PDF file."),
    "document_too_large": C_("A document is at most 5 MB."),
    "not_a_pdf": C_("The file is not a PDF."),
    "bad_filename": C_("The file name is not accepted: rename the file and try again."),
    "out_of_range": C_("Check the dates: the end is before the start."),
    "no_reason": C_("Write why the document is revoked."),
    "not_confirmed": C_("Tick the box to confirm that the document is revoked for good."),
}
MAX_REVOKE_REASON: Final = documents.MAX_REVOKE_REASON
_SERVICE_VALUES: Final = frozenset(s.value for s in ServiceType)
_STATUS_VALUES: Final = frozenset(s.value for s in ApplicationStatus)
_GROUND_VALUES: Final = frozenset(g.value for g in RefusalCode)
NOT_POSSIBLE: Final = C_("This action is not possible now: the application is {status}.")
BAD_VALUE: Final = C_("Check the form: a value is missing or not valid.")


def add_routes(sub: web.Application, console: StaffConsole) -> None:
    pages = ClinicPages(console)
    sub.router.add_get("/clinic", pages.queue, name="clinic_queue")
    sub.router.add_get("/clinic/events", pages.events, name="clinic_events")
    sub.router.add_get(f"/clinic/a/{{number:{NUMBER}}}", pages.card, name="clinic_card")
    for action in ("take", "complete", "refuse", "attendance", "visit", "document", "revoke"):
        sub.router.add_post(f"/clinic/a/{{number:{NUMBER}}}/{action}", pages.act(action))


def _local(moment: dt.datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%d.%m.%Y %H:%M")


def _ground(said: Words, code: RefusalCode | None) -> str:
    label = GROUNDS.get(code) if code is not None else None
    return said(label) if label else ""


def _date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


class ClinicPages:
    def __init__(self, console: StaffConsole) -> None:
        self.console = console
        self.backend = console.backend

    def now(self) -> dt.datetime:
        return self.console.now()

    async def _clinic(self, request: web.Request) -> tuple[staff.StaffSession, staff.ClinicInfo]:
        signed_in = require(request, CLINIC_ROLES)
        info = await staff.clinic_info(self.backend.uow(), signed_in.account.clinic_id or 0)
        if info is None:  # pragma: no cover - a foreign key
            raise web.HTTPNotFound
        return signed_in, info

    def _row(self, item: clinic.ClinicApplication, said: Words, tz: ZoneInfo) -> dict[str, object]:
        return {
            "number": item.number,
            "service": said(SERVICES[item.service]),
            "status": said(STATUSES[item.status]),
            "status_code": item.status.value,
            "created": _local(item.created_at, tz),
            "deadline": _local(item.deadline, tz),
            "overdue": item.overdue,
            "patient": item.patient.full_name,
        }

    async def queue(self, request: web.Request) -> web.StreamResponse:
        signed_in, info = await self._clinic(request)
        said = words(request)
        tz = ZoneInfo(info.tz)
        query = request.query
        service = query.get("service", "")
        status = query.get("status", "")
        date_from, date_to = _date(query.get("from", "")), _date(query.get("to", ""))
        try:
            page_no = max(1, min(int(query.get("page", "1")), 10_000))
        except ValueError:
            page_no = 1
        error = ""
        try:
            found = await clinic.open_applications(
                self.backend.uow(),
                signed_in.account.clinic_id or 0,
                service=ServiceType(service) if service in _SERVICE_VALUES else None,
                status=ApplicationStatus(status) if status in _STATUS_VALUES else None,
                date_from=date_from,
                date_to=date_to,
                page=page_no,
                per_page=PER_PAGE,
                now=self.now(),
            )
        except clinic.Invalid as bad:
            error = said(INVALID.get(bad.code, BAD_VALUE))
            found = clinic.ApplicationPage(items=(), page=1, per_page=PER_PAGE, total=0)
        rows = [self._row(item, said, tz) for item in found.items]
        pages = max(1, -(-found.total // PER_PAGE))
        return render(
            request,
            "clinic_queue.html",
            title=said(C_("Applications")),
            clinic_name=info.names.get(said.language, info.code),
            rows=rows,
            total=found.total,
            page=found.page,
            pages=pages,
            prev_url=str(request.rel_url.update_query(page=page_no - 1)) if page_no > 1 else "",
            next_url=str(request.rel_url.update_query(page=page_no + 1))
            if page_no < pages
            else "",
            services=[(s.value, said(label)) for s, label in SERVICES.items()],
            statuses=[
                (s.value, said(label))
                for s, label in STATUSES.items()
                if s in clinic.OPEN_STATUSES or s is ApplicationStatus.IN_PROGRESS
            ],
            chosen={
                "service": service,
                "status": status,
                "from": date_from.isoformat() if date_from else "",
                "to": date_to.isoformat() if date_to else "",
            },
            events_url=str(request.app.router["clinic_events"].url_for()),
            error=error,
        )

    async def events(self, request: web.Request) -> web.StreamResponse:
        """New open applications of the clinic as they come (server-sent events)."""
        signed_in, info = await self._clinic(request)
        said = words(request)
        tz = ZoneInfo(info.tz)
        clinic_id = signed_in.account.clinic_id or 0
        token = request.cookies.get(self.console.cookie_name, "")

        async def alive() -> bool:
            still = await staff.session(
                self.backend.uow(), token, now=self.now(), policy=self.console.policy, touch=False
            )
            return still is not None

        async def snapshot() -> list[clinic.ClinicApplication]:
            found = await clinic.open_applications(
                self.backend.uow(), clinic_id, per_page=clinic.MAX_PER_PAGE, now=self.now()
            )
            return list(found.items)

        # The first look is taken before the stream answers (its headers, then "connected"):
        # whatever is stored after that is announced, never folded into the start.
        first = await snapshot()
        seen = {item.number for item in first}

        async def fresh() -> AsyncIterator[Event]:
            items = first
            while True:
                for item in items:
                    if item.number not in seen:
                        seen.add(item.number)
                        row = self._row(item, said, tz)
                        row["url"] = str(
                            request.app.router["clinic_card"].url_for(number=item.number)
                        )
                        yield Event("application", row)
                await asyncio.sleep(request.config_dict.get(POLL_KEY, POLL_SECONDS))
                items = await snapshot()

        return await event_stream(request, fresh(), alive=alive)

    async def _details(
        self, request: web.Request, signed_in: staff.StaffSession, number: str
    ) -> clinic.ClinicApplicationDetails:
        try:
            return await clinic.application_for_clinic(
                self.backend.uow(), signed_in.account.clinic_id or 0, number, now=self.now()
            )
        except Refusal:
            await staff.audit(
                self.backend.uow(),
                signed_in.account,
                "card_not_found",
                number[:32],
                now=self.now(),
                remote=request.remote,
            )
            raise web.HTTPNotFound from None

    async def card(
        self,
        request: web.Request,
        *,
        error: str = "",
        status: int = 200,
        done: str = "",
    ) -> web.StreamResponse:
        signed_in, info = await self._clinic(request)
        said = words(request)
        number = request.match_info["number"]
        details = await self._details(request, signed_in, number)
        if not error and not done:
            await staff.audit(
                self.backend.uow(),
                signed_in.account,
                "card_opened",
                details.application.number,
                now=self.now(),
                remote=request.remote,
            )
        if not done:
            done = said(DONE[request.query["done"]]) if request.query.get("done") in DONE else ""
        tz = ZoneInfo(info.tz)
        app = details.application
        history = [
            {
                "at": _local(change.at, tz),
                "to": said(STATUSES[change.to_status]),
                "actor": said(ACTORS.get(change.actor.value, C_("System"))),
                "reason": _ground(said, change.reason),
                "note": change.note or "",
            }
            for change in details.history
        ]
        visit = details.home_visit
        today = self.now().astimezone(tz).date()
        # Issue 13: the document Dariger signed for this application, and whether it is revoked.
        issued = await documents.issued_for(self.backend.uow(), app.number)
        revoked = (
            await documents.revocation_of(self.backend.uow(), issued.document_id)
            if issued is not None
            else None
        )
        return render(
            request,
            "clinic_card.html",
            status=status,
            title=said(C_("Application {number}"), number=app.number),
            app=self._row(app, said, tz),
            patient=app.patient,
            refusal=_ground(said, app.refusal),
            history=history,
            appointment=details.appointment,
            appointment_time=(
                _local(details.appointment.starts_at, tz) if details.appointment else ""
            ),
            visit=visit,
            visit_window=(
                f"{_local(visit.window_start, tz)}–{visit.window_end.astimezone(tz):%H:%M}"
                if visit
                else ""
            ),
            documents=[(d, _local(d.created_at, tz)) for d in details.documents],
            issued=issued,
            issued_code=format_code(issued.code) if issued is not None else "",
            revoked=revoked is not None,
            revoke_reason=revoked[1] or "" if revoked is not None else "",
            max_reason=MAX_REVOKE_REASON,
            grounds=[
                (g.value, said(GROUNDS[g]))
                for g in sorted(REFUSAL_GROUNDS[app.service])
                if g in GROUNDS
            ],
            doctors=info.doctors,
            is_appointment=app.service is ServiceType.APPOINTMENT,
            is_home_visit=app.service is ServiceType.HOME_VISIT,
            is_open=app.status in clinic.OPEN_STATUSES,
            visit_day=(visit.visit_date if visit else today).isoformat(),
            queue_url=str(request.app.router["clinic_queue"].url_for()),
            error=error,
            done=done,
            form=form(request).fields,
        )

    def act(self, action: str) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self.do(request, action)

        return handle

    async def do(self, request: web.Request, action: str) -> web.StreamResponse:
        signed_in, info = await self._clinic(request)
        said = words(request)
        number = request.match_info["number"]
        details = await self._details(request, signed_in, number)
        caller = staff.caller(signed_in.account)
        data = form(request)
        from bot.verify import DOCUMENTS_KEY  # noqa: PLC0415 - bot.verify imports bot.app

        lazy = request.config_dict.get(DOCUMENTS_KEY)
        made = lazy.get if lazy is not None else None
        try:
            detail = await self._perform(
                action, caller, number, data, ZoneInfo(info.tz), made=made
            )
        except Refusal:
            raise web.HTTPNotFound from None
        except documents.DocumentError as unusable:
            return await self._refused(
                request,
                signed_in,
                action,
                unusable.code,
                said(
                    CONFLICTS.get(unusable.code, NOT_POSSIBLE),
                    status=said(STATUSES[details.application.status]),
                ),
            )
        except clinic.Conflict as conflict:
            return await self._refused(
                request,
                signed_in,
                action,
                conflict.code,
                said(
                    CONFLICTS.get(conflict.code, NOT_POSSIBLE),
                    status=said(STATUSES[details.application.status]),
                ),
            )
        except InvalidTransition:
            return await self._refused(
                request,
                signed_in,
                action,
                "invalid_transition",
                said(NOT_POSSIBLE, status=said(STATUSES[details.application.status])),
            )
        except clinic.Invalid as bad:
            return await self._refused(
                request,
                signed_in,
                action,
                bad.code,
                said(INVALID.get(bad.code, BAD_VALUE)),
                status=422,
            )
        await staff.audit(
            self.backend.uow(),
            signed_in.account,
            f"clinic_{action}",
            details.application.number,
            now=self.now(),
            detail=detail,
            remote=request.remote,
        )
        log.info("clinic_staff_action", action=action, login=current(request).account.login)
        target = request.app.router["clinic_card"].url_for(number=details.application.number)
        raise web.HTTPSeeOther(target.with_query(done=action))

    async def _perform(
        self,
        action: str,
        caller: staff.StaffCaller,
        number: str,
        data: Form,
        tz: ZoneInfo,
        *,
        made: Callable[[], documents.Documents] | None = None,
    ) -> str:
        """Do the action through the clinic service; what the audit row says about it."""
        uow, now = self.backend.uow(), self.now()
        note = data.get("note").strip()[:200]
        detail = ""
        if action == "take":
            await clinic.take_into_work(uow, caller, number, now=now, note=note)
        elif action == "complete":
            # Issue 13, S5 row 8: a 027/е completed here is made and signed, like the API's.
            await clinic.complete(
                uow, caller, number, now=now, note=note, documents=made() if made else None
            )
        elif action == "refuse":
            ground_raw = data.get("ground")
            if ground_raw not in _GROUND_VALUES:
                raise clinic.Invalid("ground_not_allowed", "no ground", field="ground")
            ground = RefusalCode(ground_raw)
            detail = ground.value
            await clinic.refuse(uow, caller, number, ground, now=now, note=note)
        elif action == "attendance":
            attended = data.get("attended")
            if attended not in ("yes", "no"):
                raise clinic.Invalid("bad_value", "attended?", field="attended")
            detail = attended
            await clinic.record_attendance(
                uow, caller, number, attended=attended == "yes", now=now
            )
        elif action == "visit":
            start, end = self._window(data.fields, tz)
            doctor = data.get("doctor")
            detail = f"{doctor} {start.isoformat()}–{end.isoformat()}"
            await clinic.assign_home_visit(
                uow,
                caller,
                number,
                doctor_code=doctor,
                window_start=start,
                window_end=end,
                now=now,
            )
        elif action == "document":
            upload = data.files.get("document")
            if upload is None or not upload.content:
                raise clinic.Invalid("empty_document", "no file", field="document")
            posted = await clinic.post_document(
                uow,
                caller,
                number,
                filename=upload.filename or "document.pdf",
                content=upload.content,
                now=now,
            )
            detail = f"{posted.filename} {posted.size} bytes sha256={posted.sha256[:16]}"
        elif action == "revoke":
            detail = await self._revoke(caller, number, data)
        else:  # pragma: no cover - the routes name the actions
            raise web.HTTPNotFound
        return detail

    async def _revoke(self, caller: staff.StaffCaller, number: str, data: Form) -> str:
        """Issue 13: revoke the signed document, with a reason and a ticked confirmation."""
        reason = " ".join(data.get("reason").split())[:MAX_REVOKE_REASON]
        if not reason:
            raise clinic.Invalid("no_reason", "no reason", field="reason")
        if data.get("confirm") != "yes":
            raise clinic.Invalid("not_confirmed", "not confirmed", field="confirm")
        revoked = await documents.revoke_for_clinic(
            self.backend.uow(),
            caller.clinic_id,
            number,
            now=self.now(),
            reason=caller.note(reason),
        )
        return f"{format_code(revoked.code)} {'revoked' if revoked.newly else 'already revoked'}"

    async def _refused(
        self,
        request: web.Request,
        signed_in: staff.StaffSession,
        action: str,
        code: str,
        message: str,
        *,
        status: int = 409,
    ) -> web.StreamResponse:
        await staff.audit(
            self.backend.uow(),
            signed_in.account,
            f"clinic_{action}_refused",
            request.match_info["number"][:32],
            now=self.now(),
            detail=code,
            remote=request.remote,
        )
        return await self.card(request, error=message, status=status)

    @staticmethod
    def _window(fields: Mapping[str, str], tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """The window from the form's day and times, in the clinic's zone."""
        try:
            day = dt.date.fromisoformat(fields.get("day", ""))
            start = dt.time.fromisoformat(fields.get("start", ""))
            end = dt.time.fromisoformat(fields.get("end", ""))
        except ValueError:
            raise clinic.Invalid("bad_window", "day/start/end", field="window_start") from None
        return (
            dt.datetime.combine(day, start, tzinfo=tz),
            dt.datetime.combine(day, end, tzinfo=tz),
        )
