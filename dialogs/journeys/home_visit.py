"""Journey 5: «Дәрігерді үйге шақыру», calling the district doctor home (S4).

seed-003 R-13, R-14, R-21..R-23: the terms come first, before the patient types anything (the
cut-off and, after it, the next working day); an emergency is never queued (S12, R-38: 103);
the result is the application with the date and time window of the doctor's arrival.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backend.domain.calendar import IntakeDay
from backend.domain.phone import InvalidPhone, PhoneError, mask_phone, normalize_kz_mobile
from backend.domain.refusals import Refusal, RefusalCode
from backend.domain.statuses import ApplicationStatus
from backend.services import applications
from backend.services.home_visit import (
    MAX_ADDRESS,
    MAX_REASON,
    MAX_SYMPTOMS,
    HomeVisitRequest,
    HomeVisitTerms,
    HomeVisitView,
    home_visit_terms,
    open_request_number,
    request_home_visit,
)
from dialogs.common import (
    CALL_CENTRE,
    attached_nowhere,
    home_visit_cutoff,
    person_name,
    refusal_notice,
    status_label,
)
from dialogs.emergency import looks_like_emergency
from dialogs.engine.screen import InputKind, Option, OptionRole
from dialogs.engine.step import CHOOSE_AN_OPTION, Ctx, Goto, Outcome, Retry, Step, View
from dialogs.engine.text import T, Text, Verbatim
from dialogs.journeys.applications import DETAILS as APPLICATION_CARD
from dialogs.journeys.applications import K_NUMBER as APPLICATION_NUMBER
from dialogs.journeys.common import APPLICATIONS, HOME_VISIT
from dialogs.journeys.for_whom import asking, for_lines, subject

TERMS = HOME_VISIT  # "visit.terms"
ADDRESS = "visit.address"
REASON = "visit.reason"
SYMPTOMS = "visit.symptoms"
PHONE = "visit.phone"
CONFIRM = "visit.confirm"
DONE = "visit.done"
EMERGENCY_STOP = "visit.emergency"
FULL = "visit.full"  # the day is fully booked: the next working day with room is offered
EXISTS = "visit.exists"  # an open request for that day already: it is shown

# Conversation data: what the patient entered, kept until the request is sent.
K_ADDRESS = "visit.address"
K_ADDRESS_REG = "visit.address_reg"
K_REASON = "visit.reason"
K_SYMPTOMS = "visit.symptoms"
K_PHONE = "visit.phone"
K_PHONE_REG = "visit.phone_reg"
K_RESULT = "visit.result"
K_FULL_DAY = "visit.full_day"  # ISO dates from the HOME_VISITS_FULL refusal
K_NEXT_DAY = "visit.next_day"  # "" when no day in two weeks has room
K_EXISTING = "visit.existing"  # the number of the open request
_INPUTS = (K_ADDRESS, K_ADDRESS_REG, K_REASON, K_SYMPTOMS, K_PHONE, K_PHONE_REG)

MIN_ADDRESS = 5

# S12 / R-38: the first thing the patient reads, with the signs that mean 103, not a visit.
CALL_103_FIRST = T(
    "Emergency (chest pain, trouble breathing, fainting, heavy bleeding)? Call 103 now, "
    "not a home visit."
)
BAD_ADDRESS = T(
    "Please type the address: city, street, house and flat (up to {limit} characters).",
    limit=MAX_ADDRESS,
)
NO_REASON = T("Please describe the reason in a few words.")
# Issue 15: an address without a letter («🤒🤒🤒», «12») is no address; say what to write.
ADDRESS_IN_WORDS = T("Please write the address in words: city, street, house.")
# Issue 15: symptoms are words or a temperature («38.5»), not emoji.
SYMPTOMS_IN_WORDS = T("Please describe the symptoms in words, or choose «Skip».")
BAD_PHONE = T("This is not a phone number. Example: +7 701 123 45 67.")
NOT_KZ_MOBILE = T(
    "Please give a Kazakhstan mobile number (+7 7xx …). Foreign numbers and landlines "
    "cannot be used."
)
MISSING = T("Some details are missing. Let us start again from the address.")


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def _too_long(limit: int) -> Text:
    return T("Please keep it under {limit} characters.", limit=limit)


def _for(ctx: Ctx) -> int | None:
    """Issue 14: the child the doctor is called to (None: the patient); the services check."""
    return subject(ctx, TERMS)


async def _terms(ctx: Ctx) -> HomeVisitTerms:
    # A child's: the child's clinic and address, the parent's phone (issue 14).
    return await home_visit_terms(
        ctx.uow(), ctx.require_patient(), now=ctx.now, for_patient=_for(ctx)
    )


def _intake_line(terms: HomeVisitTerms) -> Text:
    """R-13, R-14: the patient is told the intake day before submitting."""
    intake = terms.intake
    cutoff = terms.cutoff_today.astimezone(terms.clinic.tz).time() if terms.cutoff_today else None
    if intake.kind is IntakeDay.SAME_DAY and cutoff is not None:
        return T(
            "Today requests are accepted until {cutoff}: the doctor comes today.", cutoff=cutoff
        )
    if intake.kind is IntakeDay.AFTER_CUTOFF and cutoff is not None:
        return T(
            "Today's requests closed at {cutoff}. Your request will be registered for the "
            "next working day, {date}.",
            cutoff=cutoff,
            date=intake.day,
        )
    return T(
        "The clinic is closed today. Your request will be registered for the next working "
        "day, {date}.",
        date=intake.day,
    )


def _not_attached(refusal: Refusal) -> View:
    """S4 row 9 (2): not attached here (order ҚР ДСМ-194/2020), and how to attach (S2); the
    refusal of a patient attached to no clinic says how to attach itself."""
    if attached_nowhere(refusal):  # short enough for one SMS reply (issue 5)
        return View(body=(CALL_103_FIRST, refusal_notice(refusal)))
    return View(
        body=(
            CALL_103_FIRST,
            refusal_notice(refusal),
            T("A doctor is called home through the PHC clinic you are attached to."),
            T(
                "To attach, apply at the clinic you choose or on eGov (egov.kz); the answer "
                "comes within 1 working day."
            ),
        )
    )


@dataclass
class Terms(Step):
    """The first screen: 103 for emergencies, then the terms, before anything is typed."""

    async def view(self, ctx: Ctx) -> View:
        try:
            terms = await _terms(ctx)
        except Refusal as refusal:
            if refusal.code is not RefusalCode.NOT_ATTACHED_HERE:
                raise
            return _not_attached(refusal)
        return View(
            # S4 row 7: the cut-off of the patient's own clinic, from its schedule.
            body=(
                CALL_103_FIRST,
                *await for_lines(ctx, TERMS),
                home_visit_cutoff(terms.clinic.schedule),
                _intake_line(terms),
            ),
            options=(Option("start", T("Continue"), OptionRole.ACTION),),
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        if option_id != "start":
            return Retry(CHOOSE_AN_OPTION)
        for key in (*_INPUTS, K_RESULT, K_FULL_DAY, K_NEXT_DAY):  # a new request starts empty
            ctx.data.pop(key, None)
        # Issue 10: one open request per day; shown before anything is typed.
        existing = await open_request_number(
            ctx.uow(), ctx.require_patient(), now=ctx.now, for_patient=_for(ctx)
        )
        if existing is not None:
            ctx.data[K_EXISTING] = existing
            return Goto(EXISTS)
        return Goto(ADDRESS)


@dataclass
class AskAddress(Step):
    async def view(self, ctx: Ctx) -> View:
        terms = await _terms(ctx)
        options: tuple[Option, ...] = ()
        if terms.registered_address:
            options = (
                Option(
                    "addr.reg",
                    T(
                        "Use my registered address: {address}",
                        address=Verbatim(terms.registered_address),
                    ),
                ),
            )
        return View(
            body=(
                T("Where should the doctor come? Type the address: city, street, house, flat."),
            ),
            options=options,
            expects=InputKind.ADDRESS,
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        if option_id != "addr.reg":
            return Retry(CHOOSE_AN_OPTION)
        registered = (await _terms(ctx)).registered_address
        if not registered:
            return Retry(BAD_ADDRESS)
        ctx.data[K_ADDRESS] = registered
        ctx.data[K_ADDRESS_REG] = True
        return Goto(REASON)

    async def on_text(self, ctx: Ctx, text: str) -> Outcome:
        address = _squeeze(text)
        if looks_like_emergency(address):  # S12 / R-38: whatever field it is typed in
            return Goto(EMERGENCY_STOP)
        if len(address) < MIN_ADDRESS or not any(c.isalpha() for c in address):
            return Retry(ADDRESS_IN_WORDS)
        if len(address) > MAX_ADDRESS:
            return Retry(BAD_ADDRESS)
        ctx.data[K_ADDRESS] = address
        ctx.data[K_ADDRESS_REG] = False
        return Goto(REASON)


@dataclass
class AskReason(Step):
    async def view(self, ctx: Ctx) -> View:
        return View(
            body=(
                T("What is the reason for the visit? In a few words, e.g. «fever 38.5, cough»."),
            ),
            expects=InputKind.TEXT,
        )

    async def on_text(self, ctx: Ctx, text: str) -> Outcome:
        reason = _squeeze(text)
        if looks_like_emergency(reason):  # S12 / R-38: never queued
            return Goto(EMERGENCY_STOP)
        if not any(ch.isalpha() for ch in reason):  # issue 15: «🤒🤒🤒» is no reason in words
            return Retry(NO_REASON)
        if len(reason) > MAX_REASON:
            return Retry(_too_long(MAX_REASON))
        ctx.data[K_REASON] = reason
        return Goto(SYMPTOMS)


@dataclass
class AskSymptoms(Step):
    async def view(self, ctx: Ctx) -> View:
        return View(
            body=(T("Other symptoms the doctor should know (since when, temperature)? Or skip."),),
            options=(Option("skip", T("Skip"), OptionRole.ACTION),),
            expects=InputKind.TEXT,
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        if option_id != "skip":
            return Retry(CHOOSE_AN_OPTION)
        ctx.data[K_SYMPTOMS] = ""
        return Goto(PHONE)

    async def on_text(self, ctx: Ctx, text: str) -> Outcome:
        symptoms = _squeeze(text)
        if looks_like_emergency(symptoms):  # S12 / R-38
            return Goto(EMERGENCY_STOP)
        if not any(ch.isalnum() for ch in symptoms):
            return Retry(SYMPTOMS_IN_WORDS)
        if len(symptoms) > MAX_SYMPTOMS:
            return Retry(_too_long(MAX_SYMPTOMS))
        ctx.data[K_SYMPTOMS] = symptoms
        return Goto(PHONE)


@dataclass
class EmergencyStop(Step):
    """S12 / R-38: an emergency is never a home visit; nothing has been sent."""

    async def view(self, ctx: Ctx) -> View:
        return View(
            body=(
                T("This sounds like an emergency. Call 103 now."),
                T("An ambulance comes faster than a home visit. Your request was not sent."),
            )
        )


@dataclass
class AskPhone(Step):
    async def view(self, ctx: Ctx) -> View:
        terms = await _terms(ctx)
        options: tuple[Option, ...] = ()
        if terms.registered_phone:
            options = (
                Option(
                    "phone.reg",
                    T(
                        "My registered phone {phone}",
                        phone=Verbatim(mask_phone(terms.registered_phone)),
                    ),
                ),
            )
        return View(
            body=(
                T("Which phone should the doctor call? Type a mobile number: +7 7xx xxx xx xx."),
            ),
            options=options,
            expects=InputKind.PHONE,
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        if option_id != "phone.reg":
            return Retry(CHOOSE_AN_OPTION)
        registered = (await _terms(ctx)).registered_phone
        if not registered:
            return Retry(BAD_PHONE)
        ctx.data[K_PHONE] = registered
        ctx.data[K_PHONE_REG] = True
        return Goto(CONFIRM)

    async def on_text(self, ctx: Ctx, text: str) -> Outcome:
        try:
            phone = normalize_kz_mobile(text)
        except InvalidPhone as error:
            return Retry(NOT_KZ_MOBILE if error.reason is PhoneError.NOT_KZ_MOBILE else BAD_PHONE)
        ctx.data[K_PHONE] = phone
        ctx.data[K_PHONE_REG] = False
        return Goto(CONFIRM)

    async def on_contact(self, ctx: Ctx, phone: str, same_user: bool) -> Outcome:
        return await self.on_text(ctx, phone)  # any number the patient shares is a typed one


@dataclass
class Confirm(Step):
    async def view(self, ctx: Ctx) -> View:
        terms = await _terms(ctx)  # again: the cut-off may have passed meanwhile
        body: list[Text] = [T("Please check your request:"), *await for_lines(ctx, TERMS)]
        address, reason = ctx.str_data(K_ADDRESS), ctx.str_data(K_REASON)
        symptoms, phone = ctx.str_data(K_SYMPTOMS), ctx.str_data(K_PHONE)
        if address:
            body.append(T("Address: {address}", address=Verbatim(address, echo=True)))
        if reason:
            body.append(T("Reason: {reason}", reason=Verbatim(reason, echo=True)))
        if symptoms:
            body.append(T("Symptoms: {symptoms}", symptoms=Verbatim(symptoms, echo=True)))
        if phone:
            shown = mask_phone(phone) if ctx.data.get(K_PHONE_REG) is True else phone
            body.append(T("Contact phone: {phone}", phone=Verbatim(shown)))
        body.append(_intake_line(terms))
        return View(
            body=body,
            options=(
                Option("confirm", T("Send the request"), OptionRole.ACTION),
                Option("edit", T("Change the details"), OptionRole.ACTION),
            ),
            sensitive=True,  # reason and symptoms are medical data
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        if option_id == "edit":
            return Goto(ADDRESS)
        if option_id != "confirm":
            return Retry(CHOOSE_AN_OPTION)
        address, reason = ctx.str_data(K_ADDRESS), ctx.str_data(K_REASON)
        symptoms, phone = ctx.str_data(K_SYMPTOMS) or "", ctx.str_data(K_PHONE)
        if not address or not reason or not phone:
            return Goto(ADDRESS, notice=MISSING)
        if looks_like_emergency(f"{reason} {symptoms}"):  # S12 / R-38, whatever the way here
            return Goto(EMERGENCY_STOP)
        return await _submit(ctx, None)


async def _submit(ctx: Ctx, day: dt.date | None) -> Outcome:
    """Send the request (for `day`, the one the patient accepted, or the intake day); what
    was entered is kept until it is sent."""
    address, reason = ctx.str_data(K_ADDRESS), ctx.str_data(K_REASON)
    symptoms, phone = ctx.str_data(K_SYMPTOMS) or "", ctx.str_data(K_PHONE)
    if not address or not reason or not phone:
        return Goto(ADDRESS, notice=MISSING)
    registered = ctx.data.get(K_ADDRESS_REG) is True
    request = HomeVisitRequest(
        reason=reason,
        symptoms=symptoms,
        contact_phone=phone,
        address=None if registered else address,
    )
    try:
        visit = await request_home_visit(
            ctx.uow(), ctx.require_patient(), request, now=ctx.now, day=day, for_patient=_for(ctx)
        )
    except Refusal as refusal:
        if refusal.code is RefusalCode.HOME_VISITS_FULL:  # issue 10: never overbooked
            ctx.data[K_FULL_DAY] = str(refusal.params.get("day", ""))
            ctx.data[K_NEXT_DAY] = str(refusal.params.get("next_day", ""))
            return Goto(FULL)
        if refusal.code is RefusalCode.HOME_VISIT_EXISTS:  # issue 10: one per day
            ctx.data[K_EXISTING] = str(refusal.params.get("number", ""))
            return Goto(EXISTS)
        if refusal.code is not RefusalCode.INVALID_INPUT:
            raise
        if refusal.params.get("field") == "day":  # the offered day has passed meanwhile
            return Goto(CONFIRM, notice=refusal_notice(refusal))
        back_to = {"reason": REASON, "symptoms": SYMPTOMS, "contact_phone": PHONE}
        return Goto(
            back_to.get(str(refusal.params.get("field")), ADDRESS),
            notice=refusal_notice(refusal),
        )
    for key in (*_INPUTS, K_FULL_DAY, K_NEXT_DAY):
        ctx.data.pop(key, None)
    ctx.data[K_RESULT] = _result_json(visit)
    return Goto(DONE, reset=True)


def _iso_day(ctx: Ctx, key: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(ctx.str_data(key) or "")
    except ValueError:
        return None


@dataclass
class DayFull(Step):
    """Issue 10: the day has no window with room; the patient is told and may take the next
    working day that has one (nothing is sent until they accept)."""

    async def view(self, ctx: Ctx) -> View:
        full, offer = _iso_day(ctx, K_FULL_DAY), _iso_day(ctx, K_NEXT_DAY)
        body: list[Text] = [
            T("The doctor's home visits on {date} are fully booked.", date=full)
            if full
            else T("The doctor's home visits for that day are fully booked.")
        ]
        if offer is None:
            body.append(T("There is no free home-visit time in the next two weeks."))
            body.append(CALL_CENTRE)
            return View(
                body=body, options=(Option("apps", T("My applications"), OptionRole.ACTION),)
            )
        body.append(T("The next working day with free time is {date}.", date=offer))
        body.append(T("Your request was not sent yet."))
        return View(
            body=body,
            options=(
                Option("accept", T("Send it for {date}", date=offer), OptionRole.ACTION),
                Option("edit", T("Change the details"), OptionRole.ACTION),
            ),
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        if option_id == "apps":
            return Goto(APPLICATIONS)
        if option_id == "edit":
            return Goto(ADDRESS)
        offer = _iso_day(ctx, K_NEXT_DAY)
        if option_id != "accept" or offer is None:
            return Retry(CHOOSE_AN_OPTION)
        return await _submit(ctx, offer)


@dataclass
class AlreadyOpen(Step):
    """Issue 10: one open home-visit request per patient per day; the open one is shown."""

    async def view(self, ctx: Ctx) -> View:
        number = ctx.str_data(K_EXISTING) or ""
        details = await applications.application_details(
            ctx.uow(), ctx.require_patient(), number, today=ctx.now.date()
        )
        body: list[Text] = [
            T(
                "You already have an open home-visit request for that day: No. {number}.",
                number=Verbatim(details.summary.number),
            ),
            T("Status: {status}.", status=status_label(details.summary.status)),
        ]
        visit = details.home_visit
        if visit is not None:
            tz = (await _terms(ctx)).clinic.tz
            body.append(
                T(
                    "Planned arrival: {start}–{end}.",
                    start=visit.window_start.astimezone(tz),
                    end=visit.window_end.astimezone(tz).time(),
                )
            )
        # Its card has "Cancel this request", to send another instead.
        return View(
            body=body, options=(Option("open", T("Open this request"), OptionRole.ACTION),)
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        if option_id == "apps":
            return Goto(APPLICATIONS)
        if option_id != "open":
            return Retry(CHOOSE_AN_OPTION)
        ctx.data[APPLICATION_NUMBER] = ctx.str_data(K_EXISTING) or ""
        return Goto(APPLICATION_CARD)


def _result_json(visit: HomeVisitView) -> dict[str, str | None]:
    tz = visit.clinic.tz
    return {
        "number": visit.application_number,
        "status": visit.status.value,
        "doctor": visit.doctor.short_name if visit.doctor else None,
        "start": visit.window_start.astimezone(tz).isoformat(),
        "end": visit.window_end.astimezone(tz).isoformat(),
        "tz": visit.clinic.tz_name,
    }


@dataclass(frozen=True)
class _Result:
    number: str
    status: ApplicationStatus
    doctor: str | None
    start: dt.datetime
    end: dt.datetime


def _result(ctx: Ctx) -> _Result:
    raw = ctx.data.get(K_RESULT)
    try:
        if not isinstance(raw, dict):
            raise TypeError("no result")
        tz = ZoneInfo(str(raw["tz"]))
        doctor = raw.get("doctor")
        return _Result(
            number=str(raw["number"]),
            status=ApplicationStatus(raw["status"]),
            doctor=doctor if isinstance(doctor, str) else None,
            start=dt.datetime.fromisoformat(str(raw["start"])).astimezone(tz),
            end=dt.datetime.fromisoformat(str(raw["end"])).astimezone(tz),
        )
    except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError):
        raise Refusal(RefusalCode.APPLICATION_NOT_FOUND) from None


@dataclass
class Done(Step):
    """R-23: the application, its status and the date and time of the doctor's arrival."""

    async def view(self, ctx: Ctx) -> View:
        result = _result(ctx)
        body = [
            T(
                "Your request is sent. Application number: {number}.",
                number=Verbatim(result.number),
            ),
            *await for_lines(ctx, TERMS),
            T("Status: {status}.", status=status_label(result.status)),
            T("Doctor: {doctor}", doctor=person_name(result.doctor))
            if result.doctor
            else T("The clinic assigns a doctor."),
            T("Planned arrival: {start}–{end}.", start=result.start, end=result.end.time()),
            T("Medical care is given at home at the set time."),
        ]
        if result.status is ApplicationStatus.NEXT_WORKING_DAY:
            body.append(CALL_CENTRE)  # on every delay
        return View(
            body=body,
            options=(Option("apps", T("My applications"), OptionRole.ACTION),),
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        return Goto(APPLICATIONS) if option_id == "apps" else Retry(CHOOSE_AN_OPTION)


STEPS: tuple[Step, ...] = (
    asking(Terms(TERMS), TERMS),  # issue 14: "for whom?" first, for a parent
    AskAddress(ADDRESS),
    AskReason(REASON),
    AskSymptoms(SYMPTOMS),
    EmergencyStop(EMERGENCY_STOP),
    AskPhone(PHONE),
    Confirm(CONFIRM),
    DayFull(FULL),
    AlreadyOpen(EXISTS),
    Done(DONE),
)
