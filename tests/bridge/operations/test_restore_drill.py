"""The restore drill of the production checklist, on a running instance: followers, posts with images, a
reply and the audit log; `stadtbote backup` while it serves; wipe; `stadtbote restore`; start again. The
same posts and images are served, a follower's server still receives and verifies a new post (the keys
came back), and the audit log verifies against the key the DPO pinned before the backup."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import stat
import sys
from pathlib import Path

from PIL import Image
from sqlalchemy import func, inspect, select, table

from activitypub.uris import Uris
from bridge.app import create_app
from bridge.appkeys import CONFIG, SESSIONS
from bridge.auth.users import find_user
from bridge.cli.bootstrap import bootstrap
from bridge.config.load import load_config
from bridge.operations.databases import SQLITE, database_kind, empty_postgres, sqlite_files
from bridge.privacy.rights import signer_for
from bridge.publishing import posts
from bridge.publishing.uploads import upload_image
from bridge.store.db import create_engine, create_sessionmaker
from bridge.store.models import Media, Role
from fakes.fediverse import AP_TYPE, mastodon_follow, mastodon_reply
from support.inbox import instances, network, run_jobs  # noqa: F401
from testkit import add_user

ROOT = Path(__file__).parents[3]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
CITY = Uris.for_base("http://stadt.test").actor("stadt")


def drill_config(folder: Path, db_url: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(f"""
[instance]
base_url = "http://stadt.test"
name = "Stadt Teststadt"
listen = "127.0.0.1:0"
data_dir = "data"
language = "en"

[database]
url = "{db_url}"

[federation]
allow_private_addresses = true

[[actors]]
name = "stadt"
display_name = "Stadt Teststadt"

[[actors]]
name = "feuerwehr"
require_approval = true
""", encoding="utf-8")
    return path


async def stadtbote(*argv: str) -> tuple[int, str, str]:
    """The real command in its own process, as an operator (or cron) runs it next to the server."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bridge", *argv, env=ENV,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()


async def start(aiohttp_client, network, config):
    client = await aiohttp_client(create_app(config, run_worker=False, resolver=network,
                                             public_overrides=("127.0.0.0/8",)))
    network.add("stadt.test", client.server.port)
    return client


def png(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "PNG")
    return out.getvalue()


async def publish(client, text: str, images: list[tuple[bytes, str]]) -> int:
    config = client.app[CONFIG]
    async with client.app[SESSIONS].begin() as session:
        user = await find_user(session, "erika")
        media = []
        for raw, alt in images:
            uploaded = await upload_image(session, config, user, "stadt", raw, alt)
            assert uploaded.ok, uploaded.description
            media.append(uploaded.media.id)
        result = await posts.create_post(session, config, user, posts.Draft("stadt", text, media_ids=tuple(media)))
        assert result.ok, result.reason
        return result.post.id


async def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        counts = {name: await conn.scalar(select(func.count()).select_from(table(name))) for name in names}
    await engine.dispose()
    return counts


async def served(client, post_id: int) -> dict[str, bytes]:
    """What readers and servers get: the permalink page, the Note, and every image of the post."""
    got = {}
    async with client.get(f"/@stadt/{post_id}") as resp:
        assert resp.status == 200
        got["page"] = (await resp.text()).count("<img")
    async with client.get(f"/users/stadt/statuses/{post_id}", headers={"Accept": AP_TYPE}) as resp:
        assert resp.status == 200
        note = await resp.json(content_type=None)
    got["note"] = note["content"]
    for attachment in note.get("attachment", []):
        path = "/" + attachment["url"].split("/", 3)[3]
        async with client.get(path) as resp:
            assert resp.status == 200
            got[path] = await resp.read()
    return got


async def public_key(client) -> str:
    async with client.get("/users/stadt", headers={"Accept": AP_TYPE}) as resp:
        return (await resp.json(content_type=None))["publicKey"]["publicKeyPem"]


async def wipe(config) -> None:
    shutil.rmtree(config.instance.data_dir)
    if database_kind(config.database.url) == SQLITE:
        for path in sqlite_files(config.database.url):
            path.unlink(missing_ok=True)
    else:
        await empty_postgres(config.database.url)


async def test_backup_wipe_restore_start_serves_delivers_and_verifies(aiohttp_client, tmp_path, db_url, network,
                                                                    instances, test_password_hash):
    config_path = drill_config(tmp_path / "site", db_url)
    config = load_config(config_path)
    engine = create_engine(db_url)
    await bootstrap(engine, create_sessionmaker(engine), config)
    await engine.dispose()
    stadt = await start(aiohttp_client, network, config)
    async with stadt.app[SESSIONS].begin() as session:
        await add_user(session, "erika", Role.EDITOR, ["stadt"], test_password_hash)

    mastodon = await instances("mastodon.test")
    alice = mastodon.add_actor("alice")
    assert (await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice))[0] == 202
    first = await publish(stadt, "Das Freibad öffnet am Samstag.", [(png("blue"), "Ein leeres Becken"),
                                                                     (png("green"), "Die Liegewiese")])
    second = await publish(stadt, "Die Stadtbibliothek hat neue Öffnungszeiten.", [(png("red"), "Das Portal")])
    await run_jobs(stadt)
    assert [r.json["type"] for r in mastodon.received].count("Create") == 2
    assert all(r.verified for r in mastodon.received)
    note = Uris.for_base("http://stadt.test").note("stadt", str(first))
    assert (await mastodon.sign_and_post(stadt, mastodon_reply(alice, note, CITY), alice))[0] == 202
    await run_jobs(stadt)
    pinned = tmp_path / "audit.pem"  # the DPO pinned the log's key long before anything went wrong
    pinned.write_text(signer_for(config).public_pem())

    key = await public_key(stadt)
    before = {post_id: await served(stadt, post_id) for post_id in (first, second)}
    assert sum(len(got) - 2 for got in before.values()) == 3  # three images
    counts = await row_counts(db_url)
    assert counts["follower"] == 1 and counts["reply"] == 1 and counts["audit_entry"] > 5

    archive = tmp_path / "backup" / "stadtbote.tar"
    archive.parent.mkdir()
    code, out, err = await stadtbote("backup", "--out", str(archive), "--config", str(config_path))  # online
    assert code == 0, err
    assert out.startswith(f"Wrote {archive}") and "private keys" in out
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    await stadt.close()

    await wipe(config)
    code, out, err = await stadtbote("restore", str(archive), "--config", str(config_path))
    assert code == 0, err
    assert out.startswith(f"Restored {archive}") and "and 5 files" in out  # 3 images, the secret, the log key
    assert await row_counts(db_url) == counts
    data_dir = config.instance.data_dir
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    for path in data_dir.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path

    engine = create_engine(db_url)
    again = await bootstrap(engine, create_sessionmaker(engine), config)
    await engine.dispose()
    assert again.actors_created == [] and again.admin_password is None and again.migrations == []
    restored = await start(aiohttp_client, network, config)
    assert {post_id: await served(restored, post_id) for post_id in (first, second)} == before
    assert await public_key(restored) == key  # what followers' servers have cached still verifies

    mastodon.received.clear()
    third = await publish(restored, "Neu nach dem Umzug.", [(png("white"), "Ein weißes Bild")])
    await run_jobs(restored)
    creates = [r for r in mastodon.received if r.json["type"] == "Create"]
    assert [r.json["object"]["id"] for r in creates] == [Uris.for_base("http://stadt.test").note("stadt", str(third))]
    assert creates[0].verified and creates[0].key_id == CITY + "#main-key"

    export = tmp_path / "log.json"
    code, _, err = await stadtbote("audit", "export", "--out", str(export), "--config", str(config_path))
    assert code == 0, err
    code, out, err = await stadtbote("audit", "verify", str(export), "--key", str(pinned))
    assert code == 0 and out.startswith("ok: "), out + err


async def test_a_backup_taken_while_posts_with_images_are_written_is_consistent(aiohttp_client, tmp_path, db_url,
                                                                               empty_db_url, network,
                                                                               test_password_hash):
    """Online means while editors publish: every image row of the snapshot has its file in the backup."""
    config_path = drill_config(tmp_path / "site", db_url)
    config = load_config(config_path)
    engine = create_engine(db_url)
    await bootstrap(engine, create_sessionmaker(engine), config)
    await engine.dispose()
    stadt = await start(aiohttp_client, network, config)
    async with stadt.app[SESSIONS].begin() as session:
        await add_user(session, "erika", Role.EDITOR, ["stadt"], test_password_hash)
    stop = asyncio.Event()

    async def keep_publishing() -> int:
        n = 0
        while not stop.is_set():
            await publish(stadt, f"Beitrag {n}", [(png((n % 256, 80, 160)), f"Bild {n}")])
            n += 1
        return n

    writer = asyncio.create_task(keep_publishing())
    await asyncio.sleep(0.3)
    archive = tmp_path / "online.tar"
    code, _, err = await stadtbote("backup", "--out", str(archive), "--config", str(config_path))
    stop.set()
    written = await writer
    assert code == 0, err

    target_path = drill_config(tmp_path / "target", empty_db_url)
    code, _, err = await stadtbote("restore", str(archive), "--config", str(target_path))
    assert code == 0, err
    engine = create_engine(empty_db_url)
    async with create_sessionmaker(engine)() as session:
        files = (await session.scalars(select(Media.filename))).all()
    await engine.dispose()
    assert 0 < len(files) <= written
    source, restored = config.instance.data_dir / "media", load_config(target_path).instance.data_dir / "media"
    for name in files:
        assert (restored / name).read_bytes() == (source / name).read_bytes(), name
