"""What a dialog may use: the backend services and the OTP sign-in, nothing channel-specific."""

from __future__ import annotations

from dataclasses import dataclass

from backend.bootstrap import Backend
from otp.service import OtpService
from otp.sessions import SessionService


@dataclass(frozen=True)
class Services:
    backend: Backend
    otp: OtpService
    sessions: SessionService
