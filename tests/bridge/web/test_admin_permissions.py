"""Instance-wide actions are for administrators: blocking a whole server (after a confirmation step, CSRF-
protected) while hiding a reply or marking it spam stays with editors; an admin's password reset of a user
revokes that user's API tokens, audited."""

from __future__ import annotations

from sqlalchemy import select

from bridge.appkeys import SESSIONS
from bridge.store.blocks import DomainBlock
from bridge.store.models import ApiToken, User
from support.api import bearer, make_token
from support.inbox import audit, instances, mastodon, network, stadt  # noqa: F401
from support.moderation import moderator, replied
from support.web import admin_ready, make_user, signed_in, visitors  # noqa: F401

ADMINS_ONLY = "Only an administrator may block or unblock a server"


async def blocks(stadt) -> list[str]:
    async with stadt.app[SESSIONS]() as session:
        return list((await session.scalars(select(DomainBlock.domain))).all())


async def admin_of(visitors, stadt):
    return await signed_in(visitors(stadt), stadt.app[SESSIONS], await admin_ready(stadt.app[SESSIONS]))


async def test_an_editor_may_not_block_or_unblock_a_server(stadt, mastodon, visitors):
    _, _, _, reply_id = await replied(stadt, mastodon)
    mona = await moderator(visitors, stadt)
    for path, fields in ((f"/editor/replies/{reply_id}/block", {"reason": "abuse"}),
                         ("/editor/domain-blocks", {"domain": "spam.example", "confirmed": "yes"}),
                         ("/editor/domain-blocks/remove", {"domain": "spam.example"})):
        page = await mona.post(path, fields)
        assert page.status == 403 and page.has(ADMINS_ONLY), path
    assert await blocks(stadt) == [] and await audit(stadt, "domain.blocked") == []
    listing = await mona.get("/editor/domain-blocks")  # the list stays readable, without the forms
    assert listing.status == 200 and listing.has("Only an administrator may block or unblock a server.")
    assert 'action="/editor/domain-blocks"' not in listing.text
    replies = await mona.get("/editor/actors/stadt/replies")
    assert f"/editor/replies/{reply_id}/block" not in replies.text and f"/editor/replies/{reply_id}/state" in replies.text


async def test_hiding_and_marking_spam_stay_with_editors(stadt, mastodon, visitors):
    _, _, _, reply_id = await replied(stadt, mastodon)
    mona = await moderator(visitors, stadt)
    for to in ("hide", "spam"):
        page = await mona.post(f"/editor/replies/{reply_id}/state", {"to": to})
        assert page.status == 303 and page.location.endswith("notice=moved"), to


async def test_the_editor_is_told_in_german(stadt, visitors):
    mona = await moderator(visitors, stadt)
    assert (await mona.post("/language", {"language": "de"})).status == 303
    page = await mona.post("/editor/domain-blocks", {"domain": "spam.example"})
    assert page.status == 403
    assert page.has("Nur die Administration darf Server sperren oder entsperren: Eine Sperre gilt für alle Konten")


async def test_an_admin_confirms_a_block_before_it_happens(stadt, visitors):
    boss = await admin_of(visitors, stadt)
    page = await boss.post("/editor/domain-blocks", {"domain": "Spam.Example", "reason": "spam"})
    assert page.status == 200 and page.has("Block the server spam.example?")
    assert page.has("every account of this instance")
    assert await blocks(stadt) == [] and await audit(stadt, "domain.blocked") == []
    confirm = {"domain": "spam.example", "reason": "spam", "next": "/editor/domain-blocks", "confirmed": "yes"}
    assert (await boss.post("/editor/domain-blocks", confirm, csrf=False)).status == 403  # CSRF-protected
    assert await blocks(stadt) == []
    page = await boss.post("/editor/domain-blocks", confirm)
    assert (page.status, page.location) == (303, "/editor/domain-blocks?notice=blocked")
    assert await blocks(stadt) == ["spam.example"]
    [entry] = await audit(stadt, "domain.blocked")
    assert entry.actor_role == "admin" and entry.details == {"domain": "spam.example", "why": "spam"}


async def test_a_bad_name_is_refused_before_the_confirmation(stadt, visitors):
    boss = await admin_of(visitors, stadt)
    page = await boss.post("/editor/domain-blocks", {"domain": "https://x.example/"})
    assert (page.status, page.location) == (303, "/editor/domain-blocks?notice=invalid_domain")


async def test_a_block_from_a_reply_asks_first_and_returns_to_the_replies(stadt, mastodon, visitors):
    post_id, _, _, reply_id = await replied(stadt, mastodon)
    boss = await admin_of(visitors, stadt)
    back = f"/editor/actors/stadt/replies?post={post_id}"
    page = await boss.post(f"/editor/replies/{reply_id}/block", {"reason": "abuse", "next": back})
    assert page.status == 200 and page.has("Block the server mastodon.test?")
    assert f'href="{back.replace("&", "&amp;")}"' in page.text  # cancel goes back
    assert await blocks(stadt) == []
    page = await boss.post("/editor/domain-blocks", {"domain": "mastodon.test", "reason": "abuse", "next": back,
                                                     "confirmed": "yes"})
    assert (page.status, page.location) == (303, f"{back}&notice=blocked")
    assert await blocks(stadt) == ["mastodon.test"]


async def test_a_password_reset_revokes_the_users_api_tokens(client, sessions, visitors):
    secret = await make_token(sessions, "erika")
    other = await make_token(sessions, "robot")
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=bearer(secret))).status == 200
    admin_id = await admin_ready(sessions)
    boss = await signed_in(visitors(), sessions, admin_id)
    async with sessions() as session:
        erika = await session.scalar(select(User).where(User.name == "erika"))
        [token_id] = (await session.scalars(select(ApiToken.id).where(ApiToken.user_id == erika.id))).all()
    page = await boss.get(f"/admin/users/{erika.id}")
    assert page.has("their API tokens are revoked")
    assert (await boss.post(f"/admin/users/{erika.id}/reset")).status == 200
    response = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(secret))
    assert response.status == 401 and await response.json() == {"error": "The access token was revoked"}
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=bearer(other))).status == 200
    [entry] = await audit(client, "token.revoked")
    assert (entry.actor_ref, entry.subject_ref, entry.reason) == (f"user:{admin_id}", f"token:{token_id}",
                                                                  "password_reset")
