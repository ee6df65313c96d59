"""`otp.sender.SmsSender` on Twilio's Programmable Messaging API (the official `twilio` client).

The twilio client is blocking (requests), so each send runs in a worker thread. Whatever goes
wrong (an HTTP error from Twilio, a refused connection, a timeout) becomes `SmsSendError` with
a short reason that holds no message body.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from backend.domain.phone import mask_phone
from otp.sender import SentSms, SmsSendError

_log = structlog.get_logger("bot.sms.twilio")


class TwilioSmsSender:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        messaging_service_sid: str | None = None,
        from_number: str | None = None,
        status_callback_url: str | None = None,
        base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        """Send through a Messaging Service (`MG…`, preferred: sender pools, Advanced Opt-Out)
        or from one number / alphanumeric sender id; exactly one of the two.

        :param status_callback_url: where Twilio posts delivery statuses (optional).
        :param base_url: another API root instead of https://api.twilio.com (tests, proxies).
        :param timeout: seconds per HTTP request.
        """
        if (messaging_service_sid is None) == (from_number is None):
            raise ValueError("give exactly one of messaging_service_sid and from_number")
        self.messaging_service_sid = messaging_service_sid
        self.from_number = from_number
        self.status_callback_url = status_callback_url
        self._client = Client(
            account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout)
        )
        if base_url is not None:
            self._client.api.base_url = base_url.rstrip("/")

    async def send(self, to: str, body: str) -> SentSms:
        return await asyncio.to_thread(self._send, to, body)

    def _send(self, to: str, body: str) -> SentSms:
        kwargs: dict[str, Any] = {"to": to, "body": body}
        if self.messaging_service_sid is not None:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.from_number
        if self.status_callback_url is not None:
            kwargs["status_callback"] = self.status_callback_url
        try:
            message = self._client.messages.create(**kwargs)
        except TwilioRestException as exc:
            reason = f"twilio_http_{exc.status}_code_{exc.code}"
            _log.warning("sms_send_failed", to=mask_phone(to), reason=reason)
            raise SmsSendError(reason) from None
        except TwilioException as exc:
            reason = f"twilio_{type(exc).__name__}"
            _log.warning("sms_send_failed", to=mask_phone(to), reason=reason)
            raise SmsSendError(reason) from None
        except Exception as exc:  # requests' connection errors and timeouts, bad JSON, …
            reason = f"transport_{type(exc).__name__}"
            _log.warning("sms_send_failed", to=mask_phone(to), reason=reason)
            raise SmsSendError(reason) from None
        return SentSms(provider_id=str(message.sid or ""), status=str(message.status or ""))
