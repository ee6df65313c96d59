"""Sessions bound to (channel, channel user id): expiry, sign-out, and phone changes."""

from __future__ import annotations

from otp.sessions import Session
from tests.otp.conftest import KNOWN, KNOWN_PHONE, OTHER, Env


async def sign_in(
    env: Env, channel: str = "telegram", user: str = "100", iin: str = KNOWN
) -> Session:
    await env.service.start(iin, channel, user)
    result = await env.service.verify(channel, user, env.sender.last_code())
    assert result.session is not None
    env.clock.advance(seconds=61)  # past the resend cooldown, ready for the next sign-in
    return result.session


async def current_id(env: Env, channel: str = "telegram", user: str = "100") -> str | None:
    """The id of the identity's current session (to assert it is the same session, not any)."""
    current = await env.sessions.current(channel, user)
    return None if current is None else current.session_id


class TestCurrent:
    async def test_signed_in_identity_has_a_session(self, env: Env) -> None:
        opened = await sign_in(env)

        current = await env.sessions.current("telegram", "100")

        assert current is not None
        assert current.session_id == opened.session_id
        assert (current.patient_id, current.phone_key) == (1, env.sessions.phone_key(KNOWN_PHONE))
        assert current.last_seen_at == env.clock.now()

    async def test_other_identities_have_none(self, env: Env) -> None:
        await sign_in(env)

        assert await env.sessions.current("telegram", "200") is None
        assert await env.sessions.current("sms", "100") is None

    async def test_session_round_trips_through_json(self, env: Env) -> None:
        opened = await sign_in(env)

        assert Session.from_json(opened.to_json(), "telegram", "100") == opened
        # The stored record holds no ИИН, phone or channel user id (issue 9 §3).
        assert KNOWN not in opened.to_json()
        assert KNOWN_PHONE not in opened.to_json()
        assert "100" not in opened.to_json().replace(opened.session_id, "")

    async def test_signing_in_another_patient_replaces_the_binding(self, env: Env) -> None:
        await sign_in(env, iin=KNOWN)
        await sign_in(env, iin=OTHER)

        current = await env.sessions.current("telegram", "100")

        assert current is not None
        assert current.patient_id == 2
        assert await env.sessions.sign_out_everywhere(1) == 0


class TestExpiry:
    async def test_idle_expiry(self, env: Env) -> None:
        await sign_in(env)
        env.clock.advance(days=7)

        assert await env.sessions.current("telegram", "100") is None

    async def test_use_keeps_the_session_alive(self, env: Env) -> None:
        opened = await sign_in(env)
        env.clock.advance(days=6)
        assert await current_id(env) == opened.session_id
        env.clock.advance(days=6)

        assert await current_id(env) == opened.session_id

    async def test_absolute_expiry_even_when_used(self, env: Env) -> None:
        opened = await sign_in(env)
        while env.clock.now() - opened.created_at < env.policy.session_absolute:
            assert await current_id(env) == opened.session_id
            env.clock.advance(days=6)

        assert await env.sessions.current("telegram", "100") is None

    async def test_absolute_expiry_boundary(self, env: Env) -> None:
        opened = await sign_in(env)
        for _ in range(4):
            env.clock.advance(days=6)
            assert await current_id(env) == opened.session_id
        env.clock.current = opened.created_at + env.policy.session_absolute

        assert await env.sessions.current("telegram", "100") is None


class TestSignOut:
    async def test_sign_out_ends_this_session_only(self, env: Env) -> None:
        await sign_in(env, "telegram", "100")
        by_sms = await sign_in(env, "sms", KNOWN_PHONE)

        assert await env.sessions.sign_out("telegram", "100") is True

        assert await env.sessions.current("telegram", "100") is None
        assert await current_id(env, "sms", KNOWN_PHONE) == by_sms.session_id
        assert await env.sessions.sign_out("telegram", "100") is False

    async def test_sign_out_everywhere_ends_all_sessions_of_the_patient(self, env: Env) -> None:
        await sign_in(env, "telegram", "100")
        await sign_in(env, "sms", KNOWN_PHONE)
        other = await sign_in(env, "telegram", "300", iin=OTHER)

        ended = await env.sessions.sign_out_everywhere(1)

        assert ended == 2
        assert await env.sessions.current("telegram", "100") is None
        assert await env.sessions.current("sms", KNOWN_PHONE) is None
        assert await current_id(env, "telegram", "300") == other.session_id

    async def test_sign_out_is_audited_with_masked_values(self, env: Env) -> None:
        await sign_in(env, "sms", KNOWN_PHONE)

        await env.sessions.sign_out("sms", KNOWN_PHONE)

        event = env.audit.events[-1]
        assert event.name == "signed_out"
        assert KNOWN not in repr(event)
        assert KNOWN_PHONE not in repr(event)


async def change_phone(env: Env, phone: str | None, *, iin: str = KNOWN) -> None:
    """The register's phone changes and the writer announces it (as the backend's writers do:
    backend/services/patients.py `announce`)."""
    patient_id = env.directory.patients[iin][0]
    env.directory.patients[iin] = (patient_id, phone)
    await env.sessions.patient_changed(patient_id, phone=True)


class TestPhoneChange:
    async def test_a_new_registered_phone_ends_every_session(self, env: Env) -> None:
        await sign_in(env, "telegram", "100")
        await sign_in(env, "sms", KNOWN_PHONE)
        await change_phone(env, "+77770000001")

        assert await env.sessions.current("telegram", "100") is None

        assert await env.session_store.get("sms", KNOWN_PHONE) is None
        assert await env.sessions.current("sms", KNOWN_PHONE) is None
        assert "sessions_ended_phone_changed" in env.audit.names()

    async def test_the_same_phone_written_differently_is_no_change(self, env: Env) -> None:
        opened = await sign_in(env)
        await change_phone(env, "8 (701) 123-45-67")

        assert await current_id(env) == opened.session_id

    async def test_a_removed_phone_ends_the_session(self, env: Env) -> None:
        await sign_in(env)
        await change_phone(env, None)

        assert await env.sessions.current("telegram", "100") is None

    async def test_a_removed_patient_ends_the_session(self, env: Env) -> None:
        await sign_in(env)
        await change_phone(env, None)  # announced as a change of the phone …
        del env.directory.patients[KNOWN]  # … and the row gone

        assert await env.sessions.current("telegram", "100") is None

    async def test_signing_in_again_with_the_new_phone_works(self, env: Env) -> None:
        await sign_in(env)
        await change_phone(env, "+77770000001")
        assert await env.sessions.current("telegram", "100") is None

        session = await sign_in(env)

        assert session.phone_key == env.sessions.phone_key("+77770000001")
        assert env.sender.sent[-1][0] == "+77770000001"
        assert await current_id(env) == session.session_id
