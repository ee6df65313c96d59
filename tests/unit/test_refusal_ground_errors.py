"""The error for a wrong refusal ground names the service, the allowed grounds and what was
given (R-35, R-41): the Clinic API shows it to the clinic's system (422)."""

from __future__ import annotations

import pytest

from backend.domain.refusals import RefusalCode, RefusalGroundNotAllowed, check_refusal_ground
from backend.domain.statuses import ApplicationStatus, ServiceType

REGISTERED = ApplicationStatus.REGISTERED


def _error(target: ApplicationStatus, reason: RefusalCode | None) -> RefusalGroundNotAllowed:
    with pytest.raises(RefusalGroundNotAllowed) as caught:
        check_refusal_ground(
            REGISTERED, target, service=ServiceType.CERTIFICATE_027, reason=reason
        )
    return caught.value


def test_a_refusal_without_a_ground_lists_the_service_s_grounds() -> None:
    error = _error(ApplicationStatus.REFUSED, None)

    assert str(error) == (
        "a refusal of certificate_027 must name its legal ground"
        " (not_attached_here, unreliable_data), not none"
    )
    assert (error.service, error.reason) == (ServiceType.CERTIFICATE_027, None)


def test_a_refusal_with_another_service_s_ground_names_it() -> None:
    error = _error(ApplicationStatus.REFUSED, RefusalCode.HOME_VISITS_FULL)

    assert str(error) == (
        "a refusal of certificate_027 must name its legal ground"
        " (not_attached_here, unreliable_data), not home_visits_full"
    )
    assert (error.service, error.reason) == (
        ServiceType.CERTIFICATE_027,
        RefusalCode.HOME_VISITS_FULL,
    )


def test_a_ground_on_anything_but_a_refusal_is_named() -> None:
    error = _error(ApplicationStatus.COMPLETED, RefusalCode.UNRELIABLE_DATA)

    assert str(error) == "only a refusal carries a refusal ground, not unreliable_data"
    assert (error.service, error.reason) == (
        ServiceType.CERTIFICATE_027,
        RefusalCode.UNRELIABLE_DATA,
    )
