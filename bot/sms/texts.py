"""The few words only the SMS channel says (the dialogs' words come with their screens).

English source text, translated through the same catalogs (`T` is extracted by pybabel). Each is
short enough for one UCS-2 segment or two in Kazakh and Russian.
"""

from __future__ import annotations

from dialogs.engine.text import T

# The line that shows the next page of a long list: "9 келесі" / "9 далее" / "9 more".
MORE = T("more")
# The navigation footer, shown when it costs no extra segment (HELP always explains it).
NAV_BACK_AND_MENU = T("0 back, 00 menu")
NAV_MENU = T("00 menu")
NAV_BACK = T("0 back")

HELP = T(
    "Reply with a number: 0 back, 00 menu, 9 more. KZ/RU/EN: language. STOP: no SMS. "
    "Operator: 1414."
)
STOPPED = T("You will get no more SMS from Dariger. To start again, send START.")
OFF = T("SMS from Dariger are off. To turn them on, send START.")
HELP_OFF = T("SMS from Dariger are off. To turn them on, send START. Help: 1414.")
RESUMED = T("SMS from Dariger are on again.")
CANCEL_HINT = T(
    "To cancel an appointment: 00, «My appointments», then confirm by its number. "
    "STOP ends all SMS."
)
# Issue 15: the CANCEL keyword on a screen that offers cancelling points to its number.
CANCEL_HERE = T("To cancel it, reply {number}. STOP ends all SMS.")
# Issue 15: the welcome names the language keywords in one short line.
LANGUAGES_LINE = T("Language: KZ, RU or EN.")
NO_DOCUMENT = T("Documents are not sent by SMS: open this in Telegram or ask your clinic.")
