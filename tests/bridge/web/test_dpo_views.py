"""The DPO's views: a DPO (or admin) browses, filters, pages and exports the log, verifies it, sees the
transfer log, the register and the requests with their deadlines, and acts on a person's rights; an
editor gets 403 everywhere; every form needs the CSRF token."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select

from bridge.appkeys import FEDERATION, SESSIONS
from bridge.privacy.register import build_register
from bridge.store.db import utcnow
from consent.audit import Action, Event, Outcome, record
from consent.checkpoint import load_public_key_pem, VerifierKey
from consent.models_privacy import RightsRequest, SecurityEvent
from consent.replies import ReplyFacts, store_reply
from consent.subjects import ActorFacts, remember_actor
from consent.verifier import verify_export, verify_proof_document
from support.web import editor, make_user, sign_in, signed_in, visitors  # noqa: F401

PAGES = ("/dpo", "/dpo/audit", "/dpo/checkpoints", "/dpo/transfers", "/dpo/register", "/dpo/requests",
         "/dpo/subject")
BRUNO = "https://mastodon.test/users/bruno"


async def dpo(visitors, sessions):
    user_id, _ = await make_user(sessions, "dsb", role="dpo", actors=())
    return await signed_in(visitors(), sessions, user_id)


async def add_bruno(client) -> None:
    vault = client.app[FEDERATION].vault
    async with client.app[SESSIONS].begin() as session:
        subject = await remember_actor(session, vault, ActorFacts(BRUNO, BRUNO + "/inbox", handle="@bruno@mastodon.test",
                                                                  name="Bruno Brückenbauer"))
        await store_reply(session, vault, subject, ReplyFacts(BRUNO + "/notes/1", "stadt", None, "<p>Die Ampel!</p>"),
                          timedelta(days=180), utcnow())


async def test_every_dpo_page_opens_for_a_dpo_and_is_forbidden_to_an_editor(visitors, sessions):
    officer = await dpo(visitors, sessions)
    erika = await editor(visitors, sessions, "erika")
    for path in PAGES:
        assert (await officer.get(path)).status == 200, path
        assert (await erika.get(path)).status == 403, path
    assert (await erika.get("/dpo/audit/export")).status == 403
    for path in ("/dpo/subject", "/dpo/subject/erase", "/dpo/subject/object", "/dpo/requests"):
        assert (await erika.post(path, {"identifier": BRUNO})).status == 403, path


async def test_the_log_can_be_filtered_paged_and_exported_and_the_export_verifies(visitors, sessions, client):
    async with sessions.begin() as session:
        for n in range(60):
            await record(session, Event(Action.SIGNIN_FAILED, "anonymous", "anonymous", Outcome.DENIED,
                                        reason="wrong_credentials", details={"n": n}))
    officer = await dpo(visitors, sessions)
    page = await officer.get("/dpo/audit?action=signin.failed&outcome=denied")
    assert page.has("60 entries") and page.has("Page 1 of 2") and "page=2" in page.text
    assert (await officer.get("/dpo/audit?action=signin.failed&page=2")).has('"n": 9')
    today = utcnow().date()
    assert (await officer.get(f"/dpo/audit?action=signin.failed&to={today - timedelta(days=1)}")).has("0 entries")
    assert (await officer.get(f"/dpo/audit?action=signin.failed&from={today}")).has("60 entries")
    async with officer.session.get(officer.url("/dpo/audit/export")) as response:
        assert response.status == 200 and "attachment" in response.headers["Content-Disposition"]
        exported = json.loads(await response.text())
    checkpoints = await officer.get("/dpo/checkpoints")
    key = VerifierKey(exported["origin"], load_public_key_pem(
        checkpoints.text.split("<pre>")[1].split("</pre>")[0].encode()))
    assert verify_export(exported, key, exported["origin"]).ok
    assert exported["entries"][-1]["leaf"]["action"] == "audit.exported"
    assert (await officer.get("/dpo/checkpoints?verify=1")).has("The log verifies")


async def test_a_dpo_exports_a_person_as_page_and_json_and_a_stranger_is_reported(visitors, sessions, client):
    await add_bruno(client)
    officer = await dpo(visitors, sessions)
    await officer.get("/dpo/subject")
    page = await officer.post("/dpo/subject", {"identifier": "@bruno@mastodon.test", "format": "html"})
    assert page.status == 200 and page.has("Bruno Brückenbauer") and page.has("Die Ampel!")
    doc = json.loads((await officer.post("/dpo/subject", {"identifier": BRUNO, "format": "json"})).text)
    assert doc["replies"][0]["content_html"] == "<p>Die Ampel!</p>"
    await officer.get("/dpo/subject")
    page = await officer.post("/dpo/subject", {"identifier": "https://nowhere.test/users/x", "format": "html"})
    assert page.status == 404 and page.has("No data is stored about this person")


async def test_erasure_asks_first_then_leads_to_a_receipt_whose_proof_verifies(visitors, sessions, client):
    await add_bruno(client)
    officer = await dpo(visitors, sessions)
    await officer.get("/dpo/subject")
    assert (await officer.post("/dpo/subject/erase", {"identifier": BRUNO}, csrf=False)).status == 403
    confirm = await officer.post("/dpo/subject/erase", {"identifier": BRUNO})
    assert confirm.has("This cannot be undone") and 'name="confirm"' in confirm.text
    done = await officer.post("/dpo/subject/erase", {"identifier": BRUNO, "confirm": "yes"})
    assert done.status == 303 and re.fullmatch(r"/dpo/erasures/\d+", done.location)
    receipt = await officer.get(done.location)
    assert receipt.status == 200 and receipt.has("Confirmation of erasure") and receipt.has("replies and comments: 1")
    assert receipt.has("How to check it") and "{" not in receipt.text.split("<main")[1]  # a page, not JSON
    async with officer.session.get(officer.url(done.location + "/proof")) as response:
        assert response.status == 200 and "attachment" in response.headers["Content-Disposition"]
        proof = json.loads(await response.text())
    async with officer.session.get(officer.url("/dpo/checkpoints/key.pem")) as response:
        key = VerifierKey(proof["origin"], load_public_key_pem(await response.read()))
    assert verify_proof_document(proof, key, proof["origin"]).ok and proof["entry"]["actor_role"] == "dpo"
    assert proof["entry"]["action"] == "subject.erased" and done.location.endswith(f"/{proof['index']}")
    await officer.get("/dpo/subject")
    again = await officer.post("/dpo/subject/erase", {"identifier": BRUNO, "confirm": "yes"})
    assert again.status == 404 and again.has("erased before")


async def test_requests_have_a_one_month_deadline_and_overdue_ones_are_marked(visitors, sessions, client):
    officer = await dpo(visitors, sessions)
    await officer.get("/dpo/requests")
    assert (await officer.post("/dpo/requests", {"kind": "access", "identifier": BRUNO, "received": "2026-01-31"},
                               csrf=False)).status == 403
    page = await officer.post("/dpo/requests", {"kind": "access", "identifier": BRUNO, "received": "2026-01-31"})
    assert page.status == 303
    page = await officer.get("/dpo/requests")
    assert page.has("Feb 28, 2026") and page.has("overdue")
    async with sessions() as session:
        row = await session.scalar(select(RightsRequest))
    await add_bruno(client)
    await officer.post("/dpo/subject", {"identifier": BRUNO, "format": "json"})  # answering closes it
    async with sessions() as session:
        row = await session.get(RightsRequest, row.id)
    assert (row.state, row.outcome) == ("done", "answered")
    await officer.get("/dpo/requests")
    objection = await officer.post("/dpo/subject/object", {"identifier": "https://mastodon.test/users/carla"})
    assert objection.status == 200 and objection.has("Objection recorded")


async def test_a_sign_in_is_written_to_the_security_log_with_the_address(visitors, sessions, client):
    _, password = await make_user(sessions, "dsb2", role="dpo", actors=())
    await sign_in(visitors(), "dsb2", password)
    await sign_in(visitors(), "dsb2", "wrong password here")
    async with sessions() as session:
        events = (await session.scalars(select(SecurityEvent).order_by(SecurityEvent.id))).all()
    assert [(e.kind, e.address) for e in events] == [("ok", "127.0.0.1"), ("wrong_credentials", "127.0.0.1")]
    assert events[0].user_ref.startswith("user:") and events[1].user_ref is None


async def test_the_dpo_reads_the_log_in_german_with_the_codes_only_in_titles(visitors, sessions, client):
    async with sessions.begin() as session:
        await record(session, Event(Action.PASSWORD_CHANGED, "editor", "user:7"))
        await record(session, Event(Action.INBOUND_REJECTED, "remote", "remote", Outcome.DENIED,
                                    reason="refused_scheme"))
        await record(session, Event(Action.REQUEST_OPENED, "dpo", "user:8", reason="access"))
    officer = await dpo(visitors, sessions)
    await officer.post("/language", {"language": "de"})
    page = await officer.get("/dpo/audit")
    for german in ("Passwort geändert", "Nachricht aus dem Fediverse abgewiesen", "abgewiesen", "Ersuchen erfasst",
                   "Link abgewiesen (nur http und https)", "Auskunft (Art. 15)",
                   "Art. 6 Abs. 1 lit. c DSGVO (rechtliche Verpflichtung)", "Redaktion"):
        assert page.has(german), german
    for raw in ("password.changed", "refused_scheme", "inbound.rejected", "gdpr_6_1_c", "(access)", "Time (UTC)"):
        assert not page.has(raw), raw
    assert 'title="password.changed"' in page.text and 'title="refused_scheme"' in page.text
    assert '<option value="password.changed">Passwort geändert</option>' in page.text


async def test_the_erasure_receipt_is_german_and_only_for_the_dpo(visitors, sessions, client):
    await add_bruno(client)
    officer = await dpo(visitors, sessions)
    await officer.post("/language", {"language": "de"})
    await officer.get("/dpo/subject")
    done = await officer.post("/dpo/subject/erase", {"identifier": BRUNO, "confirm": "yes"})
    receipt = await officer.get(done.location)
    for german in ("Bestätigung der Löschung", "Stadt Teststadt hat die personenbezogenen Daten gelöscht",
                   "Antworten und Kommentare: 1", "Profil (Name, Kennung, Adresse des Servers): 1",
                   "Der Schlüssel, mit dem Ihre Daten verschlüsselt waren, wurde vernichtet",
                   "So können Sie die Löschung prüfen", "Nachweis herunterladen (JSON)", "Datenschutzbeauftragte(r)"):
        assert receipt.has(german), german
    assert not receipt.has("Erased") and not receipt.has("key_destroyed")
    erika = await editor(visitors, sessions, "erika")
    for path in (done.location, done.location + "/proof", "/dpo/checkpoints/key.pem"):
        assert (await erika.get(path)).status == 403, path
    assert (await officer.get("/dpo/erasures/1")).status == 404  # an entry that is no erasure
    assert (await officer.get("/dpo/erasures/999999")).status == 404


async def test_the_register_reads_german_for_a_german_dpo_and_configured_text_stays_as_written(
        visitors, sessions, client, config):
    officer = await dpo(visitors, sessions)
    await officer.post("/language", {"language": "de"})
    page = await officer.get("/dpo/register")
    built_in = build_register(config, utcnow())
    english = {a["purpose"] for a in built_in["activities"]} | set(built_in["measures"]) \
        | {r["category"] for r in built_in["retention"]}
    assert page.status == 200 and [text for text in english if " " in text and page.has(text)] == []
    for german in ("Veröffentlichen", "Öffentlichkeitsarbeit: die Beiträge der Behörde", "180 Tage",
                   "vom Verantwortlichen zu ergänzen", "Art. 6 Abs. 1 lit. e DSGVO (öffentliche Aufgabe)"):
        assert page.has(german), german
