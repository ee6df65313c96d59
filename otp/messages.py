"""Message ids of the sign-in replies (English source text; the channels translate them).

Placeholders are `str.format` fields. Every reply that names a wait carries both `seconds`
(exact) and `minutes` (rounded up) in its params; `wait_message` picks the seconds wording
under a minute and the minutes wording from a minute on.
"""

from __future__ import annotations

from backend.domain.i18n import N_

ParamValue = str | int

CODE_SENT = N_(
    "If this IIN is registered, we have sent a code by SMS to its phone. "
    "The code is valid for {minutes} min."
)
SMS_CODE = N_("Dariger code: {code}. Valid for {minutes} min. Do not tell it to anyone.")
CODE_WRONG = N_("Wrong code. Attempts left: {attempts_left}.")
CODE_EXPIRED = N_("This code has expired or was already used. Ask for a new code.")
NO_REQUEST = N_("Send your IIN first, and we will send you a code.")
LOCKED_SECONDS = N_("Too many wrong codes. Try again in {seconds} s.")
LOCKED_MINUTES = N_("Too many wrong codes. Try again in {minutes} min.")
RESEND_TOO_EARLY = N_("Please wait {seconds} s before asking for a new code.")
SEND_LIMIT_SECONDS = N_("Too many codes were requested. Try again in {seconds} s.")
SEND_LIMIT_MINUTES = N_("Too many codes were requested. Try again in {minutes} min.")
SEND_FAILED = N_("Could not send the code. Try again later or call 1414.")
INVALID_IIN_LENGTH = N_("An IIN has 12 digits. Please check it and send it again.")
INVALID_IIN_CHECK = N_(
    "This is not a valid IIN: its check digit or birth date does not match. "
    "Please check it and send it again."
)
INVALID_IIN_FUTURE = N_(
    "This IIN has a birth date in the future, so it is not valid. "
    "Please check it and send it again."
)
# Issue 9 §1: at the code prompt, text that cannot be a code costs no attempt.
NOT_A_CODE = N_("A code has {digits} digits. Please type the code from the SMS.")
# Issue 9 §1, SMS only: one reply for an ИИН registered to another phone, an unknown ИИН and an
# ИИН without a phone, never naming the other number (nothing to enumerate).
NOT_THIS_PHONE = N_(
    "This IIN is not registered to the phone you are writing from. Please call 1414."
)
SIGNED_IN = N_("You are signed in.")
SIGNED_OUT = N_("You are signed out.")
SIGNED_OUT_EVERYWHERE = N_("You are signed out on all your devices.")


def wait_params(seconds: int) -> dict[str, ParamValue]:
    """`{"seconds": 90, "minutes": 2}`: the exact wait and the wait in minutes, rounded up."""
    seconds = max(seconds, 1)
    return {"seconds": seconds, "minutes": -(-seconds // 60)}


def wait_message(seconds: int, *, short: str, long: str) -> tuple[str, dict[str, ParamValue]]:
    """The seconds wording (`short`) under a minute, the minutes wording (`long`) otherwise."""
    return (short if max(seconds, 1) < 60 else long), wait_params(seconds)
