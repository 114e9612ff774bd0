"""The moderation view: replies per post, newest first, from the fediverse and the platforms side by side;
approve, hide, mark as spam — along the declared state graph, each audited — and only for the accounts
an editor works for."""

from __future__ import annotations

from datetime import timedelta

from bridge.appkeys import FEDERATION, SESSIONS
from bridge.store.db import utcnow
from consent.models import Reply
from consent.platform_replies import store_platform_reply
from support.inbox import audit, instances, mastodon, network, run_jobs, stadt  # noqa: F401
from support.moderation import moderator, replied
from support.web import visitors  # noqa: F401


async def state_of(stadt, reply_id: int) -> str:
    async with stadt.app[SESSIONS]() as session:
        return (await session.get(Reply, reply_id)).state


async def test_replies_are_listed_per_post_newest_first_labelled_by_source(stadt, mastodon, visitors):
    post_id, alice, _, first = await replied(stadt, mastodon, content="<p>Erste Antwort</p>")
    bob = mastodon.add_actor("bob", summary="<p>#nobot</p>", indexable=False)
    await replied(stadt, mastodon, "bob", content="<p>Zweite Antwort<script>x()</script></p>", number=2)
    async with stadt.app[SESSIONS].begin() as session:
        await store_platform_reply(session, stadt.app[FEDERATION].vault, platform_kind="bluesky",
                                   platform_id="bsky_stadt", author_id="did:plc:carol", reply_id="at://carol/1",
                                   text="Antwort auf Bluesky", url="https://bsky.app/x", post_id=post_id,
                                   actor_name="stadt", retention=timedelta(days=180), now=utcnow())
    mona = await moderator(visitors, stadt)
    page = await mona.get("/editor/actors/stadt/replies")
    assert page.status == 200
    text = page.text
    assert text.index("Antwort auf Bluesky") < text.index("Zweite Antwort") < text.index("Erste Antwort")
    assert "<script>" not in text, "content was sanitised when it arrived"
    assert page.has("Platform: bsky_stadt") and page.has("Fediverse") and page.has("@bob@mastodon.test")
    assert page.has("Opt-out tags: #nobot") and page.has("Indexable: no") and page.has("Awaiting moderation")
    assert page.has("Kept until") and page.has("Consent to show it Not asked")
    only_post = await mona.get(f"/editor/actors/stadt/replies?post={post_id}&state=pending")
    assert only_post.has("Erste Antwort") and only_post.has("Back to the post")
    dashboard = await mona.get("/editor")
    assert 'href="/editor/actors/stadt/replies"' in dashboard.text
    post_page = await mona.get(f"/editor/posts/{post_id}")
    assert f'href="/editor/actors/stadt/replies?post={post_id}"' in post_page.text


async def test_moderation_follows_the_state_graph_and_every_action_is_audited(stadt, mastodon, visitors):
    _, _, _, reply_id = await replied(stadt, mastodon)
    mona = await moderator(visitors, stadt)
    for action, state in (("approve", "approved"), ("hide", "hidden"), ("approve", "approved"), ("spam", "spam")):
        page = await mona.post(f"/editor/replies/{reply_id}/state", {"to": action})
        assert page.status == 303 and page.location.endswith("notice=moved"), page.location
        assert await state_of(stadt, reply_id) == state
    refused = await mona.post(f"/editor/replies/{reply_id}/state", {"to": "approve"})
    assert refused.location.endswith("notice=transition_not_allowed")
    assert await state_of(stadt, reply_id) == "spam", "spam never goes straight back to public"
    page = await mona.get(refused.location)
    assert page.has("This change of state is not allowed.")
    assert [e.reason for e in await audit(stadt, "reply.moderation_refused")] == ["transition_not_allowed"]
    approved = await audit(stadt, "reply.approved")
    assert len(approved) == 2 and approved[0].details["from"] == "pending" and approved[0].actor_role == "editor"
    assert len(await audit(stadt, "reply.hidden")) == 1 and len(await audit(stadt, "reply.marked_spam")) == 1
    assert (await mona.post(f"/editor/replies/{reply_id}/state", {"to": "publish"})).status == 400
    page = await mona.post(f"/editor/replies/{reply_id}/state", {"to": "hide"})
    assert page.location.endswith("notice=moved") and await state_of(stadt, reply_id) == "hidden"


async def test_editors_of_other_accounts_get_403_and_unknown_replies_404(stadt, mastodon, visitors):
    _, _, _, reply_id = await replied(stadt, mastodon)
    fritz = await moderator(visitors, stadt, "fritz", actors=("feuerwehr",))
    assert (await fritz.get("/editor/actors/stadt/replies")).status == 403
    assert (await fritz.get("/editor/actors/feuerwehr/replies")).status == 200
    for path, fields in ((f"/editor/replies/{reply_id}/state", {"to": "approve"}),
                         (f"/editor/replies/{reply_id}/consent", {}), (f"/editor/replies/{reply_id}/block", {}),
                         (f"/editor/replies/{reply_id}/answer", {"text": "Hallo"})):
        assert (await fritz.post(path, fields)).status == 403, path
    assert (await fritz.get(f"/editor/replies/{reply_id}/answer")).status == 403
    assert await state_of(stadt, reply_id) == "pending"
    mona = await moderator(visitors, stadt)
    assert (await mona.post("/editor/replies/999999/state", {"to": "approve"})).status == 404
    assert (await mona.get("/editor/actors/nobody/replies")).status == 404


async def test_every_moderation_form_needs_its_csrf_token(stadt, mastodon, visitors):
    _, _, _, reply_id = await replied(stadt, mastodon)
    mona = await moderator(visitors, stadt)
    forms = [(f"/editor/replies/{reply_id}/state", {"to": "approve"}), (f"/editor/replies/{reply_id}/consent", {}),
             (f"/editor/replies/{reply_id}/block", {}), (f"/editor/replies/{reply_id}/answer", {"text": "Hallo"}),
             ("/editor/domain-blocks", {"domain": "spam.example"}),
             ("/editor/domain-blocks/remove", {"domain": "spam.example"}), ("/consent/withdraw", {"t": "x"})]
    for path, fields in forms:
        assert (await mona.post(path, fields, csrf=False)).status == 403, path
    assert await state_of(stadt, reply_id) == "pending"
    assert len(await audit(stadt, "csrf.rejected")) == len(forms)
    assert await audit(stadt, "domain.blocked") == [] and await audit(stadt, "consent.requested") == []


async def test_consent_is_not_asked_of_opted_out_authors_nor_of_platform_authors(stadt, mastodon, visitors):
    post_id, _, _, _ = await replied(stadt, mastodon, "dora", summary="<p>#nobridge</p>")
    async with stadt.app[SESSIONS].begin() as session:
        result = await store_platform_reply(session, stadt.app[FEDERATION].vault, platform_kind="telegram",
                                            platform_id="tg", author_id="telegram:9", reply_id="tg:1", text="Hi",
                                            url=None, post_id=post_id, actor_name="stadt",
                                            retention=timedelta(days=180), now=utcnow())
    mona = await moderator(visitors, stadt)
    dora_reply = result.reply_id - 1
    page = await mona.post(f"/editor/replies/{dora_reply}/consent")
    assert page.location.endswith("notice=opted_out")
    page = await mona.post(f"/editor/replies/{result.reply_id}/consent")
    assert page.location.endswith("notice=no_channel")
    await run_jobs(stadt)
    assert [r for r in mastodon.received if r.json.get("type") == "Create"] == []
    assert [e.reason for e in await audit(stadt, "consent.requested")] == ["opted_out", "no_channel"]
    page = await mona.get(f"/editor/replies/{result.reply_id}/answer")
    assert page.has("The platform account of this reply is no longer configured.")
