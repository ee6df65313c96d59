"""The supervisor's pages of the 1414 desk (issue 12): every open chat with reassign and close,
the figures over a period, the desk's hours (stored, migration 0012), the access log (who
looked at which patient's data) and the call-back requests.

Everything goes through backend.services.desk; every change is also written to the staff audit
log. The chats, figures, hours and access-log pages are for supervisors only (an operator gets
403); the call-backs list is for the whole desk (operators make the calls).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import MultiDict

from backend.domain.calendar import OpeningHours
from backend.services import desk, staff
from bot.logs import get_logger
from bot.operator.clinic_pages import POLL_KEY, POLL_SECONDS
from bot.operator.desk_pages import CHANNELS
from bot.operator.language import C_, Words
from bot.operator.web import Event, current, event_stream, form, render, require, words

if TYPE_CHECKING:
    from bot.operator.console import StaffConsole

log = get_logger("bot.operator.supervisor")

ALMATY: Final = ZoneInfo("Asia/Almaty")
SUPERVISOR: Final = frozenset({staff.Role.SUPERVISOR})
BASE: Final = "/desk/supervisor"
PER_PAGE: Final = 50
MAX_PAGE: Final = 10_000

WEEKDAYS: Final = (
    C_("Monday"),
    C_("Tuesday"),
    C_("Wednesday"),
    C_("Thursday"),
    C_("Friday"),
    C_("Saturday"),
    C_("Sunday"),
)
STATES: Final[Mapping[str, str]] = {
    "waiting": C_("Waiting"),
    "taken": C_("With an operator"),
}
PERIODS: Final[Mapping[str, str]] = {
    "today": C_("Today"),
    "7d": C_("7 days"),
    "30d": C_("30 days"),
}
DONE: Final[Mapping[str, str]] = {
    "reassigned": C_("The chat is given to the chosen operator."),
    "closed": C_("The chat is closed; the patient is told and is back with the bot."),
    "hours": C_("The desk's hours are saved. Patients are told the new hours from now on."),
    "exception": C_("The date is saved."),
    "exception_removed": C_("The date is removed."),
    "callback": C_("Marked as done."),
}
HOURS_ERRORS: Final[Mapping[str, str]] = {
    "bad_time": C_("Write the time as HH:MM, for example 08:00 or 20:30."),
    "half_empty": C_("Fill in both the opening and the closing time, or leave both empty."),
    "opens_after_closes": C_("The opening time must be before the closing time."),
    "never_open": C_("The desk must be open on at least one day of the week."),
    "bad_date": C_("Choose a date (YYYY-MM-DD)."),
    "past_date": C_("The date has passed: choose today or a later date."),
}
NOT_OPEN: Final = C_("This chat is no longer open: nothing was changed.")
NO_SUCH_OPERATOR: Final = C_("Choose an operator of the desk.")
BAD_PERIOD: Final = C_("Unknown period: today's figures are shown.")
BAD_IIN: Final = C_("No patient has this IIN: write all 12 digits.")
CALLBACK_GONE: Final = C_("This call-back is already done.")


def add_routes(sub: web.Application, console: StaffConsole) -> None:
    pages = SupervisorPages(console)
    sub.router.add_get(BASE, pages.chats, name="desk_supervisor")
    sub.router.add_get(BASE + "/events", pages.events, name="desk_supervisor_events")
    sub.router.add_post(BASE + r"/chats/{chat:\d{1,12}}/reassign", pages.reassign)
    sub.router.add_post(BASE + r"/chats/{chat:\d{1,12}}/close", pages.close)
    sub.router.add_get(BASE + "/figures", pages.figures, name="desk_figures")
    sub.router.add_get(BASE + "/hours", pages.hours, name="desk_hours")
    sub.router.add_post(BASE + "/hours", pages.save_hours)
    sub.router.add_post(BASE + "/hours/exception", pages.save_exception)
    sub.router.add_post(BASE + "/hours/exception/remove", pages.remove_exception)
    sub.router.add_get(BASE + "/access", pages.access, name="desk_access")
    sub.router.add_get(BASE + "/callbacks", pages.callbacks, name="desk_callbacks")
    sub.router.add_post(BASE + r"/callbacks/{callback:\d{1,12}}/done", pages.callback_done)


def as_operator(account: staff.Account) -> desk.Operator:
    """A console account as the desk knows it (its id and display name)."""
    return desk.Operator(account.id, account.display_name)


def local(moment: dt.datetime) -> str:
    return moment.astimezone(ALMATY).strftime("%d.%m.%Y %H:%M")


def duration(said: Words, value: dt.timedelta | None) -> str:
    if value is None:
        return said(C_("no data"))
    seconds = max(0, round(value.total_seconds()))
    if seconds < 60:
        return said(C_("{seconds} s"), seconds=seconds)
    minutes = round(seconds / 60)
    if minutes < 120:
        return said(C_("{minutes} min"), minutes=minutes)
    return said(C_("{hours} h {minutes} min"), hours=minutes // 60, minutes=minutes % 60)


def _hhmm(value: dt.time | None) -> str:
    return value.strftime("%H:%M") if value is not None else ""


def _int(raw: str) -> int | None:
    raw = raw.strip()
    return int(raw) if raw.isdigit() and len(raw) <= 12 else None


class SupervisorPages:
    def __init__(self, console: StaffConsole) -> None:
        self.console = console
        self.backend = console.backend

    def now(self) -> dt.datetime:
        return self.console.now()

    async def _audit(
        self, request: web.Request, action: str, target: str, detail: str = ""
    ) -> None:
        await staff.audit(
            self.backend.uow(),
            current(request).account,
            action,
            target,
            now=self.now(),
            detail=detail,
            remote=request.remote,
        )

    async def _desk_accounts(self) -> list[staff.Account]:
        return [
            a
            for a in await staff.accounts(self.backend.uow())
            if a.role in staff.DESK_ROLES and not a.disabled
        ]

    # --- all chats, reassign, close --------------------------------------------------------

    async def chats(
        self, request: web.Request, *, error: str = "", status: int = 200
    ) -> web.StreamResponse:
        require(request, SUPERVISOR)
        said = words(request)
        now = self.now()
        rows = [
            {
                "id": chat.id,
                "state": said(STATES[chat.state.value]),
                "state_code": chat.state.value,
                "channel": said(CHANNELS.get(chat.channel, chat.channel)),
                "language": chat.language,
                "operator": chat.operator_name or "",
                "operator_id": chat.operator_id,
                "queued": local(chat.queued_at),
                "since": duration(said, now - chat.queued_at),
                "reason": chat.reason,
            }
            for chat in await desk.open_chats(self.backend.uow())
        ]
        done = DONE.get(request.query.get("done", ""))
        return render(
            request,
            "supervisor_chats.html",
            status=status,
            title=said(C_("All chats of the desk")),
            rows=rows,
            operators=[(a.id, a.display_name) for a in await self._desk_accounts()],
            done=said(done) if done else "",
            error=error,
        )

    async def reassign(self, request: web.Request) -> web.StreamResponse:
        signed_in = require(request, SUPERVISOR)
        said = words(request)
        chat_id = int(request.match_info["chat"])
        wanted = _int(form(request).get("operator"))
        target = next((a for a in await self._desk_accounts() if a.id == wanted), None)
        if target is None:
            return await self.chats(request, error=said(NO_SUCH_OPERATOR), status=422)
        try:
            await desk.reassign(
                self.backend.uow(),
                chat_id,
                as_operator(target),
                as_operator(signed_in.account),
                self.now(),
            )
        except desk.DeskRefusal:
            return await self.chats(request, error=said(NOT_OPEN), status=409)
        await self._audit(request, "desk_reassign", str(chat_id), detail=target.login)
        log.info("desk_chat_reassigned", chat=chat_id, to=target.login)
        raise web.HTTPSeeOther(f"/operator{BASE}?done=reassigned")

    async def close(self, request: web.Request) -> web.StreamResponse:
        signed_in = require(request, SUPERVISOR)
        said = words(request)
        chat_id = int(request.match_info["chat"])
        try:
            await desk.close_stuck(
                self.backend.uow(), chat_id, as_operator(signed_in.account), self.now()
            )
        except desk.DeskRefusal:
            return await self.chats(request, error=said(NOT_OPEN), status=409)
        await self._audit(request, "desk_close", str(chat_id))
        log.info("desk_chat_closed_by_supervisor", chat=chat_id)
        raise web.HTTPSeeOther(f"/operator{BASE}?done=closed")

    async def events(self, request: web.Request) -> web.StreamResponse:
        """A `changed` event whenever a chat enters, leaves or changes hands (the page reloads
        itself: bot/operator/static/supervisor.js)."""
        require(request, SUPERVISOR)
        token = request.cookies.get(self.console.cookie_name, "")

        async def alive() -> bool:
            still = await staff.session(
                self.backend.uow(), token, now=self.now(), policy=self.console.policy, touch=False
            )
            return still is not None

        async def changes() -> AsyncIterator[Event]:
            seen: set[tuple[int, str, int | None]] | None = None
            while True:
                chats = await desk.open_chats(self.backend.uow())
                now = {(c.id, c.state.value, c.operator_id) for c in chats}
                if seen is not None and now != seen:
                    yield Event("changed", {"open": len(chats)})
                seen = now
                await asyncio.sleep(request.config_dict.get(POLL_KEY, POLL_SECONDS))

        return await event_stream(request, changes(), alive=alive)

    # --- figures ---------------------------------------------------------------------------

    def _since(self, period: str) -> dt.datetime:
        now = self.now()
        if period == "7d":
            return now - dt.timedelta(days=7)
        if period == "30d":
            return now - dt.timedelta(days=30)
        return dt.datetime.combine(now.astimezone(ALMATY).date(), dt.time(), tzinfo=ALMATY)

    async def figures(self, request: web.Request) -> web.StreamResponse:
        require(request, SUPERVISOR)
        said = words(request)
        period = request.query.get("period", "today")
        error = ""
        if period not in PERIODS:
            period, error = "today", said(BAD_PERIOD)
        since = self._since(period)
        uow = self.backend.uow
        found = await desk.figures(uow(), since)
        waiting = await desk.median_waiting(uow(), since)
        days = await desk.per_day(uow(), since)
        hours_span = max(1.0, (self.now() - since).total_seconds() / 3600)
        return render(
            request,
            "supervisor_figures.html",
            status=400 if error else 200,
            title=said(C_("Desk figures")),
            periods=[(code, said(label), code == period) for code, label in PERIODS.items()],
            error=error,
            since=local(since),
            waiting_now=found.waiting,
            taken_now=found.taken,
            median_waiting=duration(said, waiting),
            median_first_response=duration(said, found.median_first_response),
            median_handling=duration(said, found.median_handling),
            chats=found.chats_started,
            average_per_hour=f"{found.chats_started / hours_span:.1f}",
            per_hour=[(f"{h:02d}:00", n) for h, n in sorted(found.per_hour.items())],
            per_day=[(d.strftime("%d.%m.%Y"), n) for d, n in sorted(days.items())],
        )

    # --- hours -----------------------------------------------------------------------------

    def _week_rows(
        self, said: Words, typed: Mapping[str, str], problems: Mapping[str, str]
    ) -> list[dict[str, str | int]]:
        return [
            {
                "day": day,
                "name": said(WEEKDAYS[day]),
                "opens": typed.get(f"d{day}.opens", ""),
                "closes": typed.get(f"d{day}.closes", ""),
                "error": problems.get(f"d{day}", ""),
            }
            for day in range(7)
        ]

    async def hours(
        self,
        request: web.Request,
        *,
        typed: Mapping[str, str] | None = None,
        problems: Mapping[str, str] | None = None,
        error: str = "",
        exception_typed: Mapping[str, str] | None = None,
        exception_error: str = "",
        status: int = 200,
    ) -> web.StreamResponse:
        require(request, SUPERVISOR)
        said = words(request)
        stored = await desk.hours(self.backend.uow())
        if typed is None:
            typed = {}
            for day in range(7):
                opening = stored.weekly.hours_on(day)
                typed[f"d{day}.opens"] = _hhmm(opening.opens if opening else None)
                typed[f"d{day}.closes"] = _hhmm(opening.closes if opening else None)
        notes = await desk.exception_notes(self.backend.uow())
        today = self.now().astimezone(ALMATY).date()
        exceptions = [
            {
                "day": day.isoformat(),
                "shown": day.strftime("%d.%m.%Y"),
                "hours": (
                    f"{_hhmm(opening.opens)}–{_hhmm(opening.closes)}"
                    if opening is not None
                    else said(C_("closed"))
                ),
                "note": notes.get(day, ""),
            }
            for day, opening in sorted(stored.exceptions.items())
            if day >= today
        ]
        done = DONE.get(request.query.get("done", ""))
        return render(
            request,
            "supervisor_hours.html",
            status=status,
            title=said(C_("Desk hours")),
            week=self._week_rows(said, typed, problems or {}),
            default=not stored.stored,
            is_open=desk.is_open_at(self.now(), stored),
            next_opening=local(desk.next_opening(self.now(), stored)),
            exceptions=exceptions,
            exception=exception_typed or {"day": "", "opens": "", "closes": "", "note": ""},
            exception_error=exception_error,
            done=said(done) if done else "",
            error=error,
        )

    async def save_hours(self, request: web.Request) -> web.StreamResponse:
        signed_in = require(request, SUPERVISOR)
        said = words(request)
        data = form(request)
        typed = {
            f"d{day}.{part}": data.get(f"d{day}.{part}")[:16]
            for day in range(7)
            for part in ("opens", "closes")
        }
        week: dict[int, OpeningHours | None] = {}
        problems: dict[str, str] = {}
        for day in range(7):
            try:
                week[day] = desk.opening_hours(
                    typed[f"d{day}.opens"], typed[f"d{day}.closes"], f"d{day}"
                )
            except desk.HoursInvalid as bad:
                problems[f"d{day}"] = said(HOURS_ERRORS[bad.code])
        if problems:
            return await self.hours(
                request,
                typed=typed,
                problems=problems,
                error=said(C_("Check the marked days: nothing was saved.")),
                status=422,
            )
        try:
            await desk.set_weekly_hours(
                self.backend.uow(), week, by=as_operator(signed_in.account), now=self.now()
            )
        except desk.HoursInvalid as bad:
            return await self.hours(
                request, typed=typed, error=said(HOURS_ERRORS[bad.code]), status=422
            )
        summary = "; ".join(
            f"{day}:{_hhmm(h.opens)}-{_hhmm(h.closes)}" for day, h in week.items() if h
        )
        await self._audit(request, "desk_hours", "weekly", detail=summary)
        log.info("desk_hours_changed", hours=summary)
        raise web.HTTPSeeOther(f"/operator{BASE}/hours?done=hours")

    async def save_exception(self, request: web.Request) -> web.StreamResponse:
        signed_in = require(request, SUPERVISOR)
        said = words(request)
        data = form(request)
        typed = {k: data.get(k)[:100] for k in ("day", "opens", "closes", "note")}
        problem = ""
        day: dt.date | None = None
        opening: OpeningHours | None = None
        try:
            day = dt.date.fromisoformat(typed["day"].strip())
        except ValueError:
            problem = "bad_date"
        if day is not None and day < self.now().astimezone(ALMATY).date():
            problem = "past_date"
        if not problem:
            try:
                opening = desk.opening_hours(typed["opens"], typed["closes"], "exception")
            except desk.HoursInvalid as bad:
                problem = bad.code
        if problem or day is None:
            return await self.hours(
                request,
                exception_typed=typed,
                exception_error=said(HOURS_ERRORS[problem or "bad_date"]),
                status=422,
            )
        await desk.set_exception(
            self.backend.uow(),
            day,
            opening,
            note=typed["note"],
            by=as_operator(signed_in.account),
            now=self.now(),
        )
        await self._audit(request, "desk_hours_date", day.isoformat(), detail=typed["note"])
        raise web.HTTPSeeOther(f"/operator{BASE}/hours?done=exception")

    async def remove_exception(self, request: web.Request) -> web.StreamResponse:
        require(request, SUPERVISOR)
        said = words(request)
        try:
            day = dt.date.fromisoformat(form(request).get("day").strip())
        except ValueError:
            return await self.hours(request, error=said(HOURS_ERRORS["bad_date"]), status=422)
        await desk.remove_exception(self.backend.uow(), day)
        await self._audit(request, "desk_hours_date_removed", day.isoformat())
        raise web.HTTPSeeOther(f"/operator{BASE}/hours?done=exception_removed")

    # --- the access log --------------------------------------------------------------------

    async def access(self, request: web.Request) -> web.StreamResponse:
        require(request, SUPERVISOR)
        said = words(request)
        query = request.query
        operator_id = _int(query.get("operator", ""))
        patient_id = _int(query.get("patient", ""))
        iin = query.get("iin", "").strip()[:32]
        error = ""
        status = 200
        if iin:
            patient_id = await desk.patient_id_by_iin(self.backend.uow(), iin)
            if patient_id is None:
                error, status = said(BAD_IIN), 422
        page_no = min(max(1, _int(query.get("page", "")) or 1), MAX_PAGE)
        if error:
            found = desk.AccessPage((), {}, 0)
        else:
            found = await desk.access_page(
                self.backend.uow(),
                operator_id=operator_id,
                patient_id=patient_id,
                offset=(page_no - 1) * PER_PAGE,
                limit=PER_PAGE,
            )
        pages = max(1, -(-found.total // PER_PAGE))
        kept: MultiDict[str] = MultiDict()
        if operator_id is not None:
            kept["operator"] = str(operator_id)
        if patient_id is not None and not error:
            kept["patient"] = str(patient_id)

        def page_url(number: int) -> str:
            return str(request.rel_url.with_query({**kept, "page": str(number)}))

        rows = [
            {
                "at": local(e.at),
                "operator": e.operator_name or str(e.operator_id),
                "operator_id": e.operator_id,
                "chat": e.chat_id or "",
                "patient_id": e.patient_id,
                "patient": found.masked_iins.get(e.patient_id, "") if e.patient_id else "",
                "what": e.what,
            }
            for e in found.entries
        ]
        await self._audit(request, "desk_access_log_viewed", "", detail=f"page {page_no}")
        return render(
            request,
            "supervisor_access.html",
            status=status,
            title=said(C_("Who looked at patients' data")),
            rows=rows,
            operators=[(a.id, a.display_name) for a in await self._desk_accounts()],
            chosen_operator=operator_id,
            patient=found.masked_iins.get(patient_id, "") if patient_id else "",
            filtered=operator_id is not None or patient_id is not None,
            iin=iin if error else "",
            error=error,
            total=found.total,
            page=page_no,
            pages=pages,
            prev_url=page_url(page_no - 1) if page_no > 1 else "",
            next_url=page_url(page_no + 1) if page_no < pages else "",
        )

    # --- call-backs ------------------------------------------------------------------------

    async def callbacks(
        self, request: web.Request, *, error: str = "", status: int = 200
    ) -> web.StreamResponse:
        signed_in = require(request, staff.DESK_ROLES)
        said = words(request)
        found = await desk.callbacks(self.backend.uow())
        rows = [self._callback_row(said, c) for c in found]
        operator = as_operator(signed_in.account)
        for c in found:  # the phone numbers on this page are a look at the patient's data
            await desk.log_access(
                self.backend.uow(),
                operator,
                what="callbacks",
                now=self.now(),
                patient_id=c.patient_id,
            )
        done = DONE.get(request.query.get("done", ""))
        return render(
            request,
            "supervisor_callbacks.html",
            status=status,
            title=said(C_("Call-back requests")),
            rows=rows,
            done=said(done) if done else "",
            error=error,
        )

    def _callback_row(self, said: Words, c: desk.Callback) -> dict[str, object]:
        sms = c.channel == "sms"
        return {
            "id": c.id,
            "at": local(c.created_at),
            "channel": said(CHANNELS.get(c.channel, c.channel)),
            # On SMS the number to call is the sender's; on Telegram the message names one.
            "phone": c.address if sms else "",
            "language": c.language,
            "body": c.body,
        }

    async def callback_done(self, request: web.Request) -> web.StreamResponse:
        signed_in = require(request, staff.DESK_ROLES)
        said = words(request)
        callback_id = int(request.match_info["callback"])
        ok = await desk.callback_done(
            self.backend.uow(), callback_id, as_operator(signed_in.account), self.now()
        )
        if not ok:
            return await self.callbacks(request, error=said(CALLBACK_GONE), status=409)
        await self._audit(request, "desk_callback_done", str(callback_id))
        raise web.HTTPSeeOther(f"/operator{BASE}/callbacks?done=callback")
