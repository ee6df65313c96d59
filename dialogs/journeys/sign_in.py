"""Journey 2: sign in with the ИИН and a one-time code sent by SMS to the registered phone.

The legal ground: the services may be received electronically with a one-time password sent to
the mobile number registered for the patient (domain/README.md "Identity and consent"). The
ИИН of every later request comes from this signed-in identity, never from a form.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.domain.model import Language
from backend.services import patients
from dialogs.engine.engine import MENU, SIGN_IN
from dialogs.engine.screen import InputKind, Option, OptionRole
from dialogs.engine.step import CHOOSE_AN_OPTION, Ctx, Goto, Outcome, Retry, Stay, Step, View
from dialogs.engine.text import T, Text
from otp.service import StartResult, StartStatus, VerifyStatus

SIGN_IN_CODE = "signin.code"


def _message(result: StartResult) -> Text:
    return Text(result.message, dict(result.params))


@dataclass
class AskIin(Step):
    async def view(self, ctx: Ctx) -> View:
        return View(
            body=(
                T("Enter your IIN: 12 digits."),
                T("We will send a one-time code by SMS to the phone registered for this IIN."),
            ),
            expects=InputKind.IIN,
            sensitive=True,
        )

    async def on_text(self, ctx: Ctx, text: str) -> Outcome:
        result = await ctx.services.otp.start(
            text, ctx.conv.channel, ctx.conv.user_id, locale=ctx.language
        )
        if result.status is StartStatus.INVALID_IIN:
            return Retry(_message(result))
        if result.status is StartStatus.SENT:
            return Goto(SIGN_IN_CODE, notice=_message(result))
        # Too early, limits, locked, could not send; on SMS an ИИН that is not the sender's
        # (otp.service: one reply whatever the reason, nothing sent).
        return Stay(_message(result))


@dataclass
class AskCode(Step):
    async def view(self, ctx: Ctx) -> View:
        return View(
            body=(T("Enter the 6-digit code from the SMS."),),
            options=(
                Option("resend", T("Send a new code"), OptionRole.ACTION),
                Option("other", T("Enter another IIN"), OptionRole.ACTION),
            ),
            expects=InputKind.CODE,
            sensitive=True,
        )

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        if option_id == "resend":
            result = await ctx.services.otp.resend(
                ctx.conv.channel, ctx.conv.user_id, locale=ctx.language
            )
            return Stay(_message(result))
        if option_id == "other":
            return Goto(SIGN_IN)
        return Retry(CHOOSE_AN_OPTION)

    async def on_text(self, ctx: Ctx, text: str) -> Outcome:
        result = await ctx.services.otp.verify(ctx.conv.channel, ctx.conv.user_id, text)
        message = Text(result.message, dict(result.params))
        if result.status is VerifyStatus.WRONG_CODE:
            return Retry(message)
        if result.status is VerifyStatus.NOT_A_CODE:
            return Stay(message)  # a hint; neither an attempt nor a strike (issue 9 §1)
        if result.status is not VerifyStatus.SIGNED_IN or result.session is None:
            return Stay(message)  # expired, locked, no request
        ctx.patient_id = result.session.patient_id
        patient = await patients.get_patient(ctx.uow(), ctx.patient_id)
        if patient.language is None and ctx.conv.locale in ("kk", "ru", "en"):
            await patients.set_language(ctx.uow(), ctx.patient_id, Language(ctx.conv.locale))
        elif patient.language is not None:
            ctx.language = patient.language.value
        await patients.remember_channel(
            ctx.uow(),
            ctx.patient_id,
            ctx.conv.channel,
            ctx.conv.user_id,
            ctx.language,
            now=ctx.now,
        )
        target = ctx.conv.pending or MENU
        ctx.conv.pending = None
        return Goto(target, notice=message, reset=True)


STEPS: tuple[Step, ...] = (
    AskIin(SIGN_IN, requires_patient=False),
    AskCode(SIGN_IN_CODE, requires_patient=False),
)
