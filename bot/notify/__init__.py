"""Notifications to patients on their own channel (issue 11): rendering, rate limits, the
workers that send the notification outbox, and the scheduler of reminders and deadlines."""
