"""Texts and helpers every journey shares."""

from __future__ import annotations

from backend.domain.model import Named
from backend.domain.refusals import REFUSAL_TEXTS, Refusal
from backend.domain.statuses import SERVICE_LABELS, STATUS_LABELS, ApplicationStatus, ServiceType
from dialogs.engine.text import Localized, T, Text

# seed-003 R-36: the unified contact centre, shown in help and on every refusal or delay.
CALL_CENTRE = T("Contact centre: 1414, 8-800-080-7777 (free).")
# S12 / R-38: emergencies are never handled by the bot.
EMERGENCY = T("In an emergency call 103 at once.")
# S2/S3/S4 row 7: PHC hours Mon–Fri 08:00–20:00 without a break, Sat 09:00–14:00.
CLINIC_HOURS = T(
    "Clinics work Mon–Fri 08:00–20:00, Sat 09:00–14:00; closed on Sundays and holidays."
)
# S4 row 7: home-visit requests until 2 h before closing, later ones the next working day.
HOME_VISIT_CUTOFF = T(
    "Home visits are accepted until 2 hours before the clinic closes: weekdays "
    "until 18:00, Saturday until 12:00. Later requests go to the next working day."
)


def refusal_notice(refusal: Refusal) -> Text:
    """A typed refusal as the patient reads it; legal grounds are a reasoned refusal (R-35)."""
    reason = Text(REFUSAL_TEXTS[refusal.code], dict(refusal.params))
    if refusal.is_legal_ground:
        return T(
            "Reasoned refusal: {reason} Information: 1414, 8-800-080-7777 (free).",
            reason=reason,
        )
    return reason


def status_label(status: ApplicationStatus) -> Text:
    return Text(STATUS_LABELS[status])


def service_label(service: ServiceType) -> Text:
    return Text(SERVICE_LABELS[service])


def localized(named: Named) -> Localized:
    return Localized(kk=named.name_kk, ru=named.name_ru, en=named.name_en)
