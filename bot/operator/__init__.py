"""The 1414 operator console (issue 5): web pages for contact-centre staff, behind a token.

The first page lists outgoing SMS that failed (`GET /operator/sms`, or JSON): codes and
notifications that never reached the patient, so that an operator can call the patient back.
Without OPERATOR_TOKEN nothing is mounted (every `/operator/...` answers 404) and start-up says
how to turn the console on. See docs/operator.md.
"""

from bot.operator.console import CONSOLE_OFF, OPERATOR_KEY, SMS_PATH, OperatorConsole, install

__all__ = ["CONSOLE_OFF", "OPERATOR_KEY", "SMS_PATH", "OperatorConsole", "install"]
