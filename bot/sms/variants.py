"""Messages that have a shorter SMS variant in the catalogs (msgctxt "sms").

The SMS renderer asks the catalogs for `pgettext("sms", msgid)` first and falls back to the
plain translation (bot/i18n.py). For pybabel to keep such an entry, the code must mention it:
list it here as `pgettext("sms", "<the dialog's msgid>")`, run `make update-locales`, then give
it a short msgstr in kk, ru and en (the English one too: the msgid is the Telegram text).

Which messages need one: `python -m bench.sms_cost --screens` lists the screens over the SMS
budget with their msgids; tests/sms/test_budget.py fails on them.

Writing a variant: keep 103, 1414, numbers, dates and times; data lines may lose their labels
("Doctor: {doctor}, {specialty}." -> "{doctor}, {specialty}"). A variant may leave a
placeholder out, but never name one the message does not have (tests/test_locales.py): only
the clinic's address is left out, where the clinic's name and room still say where
("{clinic}, каб. {room}").
"""

from __future__ import annotations


def pgettext(context: str, message: str) -> str:
    """A marker for pybabel (`-k pgettext:1c,2`); the renderer does the look-up."""
    return message


SMS_VARIANTS: tuple[str, ...] = (
    # The 1414 desk (issue 12).
    pgettext("sms", "An operator of the contact centre 1414 can take over this chat ({hours})."),
    pgettext("sms", "Expected wait: not known yet."),
    pgettext("sms", "Expected wait: about {minutes} min."),
    pgettext("sms", "The 1414 chat is closed now (operators answer {hours}). It opens {when}."),
    pgettext("sms", "Leave a message for a call back"),
    pgettext("sms", "You are in the queue for an operator of 1414: number {place}."),
    pgettext("sms", "Write your question here: the operator will see it."),
    pgettext("sms", "Write your message: what you need and, if not this number, a phone to call."),
    # Notices above the whole main menu (tests/sms/test_notices.py): within the budget.
    pgettext("sms", "Thank you. An operator of 1414 will call you back when the desk opens."),
    pgettext("sms", "Something went wrong on our side. Please try again or call 1414."),
    pgettext("sms", "Are you satisfied with the quality and the result of the service?"),
    pgettext("sms", "Are you satisfied with the information on how the service works?"),
    # Issue 15: on SMS the operator is a keyword, not a numbered option.
    pgettext("sms", "Having trouble? Choose «Operator 1414» and a person will help you."),
    # Issue 15: the hint after a wrong answer, short enough to sit above the same options.
    pgettext("sms", "Please choose one of the options below."),
    pgettext("sms", "Room {room}."),
    pgettext("sms", "Confirm"),
    pgettext(
        "sms",
        "It is paid and needs an in-person medical examination first; after it, "
        "the electronic version is on eGov.",
    ),
    pgettext(
        "sms", "103 answers around the clock; 1414 is not an emergency line."
    ),  # the booking's confirmation: «1 Записаться»
    pgettext("sms", "Address: {address}"),
    pgettext("sms", "Application No. {number}, status: {status}."),
    pgettext("sms", "Application {number}: {service}."),
    pgettext("sms", "Appointment: {when}, {doctor} ({specialty}), room {room}, {clinic}."),
    pgettext("sms", "Book an appointment"),
    # Issue 15: a parent's main menu says for whom booking is, and still fits one reply.
    pgettext("sms", "Book for myself"),
    pgettext("sms", "Book for {name}"),
    pgettext("sms", "Book for a child"),
    pgettext("sms", "My appointments"),
    pgettext("sms", "My applications"),
    # Issue 15: the cap screen (with a notice) and a child's home-visit terms, in one reply.
    pgettext("sms", "Cancel or move one in «My appointments» to book another."),
    # Notifications about a child name the child first (issue 15): their fixed lines shorter.
    # Issue 15: Russian names the child without «для» (no declension): «Дана С.:».
    pgettext("sms", "For {name}"),
    pgettext("sms", "To open: MENU → «My applications»."),
    pgettext("sms", "Not you? Call 1414."),
    pgettext("sms", "Reply OK to confirm. To cancel: MENU → «My appointments»."),
    pgettext("sms", "Booking at {clinic}. Choose a specialty."),
    pgettext("sms", "Call a doctor home"),
    pgettext("sms", "Cancel the appointment"),
    pgettext("sms", "Cancel this appointment?"),
    pgettext("sms", "Certificate from the PHC clinic (form 027/u)"),
    pgettext(
        "sms",
        "Certificate from your PHC clinic, form 027/u: an e-document signed with the "
        "clinic's EDS, within 30 minutes.",
    ),
    pgettext("sms", "Certificates and statements. Choose one:"),
    pgettext("sms", "Change the details"),
    pgettext("sms", "Clinic: {clinic}, {address}, room {room}."),
    pgettext(
        "sms",
        "Clinics work Mon–Fri 08:00–20:00, Sat 09:00–14:00; closed on Sundays and holidays.",
    ),
    pgettext("sms", "Contact centre: 1414, 8-800-080-7777 (free)."),
    pgettext("sms", "Contact phone: {phone}"),
    pgettext("sms", "Date and time: {when}."),
    pgettext("sms", "Doctor: {doctor}"),
    pgettext("sms", "Doctor: {doctor}, {specialty}."),
    pgettext("sms", "Done: the language is changed."),
    pgettext(
        "sms",
        "Emergency (chest pain, trouble breathing, fainting, heavy bleeding)? Call 103 "
        "now, not a home visit.",
    ),
    pgettext("sms", "Enter the 6-digit code from the SMS."),
    pgettext("sms", "Enter your IIN: 12 digits."),
    pgettext(
        "sms",
        "Here you can book an appointment with a doctor of your clinic, cancel or move "
        "it, call a doctor home, request certificates and follow the status of every "
        "application.",
    ),
    pgettext("sms", "History:"),
    pgettext(
        "sms",
        "If this IIN is registered, we have sent a code by SMS to its phone. The code "
        "is valid for {minutes} min.",
    ),
    pgettext("sms", "In an emergency call 103 at once."),
    pgettext("sms", "Issued only by the clinic you are attached to."),
    pgettext("sms", "Main menu. What would you like to do?"),
    pgettext("sms", "Medical care is given at home at the set time."),
    pgettext("sms", "Move the appointment with {doctor}: choose a new day."),
    pgettext("sms", "Move to another time"),
    pgettext("sms", "Move your appointment of {old} to this time?"),
    pgettext("sms", "No application of yours has this number. Choose one below."),
    pgettext("sms", "Once issued, it is valid {days} calendar days."),
    pgettext("sms", "Planned arrival: {start}–{end}."),
    pgettext("sms", "Please check and confirm your appointment."),
    pgettext("sms", "Please check your request:"),
    pgettext(
        "sms",
        "Please type the address: city, street, house and flat (up to {limit} characters).",
    ),
    pgettext("sms", "Reason: {reason}"),
    pgettext("sms", "Reasoned refusal: {reason} Information: 1414, 8-800-080-7777 (free)."),
    pgettext("sms", "Send the request"),
    pgettext(
        "sms",
        "Sign in with your IIN and a one-time code sent by SMS to your registered phone.",
    ),
    pgettext("sms", "The signed document will appear here when it is ready."),
    pgettext("sms", "The signed document will appear in My applications when it is ready."),
    pgettext("sms", "The state service is free of charge."),
    pgettext("sms", "The state service is provided free of charge."),
    pgettext("sms", "The state services here are free of charge."),
    pgettext("sms", "This is not a phone number. Example: +7 701 123 45 67."),
    pgettext("sms", "Status: {status}."),
    pgettext("sms", "This menu is out of date. Here is the current one."),
    pgettext("sms", "Today requests are accepted until {cutoff}: the doctor comes today."),
    pgettext("sms", "Use my registered address: {address}"),
    pgettext("sms", "Valid {days} calendar days once issued."),
    pgettext("sms", "We will send a one-time code by SMS to the phone registered for this IIN."),
    pgettext(
        "sms", "Welcome to Dariger: appointments, home visits and certificates of your clinic."
    ),
    pgettext("sms", "Where should the doctor come? Type the address: city, street, house, flat."),
    pgettext(
        "sms",
        "Whether you are under dynamic observation in this registry. Automated, within "
        "30 minutes; only about yourself.",
    ),
    pgettext("sms", "Which phone should the doctor call? Type a mobile number: +7 7xx xxx xx xx."),
    pgettext("sms", "You are booked. Application No. {number}."),
    pgettext("sms", "You are signed in."),
    pgettext("sms", "Your applications, newest first:"),
    pgettext("sms", "Your appointment is moved. Application No. {number}."),
    pgettext("sms", "You already have an open home-visit request for that day: No. {number}."),
    pgettext("sms", "Your request is sent. Application number: {number}."),
    pgettext("sms", "Your upcoming appointments. Choose one to see, cancel or move it."),
    pgettext("sms", "{doctor}, {day}: choose a time."),
    pgettext("sms", "{doctor}: choose a day."),
    pgettext("sms", "{number}: {service}. {status}. Deadline: {deadline}."),
    pgettext("sms", "{specialty}: choose a doctor."),
    pgettext(
        "sms",
        "A sick-leave sheet or certificate is issued free of charge by the doctor who "
        "examines you; the electronic one is on eGov (egov.kz). Ask your clinic or call 1414.",
    ),
    pgettext(
        "sms",
        "Home visits are accepted until 2 hours before the clinic closes; with the standard "
        "hours: {cutoffs}. Later requests go to the next working day.",
    ),
    pgettext(
        "sms",
        "Late: the deadline {deadline} has passed without a result. Please call the "
        "contact centre: 1414, 8-800-080-7777 (free).",
    ),
    pgettext("sms", "This service does not see sick-leave documents, so it cannot show yours."),
    pgettext(
        "sms",
        "You are not attached to any PHC clinic. To attach, apply to the clinic of your choice "
        "with an ID document, or on eGov (egov.kz); it takes 1 working day.",
    ),
    pgettext(
        "sms",
        "Your clinic accepts home visits until 2 hours before it closes: {cutoffs}. Later "
        "requests go to the next working day.",
    ),
    pgettext("sms", "Your clinic works {hours}; closed on other days and on public holidays."),
    pgettext("sms", "{number}: {service} on {when}. {status}."),
    pgettext("sms", "{number}: {service}. {status}. Late: due {deadline}; call 1414."),
)
