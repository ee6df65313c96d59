"""The staff console (issues 11 and 12): web pages for 1414 operators, supervisors and clinic
staff, with accounts, roles, sessions, CSRF and an audit log. See docs/operator.md.

`console` is the sub-application and its guard, `web` the plumbing every page uses (forms,
templates, roles, server-sent events), `clinic_pages` the clinic staff pages, `sms` the
failed-messages page, `staff_cli` the account commands.
"""

from bot.operator.console import OPERATOR_KEY, PREFIX, SMS_PATH, StaffConsole, install

__all__ = ["OPERATOR_KEY", "PREFIX", "SMS_PATH", "StaffConsole", "install"]
