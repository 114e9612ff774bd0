"""What other people send is shown as theirs and nothing more: a remote address becomes a link only when it
is http(s) (a `javascript:` url of a Note, of a Link list or of a platform reply never does), and a remote
name or reply text is isolated (<bdi>, dir="auto") so that U+202E and friends cannot turn our page around."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bridge.appkeys import FEDERATION, SESSIONS
from bridge.platforms import sends as mirroring
from consent.models import Reply, Subject
from consent.replies import open_reply
from fakes.fediverse import mastodon_reply
from fakes.platform_servers import mastodon_reply as platform_reply
from support.inbox import instances, mastodon, network, stadt  # noqa: F401
from support.inbox import note_uri, publish
from support.mirroring import bridge  # noqa: F401  (fixture)
from support.moderation import STADT_INBOX, answer, ask_and_deliver, moderator, public_page, send
from support.web import make_user, signed_in, visitors  # noqa: F401

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "Stadt\u202eetlawreV" reads as "StadtVerwalte" mirrored
ZWJ = "\u200d"
SPOOFED_NAME = f"Rathaus{RLO}gnuthcaewrebÜ{ZWJ}"
SPOOFED_TEXT = f"<p>Offizielle Mitteilung{RLO} :tlahtnI</p>"
HOSTILE = ("javascript:alert(document.domain)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
           "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "//evil.test/x",
           "https:")


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


async def reply_from(stadt, mastodon, note_fields: dict, name: str = "alice", number: int = 1,
                     profile: dict | None = None):
    """A published post and a signed reply to it, the Note carrying `note_fields` and the author's actor
    document `profile`: (post id, actor, reply id)."""
    post_id = await publish(stadt)
    actor = mastodon.actors.get(f"/users/{name}") or mastodon.add_actor(name)
    actor.fields.update(profile or {})
    create = mastodon_reply(actor, note_uri(post_id), "http://stadt.test/users/stadt", number,
                            note_fields.pop("content", "<p>Danke für die Info!</p>"))
    create["object"].update(note_fields)
    assert await send(stadt, mastodon, actor, create) == (202, {"status": "reply_stored"})
    async with stadt.app[SESSIONS]() as session:
        reply_id = await session.scalar(select(Reply.id).order_by(Reply.id.desc()).limit(1))
    return post_id, actor, reply_id


async def shown_publicly(stadt, mastodon, visitors, actor, reply_id: int):
    """Approved, asked and agreed: the reply is on the public page. The moderator's browser."""
    mona = await moderator(visitors, stadt)
    assert (await mona.post(f"/editor/replies/{reply_id}/state", {"to": "approve"})).status == 303
    dm = await ask_and_deliver(stadt, mona, mastodon, reply_id, actor)
    assert await send(stadt, mastodon, actor, answer(actor, dm, "JA", 90)) == (202, {"status": "consent_given"})
    return mona


async def test_a_javascript_url_of_a_reply_is_never_a_link_on_the_public_page_nor_in_moderation(
        stadt, mastodon, visitors):
    post_id, alice, reply_id = await reply_from(stadt, mastodon, {"url": "javascript:alert(document.cookie)"},
                                                profile={"url": "javascript:alert(2)"})
    mona = await shown_publicly(stadt, mastodon, visitors, alice, reply_id)
    page = await public_page(stadt, post_id)
    assert "Danke für die Info!" in page, "the reply itself is shown"
    assert not [h for h in hrefs(page) if "javascript" in h.lower()], hrefs(page)
    moderation = await mona.get("/editor/actors/stadt/replies")
    assert moderation.has("Danke für die Info!")
    assert not [h for h in hrefs(moderation.text) if "javascript" in h.lower()]
    assert not moderation.has("Open on the author's server"), "no address, no link"


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_only_http_and_https_addresses_of_a_note_become_links(stadt, mastodon, visitors, hostile):
    _, _, _ = await reply_from(stadt, mastodon, {"url": hostile})
    mona = await moderator(visitors, stadt)
    page = await mona.get("/editor/actors/stadt/replies")
    assert page.has("Danke für die Info!")
    assert not page.has("Open on the author's server"), hostile
    assert hostile.strip() not in " ".join(hrefs(page.text))


async def test_of_a_list_of_links_the_first_http_one_is_taken_and_an_ordinary_url_stays_a_link(
        stadt, mastodon, visitors):
    good = "http://mastodon.test/@alice/1"
    await reply_from(stadt, mastodon, {"url": [{"type": "Link", "mediaType": "text/html", "href": "javascript:x()"},
                                               {"type": "Link", "mediaType": "text/html", "href": good}]})
    mona = await moderator(visitors, stadt)
    page = await mona.get("/editor/actors/stadt/replies")
    assert good in hrefs(page.text) and not [h for h in hrefs(page.text) if "javascript" in h]


async def test_a_platform_reply_with_a_javascript_url_is_stored_without_it(bridge):
    post_id = await bridge.post("Wie gefällt Ihnen der neue Spielplatz?", mirrors=("masto",))
    await bridge.run()
    hostile, fine = platform_reply(1, "Toll"), platform_reply(2, "Auch gut")
    hostile["url"] = "javascript:alert(1)"
    bridge.mastodon.descendants = [hostile, fine]
    await bridge.make_due(mirroring.BACKFEED_JOB)
    await bridge.run()
    vault = bridge.worker.ctx.federation.vault
    async with bridge.sessions() as s:
        rows = (await s.execute(select(Reply, Subject).join(Subject, Subject.id == Reply.subject_id)
                                .where(Reply.post_id == post_id).order_by(Reply.id))).all()
    urls = sorted((open_reply(vault, subject, reply).content_html, open_reply(vault, subject, reply).url)
                  for reply, subject in rows)
    assert [u for _, u in urls] == ["https://social.example/@anna/2", None], urls


async def test_a_foreign_name_and_text_are_isolated_on_the_public_page_in_moderation_and_for_the_dpo(
        stadt, mastodon, visitors):
    post_id, alice, reply_id = await reply_from(stadt, mastodon, {"content": SPOOFED_TEXT}, name="mallory",
                                                profile={"name": SPOOFED_NAME})
    mona = await shown_publicly(stadt, mastodon, visitors, alice, reply_id)
    page = await public_page(stadt, post_id)
    assert f"<bdi>{SPOOFED_NAME}</bdi>" in page
    assert re.search(r'<div class="content" dir="auto">\s*<p>Offizielle Mitteilung' + RLO, page)
    moderation = (await mona.get("/editor/actors/stadt/replies")).text
    assert f"<bdi>{SPOOFED_NAME}</bdi>" in moderation and "<bdi>@mallory@mastodon.test</bdi>" in moderation
    assert re.search(r'<div class="content" dir="auto">\s*<p>Offizielle Mitteilung' + RLO, moderation)
    answer_form = (await mona.get(f"/editor/replies/{reply_id}/answer")).text
    assert f"<bdi>{SPOOFED_NAME}</bdi>" in answer_form and 'dir="auto"' in answer_form
    user_id, _ = await make_user(stadt.app[SESSIONS], "dsb", role="dpo", actors=())
    officer = await signed_in(visitors(stadt), stadt.app[SESSIONS], user_id)
    await officer.get("/dpo/subject")
    record = (await officer.post("/dpo/subject", {"identifier": alice.uri, "format": "html"})).text
    assert f"<bdi>{SPOOFED_NAME}</bdi>" in record and '<blockquote dir="auto">' in record


async def test_a_javascript_url_stored_before_the_parse_rule_is_not_a_link_either(stadt, mastodon, visitors):
    """Replies stored before the rule existed keep what they were stored with; the pages check again."""
    post_id, alice, reply_id = await reply_from(stadt, mastodon, {"url": "http://mastodon.test/@alice/1"})
    vault = stadt.app[FEDERATION].vault
    async with stadt.app[SESSIONS].begin() as session:
        reply = await session.get(Reply, reply_id)
        subject = await session.get(Subject, reply.subject_id)
        reply.enc_url = vault.seal(subject, "reply.url", "javascript:alert(document.cookie)")
    mona = await shown_publicly(stadt, mastodon, visitors, alice, reply_id)
    page = await public_page(stadt, post_id)
    assert "Danke für die Info!" in page
    assert not [h for h in hrefs(page) if "javascript" in h.lower()], hrefs(page)
    moderation = await mona.get("/editor/actors/stadt/replies")
    assert moderation.has("Danke für die Info!")
    assert not [h for h in hrefs(moderation.text) if "javascript" in h.lower()]
