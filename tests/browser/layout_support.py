"""For the layout walks: a seeded instance with long texts, long URLs and many audit entries, the GET routes of
the editorial, admin and DPO areas from the app's router, and the checks a German DPO would make of a page
(no horizontal scrollbar; no English, no raw codes)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bridge.store.events import PostEvent
from bridge.app import create_app
from bridge.auth.tokens import create_token
from bridge.auth.users import create_user
from bridge.delivery.domain_blocks import BlockReason, block
from bridge.privacy.rights import erase_person, signer_for, vault_for
from bridge.store.db import utcnow
from bridge.store.models import Actor, Post, PostState
from bridge.web.labels import REASON
from consent.audit import Action, Event, Outcome, record
from consent.replies import ReplyFacts, store_reply
from consent.requests import RequestKind, open_request
from consent.signals import ProfileSignals, reply_snapshot
from consent.subjects import ActorFacts, remember_actor

PASSWORD = "ein-langes-passwort-123"
LONG_WORD = "Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichenherstellungsbetrieb" * 4
LONG_URL = "https://www.stadt-teststadt.example/rathaus/bekanntmachungen/2026/12/" + "abfallkalender-" * 20 + "x.pdf"
LONG_TEXT = (f"Sperrung der Brücke am Stadthafen ab Montag. {LONG_WORD} Alle Einzelheiten: {LONG_URL} "
             "#Verkehr #Umleitung")
PLATFORMS = [{"id": pid, "kind": kind, "api_base": "http://127.0.0.1:9", "recipient": "Betreiber GmbH " + LONG_WORD[:40],
              "country": "US", "transfer_mechanism": "SCC", **extra}
             for pid, kind, extra in (("bsky", "bluesky", {"handle": "stadt.bsky.social", "app_password": "x",
                                                            "appview": "http://127.0.0.1:9"}),
                                      ("masto", "mastodon", {"access_token": "t"}),
                                      ("tg", "telegram", {"bot_token": "1:A", "chat_id": "@stadt"}))]
PERSON = "https://mastodon.test/users/" + "bruno_" * 10
CARLA = "https://mastodon.test/users/carla"
AREAS = ("/editor", "/admin", "/dpo", "/password")
NOT_PAGES = ("/dpo/audit/export", "/proof", "/key.pem", "/admin", ".csv", ".json",  # files, and a redirect
             "/oauth/callback")  # where a platform sends the admin back: without its state, a 400 page
# Words that give away an untranslated text; URLs, code and pre blocks are left out before looking.
ENGLISH = re.compile(r"\b(the|and|with|your|you|this|were|is|are|has|have|of|to|for|not|from|by|been|"
                     r"Sign out|Settings|Dashboard|Visibility|entries|Page|Back|Erased|Download|public|E-mail)\b")
RAW = re.compile("|".join(re.escape(c) for c in sorted({*map(str, Action), *(k for k in REASON if "_" in k)},
                                                        key=len, reverse=True)))


@dataclass
class Seeded:
    admin_id: int
    draft_id: int
    published_id: int
    reply_id: int
    erasure_seq: int


async def seed(sessions, config) -> Seeded:
    vault = vault_for(config)
    async with sessions.begin() as session:
        admin, _ = await create_user(session, "amelie", "admin", ["stadt"], password=PASSWORD)
        dpo, _ = await create_user(session, "dora", "dpo", [], password=PASSWORD)
        for user in (admin, dpo):
            user.must_change_password, user.language = False, "de"
        actor_id = await session.scalar(select(Actor.id).where(Actor.name == "stadt"))
        draft = Post(actor_id=actor_id, state=PostState.DRAFT, text=LONG_TEXT, language="de",
                     mirrors=["bsky", "masto", "tg"], spoiler_text="")
        published = Post(actor_id=actor_id, state=PostState.PUBLISHED, text=LONG_TEXT, language="de", mirrors=[],
                         published_at=utcnow())
        session.add_all([draft, published])
        await session.flush()
        # the draft announces an event, so that the event's own form is walked too
        session.add(PostEvent(post_id=draft.id, title="Bürgerversammlung " + LONG_WORD[:60], timezone="Europe/Berlin",
                              starts_at=utcnow() + timedelta(days=30), place_name="Ratssaal " + LONG_WORD[:40],
                              online_url=LONG_URL))
        replies = []
        for uri in (PERSON, CARLA):
            subject = await remember_actor(session, vault, ActorFacts(
                uri=uri, inbox=uri + "/inbox", handle="@" + uri.rsplit("/", 1)[1] + "@mastodon.test",
                name="Bruno " + LONG_WORD[:60]))
            replies.append(await store_reply(session, vault, subject, ReplyFacts(
                object_id=uri + "/statuses/" + "1" * 40, actor_name="stadt", post_id=published.id,
                content_html=f"<p>{LONG_WORD} <a href=\"{LONG_URL}\">{LONG_URL}</a></p>",
                signals=reply_snapshot(ProfileSignals(), "public")), timedelta(days=180)))
        await _audit(session)
        await open_request(session, RequestKind.ACCESS, "ab" * 16, utcnow() - timedelta(days=40))
        await block(session, "spam." + "sehr-lange-subdomain-" * 8 + "example", BlockReason.SPAM, "user:1",
                    "127.0.0.1", utcnow())
        await create_token(session, "amelie", "stadt", label="Skript für den Abfallkalender " + LONG_WORD[:80])
        ids = (admin.id, draft.id, published.id, replies[0].reply_id)
    erased = await erase_person(sessions, vault, signer_for(config), CARLA, ("dpo", "user:2"))
    return Seeded(*ids, erasure_seq=erased.document["index"])


async def _audit(session) -> None:
    """Many entries of every kind a DPO meets, with long details."""
    now = utcnow()
    for n in range(70):
        await record(session, Event(Action.INBOUND_REJECTED, "remote", "remote", Outcome.DENIED, reason="refused_scheme",
                                    details={"url": LONG_URL, "n": n}), now)
    await record(session, Event(Action.PASSWORD_CHANGED, "editor", "user:1"), now)
    await record(session, Event(Action.PLATFORM_TRANSFER, "system", "system", subject_ref="post:1", details={
        "platform": "bsky", "recipient": "Betreiber GmbH " + LONG_WORD, "country": "US", "mechanism": "SCC",
        "action": "create"}), now)


def pages(config, seeded: Seeded) -> list[str]:
    """Every GET page of the areas, from the router (a new page is walked without editing the test)."""
    values = {"post_id": seeded.draft_id, "actor": "stadt", "name": "stadt", "user_id": seeded.admin_id, "reply_id": seeded.reply_id,
              "seq": seeded.erasure_seq}
    found = set()
    for resource in create_app(config, run_worker=False).router.resources():
        if not any(route.method == "GET" for route in resource) or not resource.canonical.startswith(AREAS):
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), resource.canonical)  # a new id: add it
        if not path.endswith(NOT_PAGES):
            found.add(path)
    found.add(f"/editor/posts/{seeded.published_id}")
    return sorted(found)


def visible_text_script() -> str:
    """The text a reader sees, without code, pre blocks and form values (experts' details, typed input)."""
    return """() => { const copy = document.body.cloneNode(true);
        copy.querySelectorAll('code, pre, textarea, script, style').forEach(e => e.remove());
        return copy.innerText; }"""


def problems_with_the_words(text: str) -> list[str]:
    text = re.sub(r"\S*://\S*|\S+@\S+", " ", text)  # addresses are not words
    found = [m.group(0) for m in ENGLISH.finditer(text)]
    found += [m.group(0) for m in RAW.finditer(text)]
    if "Sichtbarkeit: public" in text:
        found.append("Sichtbarkeit: public")
    return found


async def horizontal_overflow(page) -> int:
    """How many pixels the page is wider than the window (0: no horizontal scrollbar)."""
    return await page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def screenshot_dir(tmp_path: Path) -> Path:
    """STADTBOTE_SCREENSHOTS keeps them for a person to look at; otherwise the test's own folder."""
    folder = Path(os.environ.get("STADTBOTE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
