"""Journey 7: certificates and statements (domain/README.md, seed-003 R-28..R-32).

027/е and the TB / psychiatric / narcological registry statements are requested here (the
signed document is a later issue: it appears in My applications); sick-leave documents are only
issued by the examining doctor and not seen by this service; the driving certificate 073/е is
information only; the ambulance never goes through the bot (S12: 103).

The driving certificate is form 073/е: seed 000 (std 9, the standard itself: «№ 073/е нысаны …
көлікті басқаруға рұқсат беру туралы медициналық анықтама», ҚР ДСМ-175/2020) against seed 003
(S13), which repeats 075/е there; 075/е is the pre-employment examination (S14). The state and
option ids keep "075" so that conversations and buttons already sent stay valid.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.domain.refusals import Refusal, RefusalCode
from backend.domain.statuses import ApplicationStatus, ServiceType
from backend.services.certificates import request_certificate
from dialogs.common import CALL_CENTRE, service_label, status_label
from dialogs.engine.screen import Option, OptionRole
from dialogs.engine.step import CHOOSE_AN_OPTION, Ctx, Goto, Outcome, Retry, Step, View
from dialogs.engine.text import T, Text, Verbatim
from dialogs.journeys.applications import STATEMENT_DAYS, STATEMENTS
from dialogs.journeys.common import APPLICATIONS, CERTIFICATES
from dialogs.journeys.for_whom import asking, for_lines, subject

LIST = CERTIFICATES  # "certs.list"
DONE = "certs.done"
SICK_LEAVE = "certs.sick"
DRIVING = "certs.075"
AMBULANCE = "certs.103"
K_RESULT = "certs.result"

# Option id → (state, service) of the requestable ones (S5, S17-S19).
REQUESTABLE: dict[str, tuple[str, ServiceType]] = {
    "cert.027": ("certs.027", ServiceType.CERTIFICATE_027),
    "cert.tb": ("certs.tb", ServiceType.STATEMENT_TB),
    "cert.psy": ("certs.psy", ServiceType.STATEMENT_PSYCHIATRY),
    "cert.narco": ("certs.narco", ServiceType.STATEMENT_NARCOLOGY),
}
INFO = {"cert.sick": SICK_LEAVE, "cert.075": DRIVING, "cert.103": AMBULANCE}
FREE = T("The state service is free of charge.")
VALIDITY = T("Valid {days} calendar days once issued.", days=STATEMENT_DAYS)


@dataclass
class CertificateMenu(Step):
    async def view(self, ctx: Ctx) -> View:
        # Issue 14: for a child, the form 027/е only (S17-S19 statements: oneself only).
        child = subject(ctx, LIST) is not None
        requestable = [
            Option(oid, service_label(kind))
            for oid, (_, kind) in REQUESTABLE.items()
            if not child or kind is ServiceType.CERTIFICATE_027
        ]
        return View(
            body=(*await for_lines(ctx, LIST), T("Certificates and statements. Choose one:")),
            options=(
                *requestable,
                Option("cert.sick", T("Sick-leave sheet or certificate")),
                Option("cert.075", T("Driving certificate, form 073/u")),  # 073/е, see above
                Option("cert.103", T("Ambulance")),
            ),
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        if option_id in REQUESTABLE:
            return Goto(REQUESTABLE[option_id][0])
        target = INFO.get(option_id)
        return Goto(target) if target else Retry(CHOOSE_AN_OPTION)


def _about(kind: ServiceType) -> tuple[Text, ...]:
    if kind is ServiceType.CERTIFICATE_027:  # S5, R-28
        return (
            T(
                "Certificate from your PHC clinic, form 027/u: an e-document signed with the "
                "clinic's EDS, within 30 minutes."
            ),
            T("Issued only by the clinic you are attached to."),
            FREE,
        )
    return (  # S17-S19, R-30
        T(
            "Whether you are under dynamic observation in this registry. Automated, within "
            "30 minutes; only about yourself."
        ),
        VALIDITY,
        FREE,
    )


@dataclass
class RequestCertificate(Step):
    """Confirm, then request one kind (the service refuses 027/е when not attached)."""

    kind: ServiceType = ServiceType.CERTIFICATE_027

    async def view(self, ctx: Ctx) -> View:
        return View(
            body=(service_label(self.kind), *await for_lines(ctx, LIST), *_about(self.kind)),
            options=(Option("confirm", T("Request"), OptionRole.ACTION),),
            sensitive=self.kind in STATEMENTS,  # registry statements are sensitive
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        if option_id != "confirm":
            return Retry(CHOOSE_AN_OPTION)
        # A refusal (S5 row 9: not attached) is shown here by the engine, with its ground.
        summary = await request_certificate(
            ctx.uow(),
            ctx.require_patient(),
            self.kind,
            now=ctx.now,
            for_patient=subject(ctx, LIST),
        )
        ctx.data[K_RESULT] = {
            "number": summary.number,
            "status": summary.status.value,
            "kind": self.kind.value,
        }
        return Goto(DONE, reset=True)


@dataclass
class Requested(Step):
    async def view(self, ctx: Ctx) -> View:
        raw = ctx.data.get(K_RESULT)
        try:
            if not isinstance(raw, dict):
                raise TypeError("no result")
            number = str(raw["number"])
            status = ApplicationStatus(raw["status"])
            kind = ServiceType(raw["kind"])
        except (KeyError, TypeError, ValueError):
            raise Refusal(RefusalCode.APPLICATION_NOT_FOUND) from None
        body = [
            service_label(kind),
            T("Your request is sent. Application number: {number}.", number=Verbatim(number)),
            T("Status: {status}.", status=status_label(status)),
            T("The signed document will appear in My applications when it is ready."),
        ]
        if kind in STATEMENTS:
            body.append(VALIDITY)
        if status is ApplicationStatus.NEXT_WORKING_DAY:
            body.append(CALL_CENTRE)  # on every delay
        return View(
            body=body,
            options=(Option("apps", T("My applications"), OptionRole.ACTION),),
            sensitive=kind in STATEMENTS,
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        return Goto(APPLICATIONS) if option_id == "apps" else Retry(CHOOSE_AN_OPTION)


@dataclass
class SickLeave(Step):
    """S6/S7, R-15, R-29: what is known, and where to get it.

    This service has no source of sick-leave data (no register of issued sheets is connected),
    so it says so rather than "none issued to you". A sheet or certificate of temporary
    incapacity for work is issued, free, by the doctor who examines you (seed-000 std 4/5:
    in person, or through the eGov portal; applications on working days until 18:00, duty
    doctors on Sundays and holidays); 1414 answers about the procedure and status."""

    async def view(self, ctx: Ctx) -> View:
        return View(
            body=(
                T("This service does not see sick-leave documents, so it cannot show yours."),
                T(
                    "A sick-leave sheet or certificate is issued free of charge by the doctor "
                    "who examines you; the electronic one is on eGov (egov.kz). Ask your clinic "
                    "or call 1414."
                ),
            ),
        )


@dataclass
class Driving(Step):
    """S13, R-32: paid (Code art. 202), after an in-person examination; information only.
    Form 073/е per seed 000 std 9 (seed 003 says 075/е here: the pre-employment form)."""

    async def view(self, ctx: Ctx) -> View:
        return View(
            body=(
                T("The driving certificate (form 073/u) is not issued through the bot."),
                T(
                    "It is paid and needs an in-person medical examination first; after it, "
                    "the electronic version is on eGov."
                ),
            )
        )


@dataclass
class Ambulance(Step):
    """S12, R-38: an ambulance is never called through the bot."""

    async def view(self, ctx: Ctx) -> View:
        return View(
            body=(
                T("An ambulance is never called through the bot. Call 103 at once."),
                T("103 answers around the clock; 1414 is not an emergency line."),
            )
        )


STEPS: tuple[Step, ...] = (
    asking(CertificateMenu(LIST), LIST),  # issue 14: "for whom?" first, for a parent
    *(RequestCertificate(state, kind=kind) for state, kind in REQUESTABLE.values()),
    Requested(DONE),
    SickLeave(SICK_LEAVE),
    Driving(DRIVING),
    Ambulance(AMBULANCE),
)
