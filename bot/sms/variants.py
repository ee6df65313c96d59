"""Messages that have a shorter SMS variant in the catalogs (msgctxt "sms").

The SMS renderer asks the catalogs for `pgettext("sms", msgid)` first and falls back to the
plain translation (bot/i18n.py). For pybabel to keep such an entry, the code must mention it:
list it here as `pgettext("sms", "<the dialog's msgid>")`, run `make update-locales`, then give
it a short msgstr in kk, ru and en (the English one too: the msgid is the Telegram text).

Which messages need one: `python -m bench.sms_cost --screens` lists the screens whose text does
not fit one reply (2 segments), with their msgids; tests/sms/test_budget.py warns about them.
"""

from __future__ import annotations


def pgettext(context: str, message: str) -> str:
    """A marker for pybabel (`-k pgettext:1c,2`); the renderer does the look-up."""
    return message


SMS_VARIANTS: tuple[str, ...] = (
    # e.g. pgettext("sms", "Please check and confirm your appointment."),
)
