"""The privacy verbs as an administrator and a DPO use them: audit pubkey/checkpoint/export/verify (also
of a tampered file), register in three formats, subject export/erase/object, retention run."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from bridge.cli.main import main
from bridge.store.db import create_engine, create_sessionmaker, utcnow
from bridge.privacy.rights import vault_for
from bridge.config.load import load_config
from consent.followers import add_follower
from consent.replies import ReplyFacts, store_reply
from consent.subjects import ActorFacts, remember_actor
from testkit import write_config

ALICE = "https://mastodon.test/users/alice"
PLATFORMS = """
[[platforms]]
id = "bsky"
kind = "bluesky"
api_base = "https://bsky.test"
handle = "stadt.bsky.test"
app_password = "secret"
recipient = "Bluesky Social PBC"
country = "US"
transfer_mechanism = "EU-US Data Privacy Framework"

[register]
controller_address = "Rathausplatz 1, 12345 Teststadt"
public_task_law = "§ 4 LDSG i. V. m. GemO"
"""


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cli(capsys, tmp_path, empty_db_url):
    path = str(write_config(tmp_path, empty_db_url, extra=PLATFORMS))
    assert main(["db", "upgrade", "--config", path]) == 0
    capsys.readouterr()
    return path


async def add_alice(path: str) -> None:
    config = load_config(path)
    vault = vault_for(config)
    engine = create_engine(config.database.url)
    async with create_sessionmaker(engine).begin() as session:
        subject = await remember_actor(session, vault, ActorFacts(
            ALICE, "https://mastodon.test/users/alice/inbox", handle="@alice@mastodon.test", name="Alice Wunderlich"))
        await add_follower(session, vault, subject, "stadt", "https://mastodon.test/follows/1")
        await store_reply(session, vault, subject, ReplyFacts(
            "https://mastodon.test/notes/1", "stadt", None, "<p>Wann öffnet das Freibad?</p>"),
            timedelta(days=180), utcnow())
    await engine.dispose()


def test_pubkey_checkpoint_export_and_verify_round_trip(capsys, cli, tmp_path):
    code, pem, _ = run(capsys, "audit", "pubkey", "--config", cli)
    assert code == 0 and pem.startswith("-----BEGIN PUBLIC KEY-----")
    (tmp_path / "pub.pem").write_text(pem)
    code, note, _ = run(capsys, "audit", "checkpoint", "--config", cli)
    assert code == 0 and note.startswith("127.0.0.1:8080/audit\n")
    out = tmp_path / "audit.json"
    assert run(capsys, "audit", "export", "--out", str(out), "--config", cli)[0] == 0
    code, text, _ = run(capsys, "audit", "verify", str(out), "--key", str(tmp_path / "pub.pem"))
    entries = len(json.loads(out.read_text())["entries"])
    assert code == 0 and text.strip().startswith(f"ok: {entries} entries")


@pytest.mark.parametrize("tamper, expected", [
    (lambda e: e["entries"][2]["leaf"].update(outcome="denied"), "failed: entry 2: leaf_hash_mismatch"),
    (lambda e: e["entries"].pop(3), "failed: entry 3: sequence_gap"),
    (lambda e: e["entries"].insert(1, e["entries"][4]), "failed: entry 1: "),  # a copy of entry 4 stands at 1
    (lambda e: e["checkpoints"].clear(), "no_checkpoint"),
])
def test_a_tampered_export_fails_with_one_line_naming_the_entry(capsys, cli, tmp_path, tamper, expected):
    pem = run(capsys, "audit", "pubkey", "--config", cli)[1]
    (tmp_path / "pub.pem").write_text(pem)
    out = tmp_path / "audit.json"
    run(capsys, "audit", "export", "--out", str(out), "--config", cli)
    export = json.loads(out.read_text())
    tamper(export)
    out.write_text(json.dumps(export))
    code, text, _ = run(capsys, "audit", "verify", str(out), "--key", str(tmp_path / "pub.pem"))
    assert code == 1 and len(text.strip().splitlines()) == 1 and expected in text, text


def test_verify_with_another_key_fails_and_needs_no_config(capsys, cli, tmp_path, monkeypatch):
    out = tmp_path / "audit.json"
    run(capsys, "audit", "export", "--out", str(out), "--config", cli)
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)  # no config.toml here: verify runs without one
    write_config(other, "sqlite+aiosqlite:///" + str(other / "x.sqlite3"))
    (other / "config.toml").unlink()
    key = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEATHSsYMpq5f7ZtoB4eCzk/4EAbiNNMFssxUht8c9zUJA=\n-----END PUBLIC KEY-----\n"
    (other / "k.pem").write_text(key)
    code, text, _ = run(capsys, "audit", "verify", str(out), "--key", str(other / "k.pem"))
    assert code == 1 and "checkpoint_invalid" in text


@pytest.mark.parametrize("fmt, marker", [("markdown", "# Record of processing activities"),
                                         ("html", "<h1>Record of processing activities</h1>"),
                                         ("json", '"format": "stadtbote-art30-register/1"')])
def test_register_formats_name_controller_platform_transfer_and_retention(capsys, cli, fmt, marker):
    code, text, _ = run(capsys, "register", "--format", fmt, "--config", cli)
    assert code == 0 and marker in text
    for needle in ("Rathausplatz 1, 12345 Teststadt", "Bluesky Social PBC", "EU-US Data Privacy Framework",
                   "§ 4 LDSG i. V. m. GemO", "180 days"):
        assert needle in text, (fmt, needle)
    if fmt == "json":
        data = json.loads(text)
        assert [t["country"] for t in data["transfers"]] == ["US"]


def test_subject_export_of_a_follower_who_replied_and_of_a_stranger(capsys, cli, tmp_path):
    asyncio.run(add_alice(cli))
    for who in (ALICE, "@Alice@mastodon.test"):
        code, text, _ = run(capsys, "subject", "export", who, "--config", cli)
        doc = json.loads(text)
        assert code == 0 and doc["profile"]["name"] == "Alice Wunderlich"
        assert doc["follows"][0]["account"] == "stadt"
        assert doc["replies"][0]["content_html"] == "<p>Wann öffnet das Freibad?</p>"
        assert {p["id"] for p in doc["processing"]} >= {"federation", "moderation"}
        assert doc["transfers"] == [] and doc["recipients"][0]["role"].startswith("controller")
        assert doc["consent_receipts"] == []
    out = tmp_path / "alice.json"
    assert run(capsys, "subject", "export", ALICE, "--out", str(out), "--config", cli)[0] == 0
    assert json.loads(out.read_text())["subject"]["kind"] == "fediverse"
    code, text, err = run(capsys, "subject", "export", "https://nowhere.test/users/bob", "--config", cli)
    assert code == 1 and text == "" and err.strip() == (
        "stadtbote: no data is stored about this person (unknown identifier)")


def test_subject_erase_prints_a_proof_and_a_second_erase_says_so(capsys, cli, tmp_path):
    asyncio.run(add_alice(cli))
    code, text, _ = run(capsys, "subject", "erase", ALICE, "--config", cli)
    proof = json.loads(text)
    assert code == 0 and proof["format"] == "stadtbote-inclusion-proof/1"
    assert proof["entry"]["action"] == "subject.erased" and proof["entry"]["details"]["replies"] == 1
    code, _, err = run(capsys, "subject", "erase", ALICE, "--config", cli)
    assert code == 1 and "erased before" in err
    code, text, _ = run(capsys, "subject", "export", ALICE, "--config", cli)
    doc = json.loads(text)
    assert doc["profile"] is None and doc["replies"] == [] and doc["subject"]["erased_at"]


def test_subject_object_and_retention_run(capsys, cli):
    code, _, err = run(capsys, "subject", "object", "@carol@mastodon.test", "--config", cli)
    assert code == 1 and "give their actor URI" in err  # a handle of a stranger cannot be matched later
    code, text, _ = run(capsys, "subject", "object", "https://mastodon.test/users/carol", "--config", cli)
    assert code == 0 and "Objection recorded" in text
    code, text, _ = run(capsys, "retention", "run", "--config", cli)
    assert code == 0 and "replies\t0" in text and "finished_jobs\t0" in text
