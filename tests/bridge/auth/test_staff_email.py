"""Staff e-mail addresses: set by the user (with the digest opt-in) or by an admin, a wrong address shown next
to its field with what was typed; audited without the address; named in the Art. 30 register with its
retention; the daily digest chain starts only where mail is configured."""

from __future__ import annotations

from sqlalchemy import select

from bridge.handlers import start_chains
from bridge.mail.jobs import DIGEST_JOB
from bridge.privacy.register import build_register
from bridge.store.db import utcnow
from bridge.store.models import Job, User
from consent.models import AuditEntry
from support.mail import mail_section
from support.web import admin_ready, make_user, signed_in, visitors  # noqa: F401


async def test_a_user_sets_their_address_and_the_digest_and_a_wrong_one_keeps_what_was_typed(
        visitors, sessions, booted):
    user_id, _ = await make_user(sessions, "erika")
    erika = await signed_in(visitors(), sessions, user_id)
    bad = await erika.post("/settings/mail", {"email": "erika at stadt", "reply_digest": "on"})
    assert bad.status == 422 and bad.has("this is not an e-mail address")
    assert 'value="erika at stadt"' in bad.text and 'aria-describedby="email-hint email-problem"' in bad.text
    assert 'id="reply_digest" name="reply_digest" checked' in bad.text
    good = await erika.post("/settings/mail", {"email": "erika@stadt.test", "reply_digest": "on"})
    assert (good.status, good.location) == (303, "/password?changed=mail")
    assert (await erika.get(good.location)).has("Your e-mail settings were saved.")
    async with sessions() as session:
        user = await session.get(User, user_id)
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "user.email_changed"))
    assert (user.email, user.reply_digest) == ("erika@stadt.test", True)
    assert "erika@" not in str(entry.details) and entry.purpose == "security"


async def test_an_admin_sets_and_removes_an_address(visitors, sessions, booted):
    user_id, _ = await make_user(sessions, "erika")
    admin = await signed_in(visitors(), sessions, await admin_ready(sessions))
    await admin.get(f"/admin/users/{user_id}")
    bad = await admin.post(f"/admin/users/{user_id}/email", {"email": "a@b"})
    assert bad.status == 422 and bad.has("this is not an e-mail address") and 'value="a@b"' in bad.text
    done = await admin.post(f"/admin/users/{user_id}/email", {"email": "erika@stadt.test"})
    assert done.status == 303 and (await admin.get(done.location)).has("The e-mail address was saved.")
    await admin.post(f"/admin/users/{user_id}/email", {"email": ""})
    async with sessions() as session:
        assert (await session.get(User, user_id)).email is None


def test_the_register_names_staff_mail_and_its_retention(make_config):
    register = build_register(make_config(), utcnow())
    activity = next(a for a in register["activities"] if a["id"] == "staff_mail")
    assert "staff e-mail address, user name, language" in activity["data_categories"]
    periods = {row["category"]: row["period"] for row in register["retention"]}
    assert periods["Password-reset links"] == "30 minutes valid, deleted 1 day after expiry"
    assert periods["Staff e-mail addresses, second-factor secrets and recovery codes"] == "while the user exists"


async def test_the_digest_chain_starts_only_with_mail_configured(make_config, sessions, booted):
    assert DIGEST_JOB not in await start_chains(sessions, make_config())
    assert DIGEST_JOB in await start_chains(sessions, make_config(mail=mail_section(25)))
    assert DIGEST_JOB not in await start_chains(sessions, make_config(mail=mail_section(25)))  # never doubled
    async with sessions() as session:
        assert len((await session.scalars(select(Job).where(Job.kind == DIGEST_JOB))).all()) == 1
