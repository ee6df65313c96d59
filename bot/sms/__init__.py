"""SMS gateway adapters (Twilio is the reference adapter of `otp.sender.SmsSender`)."""

from bot.sms.twilio_sender import TwilioSmsSender

__all__ = ["TwilioSmsSender"]
