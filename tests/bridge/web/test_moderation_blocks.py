"""Blocking a server from the moderation view (an administrator, after confirming): its requests are refused
at the inbox door (403 `domain_blocked`, audited, before any key is fetched) and nothing is delivered to it any
more."""

from __future__ import annotations

from sqlalchemy import select

from bridge.appkeys import CONFIG, SESSIONS
from bridge.store.models import Job, User
from bridge.publishing.posts import Draft, create_post
from fakes.fediverse import mastodon_follow
from support.inbox import CITY, audit, instances, mastodon, network, run_jobs, stadt  # noqa: F401
from support.moderation import STADT_INBOX, replied
from support.web import make_user, signed_in, visitors  # noqa: F401


async def administrator(visitors, stadt, name: str = "mona"):
    user_id, _ = await make_user(stadt.app[SESSIONS], name, "admin", ())
    return await signed_in(visitors(stadt), stadt.app[SESSIONS], user_id)


async def block(mona, domain: str, reason: str = "abuse"):
    """Asks, then confirms, as the admin clicks through the confirmation page."""
    page = await mona.post("/editor/domain-blocks", {"domain": domain, "reason": reason})
    if page.status != 200:
        return page
    return await mona.post("/editor/domain-blocks", {"domain": domain, "reason": reason, "confirmed": "yes"})


async def test_blocked_server_gets_403_before_any_work_and_unblocking_lets_it_in_again(stadt, mastodon, visitors,
                                                                                       instances):
    _, alice, _, reply_id = await replied(stadt, mastodon)
    mona = await administrator(visitors, stadt)
    page = await mona.post(f"/editor/replies/{reply_id}/block", {"reason": "spam"})
    assert page.status == 200 and page.has("Block the server mastodon.test?")
    page = await mona.post("/editor/domain-blocks", {"domain": "mastodon.test", "reason": "spam", "confirmed": "yes",
                                                     "next": "/editor/actors/stadt/replies"})
    assert page.status == 303 and page.location.endswith("notice=blocked")
    [entry] = await audit(stadt, "domain.blocked")
    assert entry.details == {"domain": "mastodon.test", "why": "spam"} and entry.outcome == "ok"
    fetched = len(mastodon.fetched)
    status, body = await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice, path=STADT_INBOX)
    assert (status, body) == (403, {"error": "domain_blocked"})
    assert len(mastodon.fetched) == fetched, "no key or actor is fetched for a blocked server"
    assert (await audit(stadt, "inbound.rejected"))[-1].reason == "domain_blocked"
    sub = await instances("media.mastodon.test")
    status, _ = await sub.sign_and_post(stadt, mastodon_follow(sub.add_actor("eve"), CITY), sub.actors["/users/eve"],
                                        path=STADT_INBOX)
    assert status == 403, "a block covers subdomains"
    page = await mona.get("/editor/domain-blocks")
    assert page.has("mastodon.test") and page.has("Unblock mastodon.test")
    page = await mona.post("/editor/domain-blocks/remove", {"domain": "mastodon.test"})
    assert page.location.endswith("notice=unblocked")
    status, _ = await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY, 2), alice, path=STADT_INBOX)
    assert status == 202
    assert len(await audit(stadt, "domain.unblocked")) == 1


async def test_nothing_is_delivered_to_a_blocked_server(stadt, mastodon, visitors):
    alice = mastodon.add_actor("alice")
    assert (await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice, path=STADT_INBOX))[0] == 202
    mona = await administrator(visitors, stadt)
    page = await block(mona, "Mastodon.Test")
    assert page.location.endswith("notice=blocked")
    await run_jobs(stadt)  # the Accept queued before the block is not sent either
    async with stadt.app[SESSIONS].begin() as session:
        user = await session.scalar(select(User).where(User.name == "mona"))
        assert (await create_post(session, stadt.app[CONFIG], user, Draft(actor="stadt", text="Hallo"))).ok
    await run_jobs(stadt)
    assert mastodon.received == []
    async with stadt.app[SESSIONS]() as session:
        errors = (await session.scalars(select(Job.last_error).where(Job.kind == "deliver_direct"))).all()
    assert errors == ["domain_blocked"]


async def test_block_form_refuses_bad_names_and_our_own_server(stadt, visitors):
    mona = await administrator(visitors, stadt)
    for domain, notice in (("https://x.example/", "invalid_domain"), ("stadt.test", "own_domain"),
                           ("*.example", "invalid_domain"), ("spam.example", "blocked"),
                           ("spam.example", "already_blocked")):
        page = await block(mona, domain)
        assert page.location.endswith(f"notice={notice}"), (domain, page.location)
    page = await mona.post("/editor/domain-blocks/remove", {"domain": "never.example"})
    assert page.location.endswith("notice=not_blocked")
    # Names that are not server names never reach the block (nor its audit entry): the confirmation refuses them.
    assert [e.outcome for e in await audit(stadt, "domain.blocked")] == ["denied", "ok", "denied"]
