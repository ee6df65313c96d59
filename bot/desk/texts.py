"""What the channels tell a patient whose conversation is with the 1414 desk (issue 12)."""

from __future__ import annotations

from dialogs.engine.text import T, Text, Verbatim

# Operator messages reach the patient prefixed (anchors §2.2 item 5: «Оператор 1414:»).
LEAVE_BY_SMS = T("Send 0 to leave the queue.")
LEAVE_BUTTON = T("Leave the queue")
LEFT = T("You have left the queue and are back with the bot.")
HANDED_BACK = T("The operator has handed you back to the bot. Continue where you were.")
IDLE_CLOSED = T("The chat with the operator is closed: there was no answer for a long time.")
LONG_WAIT = T("The wait is longer than usual. Stay in the queue, or leave it to use the bot.")


def passed_on(place: int) -> Text:
    return T("Your message is passed on. You are number {place} in the queue.", place=place)


def operator_says(text: str) -> Text:
    """An operator's words as the patient reads them (anchors §2.2 item 5: «Оператор 1414:»)."""
    return T("1414 operator: {text}", text=Verbatim(text))
