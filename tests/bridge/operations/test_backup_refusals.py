"""`stadtbote backup`, `restore` and `db check` when something is wrong: a truncated or altered file, a
newer schema, a target that is not empty, the wrong kind of database, a missing pg_dump. Each is one line
and a non-zero exit, and the target is exactly as it was before."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from alembic import command
from PIL import Image
from sqlalchemy import func, inspect, select, table

from bridge.cli.main import main
from bridge.config.load import load_config
from bridge.operations.databases import SQLITE, database_kind, sqlite_path
from bridge.store import migrator, schema
from bridge.store.db import create_engine
from testkit import write_config

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str, *words: str) -> None:
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert all(word in lines[0] for word in words), lines[0]


def site_config(folder: Path, db_url: str, extra: str = "") -> str:
    folder.mkdir(parents=True, exist_ok=True)
    return str(write_config(folder, db_url, extra=extra))


@pytest.fixture
def site(tmp_path, db_url, capsys) -> str:
    """A running installation's config: posts with an image, the audit key, the instance secret."""
    config = site_config(tmp_path / "site", db_url)
    image = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), "blue").save(image)
    assert run(capsys, "post", "--actor", "stadt", "--text", "Freibad", "--image", str(image), "--alt", "Becken",
               "--user", "admin", "--config", config)[0] == 0
    assert run(capsys, "audit", "pubkey", "--config", config)[0] == 0
    (Path(config).parent / "data" / "instance.secret").write_text("00" * 32)
    return config


@pytest.fixture
def archive(site, tmp_path, capsys) -> Path:
    path = tmp_path / "stadtbote.tar"
    code, out, err = run(capsys, "backup", "--out", str(path), "--config", site)
    assert code == 0, err
    return path


@pytest.fixture
def target(tmp_path, empty_db_url) -> str:
    """A new machine: nothing in data_dir, nothing in the database."""
    return site_config(tmp_path / "target", empty_db_url)


def fingerprint(config_path: str) -> dict:
    """Everything a restore could touch: every file of data_dir (with its bytes) and every table's rows."""
    config = load_config(config_path)
    data_dir = config.instance.data_dir
    files = {str(p.relative_to(data_dir)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
             for p in sorted(data_dir.rglob("*"))} if data_dir.exists() else None
    url = config.database.url
    if database_kind(url) == SQLITE and not sqlite_path(url).exists():
        return {"files": files, "database": None}
    return {"files": files, "database": asyncio.run(_rows(url))}


async def _rows(url: str) -> dict[str, int]:
    engine = create_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        rows = {name: await conn.scalar(select(func.count()).select_from(table(name))) for name in names}
    await engine.dispose()
    return rows


def members(path: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(path) as tar:
        return {info.name: info for info in tar.getmembers()}


def test_a_backup_holds_the_database_keys_secrets_and_media_with_their_sums(archive, site):
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
        for name, entry in manifest["members"].items():
            assert hashlib.sha256(tar.extractfile(name).read()).hexdigest() == entry["sha256"]
    assert names[-1] == "manifest.json"
    assert {"data/instance.secret", "data/audit-checkpoint.key"} <= set(names)
    assert sum(name.startswith("data/media/") for name in names) == 1
    kind = database_kind(load_config(site).database.url)
    assert manifest["database"] == {"kind": kind, "member": "database.sqlite3" if kind == SQLITE else
                                    "database.pgdump", "schema": schema.head()}
    assert manifest["format"] == "stadtbote-backup" and manifest["stadtbote_version"] and manifest["created_at"]
    assert not any("stadtbote.sqlite3" in name for name in names)  # the live file is in only as its snapshot


def test_backup_never_overwrites_and_stays_out_of_data_dir(archive, site, capsys):
    before = archive.read_bytes()
    one_line_error(*run(capsys, "backup", "--out", str(archive), "--config", site)[::2], "exists already")
    assert archive.read_bytes() == before
    inside = Path(site).parent / "data" / "b.tar"
    one_line_error(*run(capsys, "backup", "--out", str(inside), "--config", site)[::2], "inside data_dir")
    assert not inside.exists()


def _cut_points(path: Path) -> list[int]:
    found = members(path)
    database = next(info for name, info in found.items() if name.startswith("database."))
    media = next(info for name, info in found.items() if name.startswith("data/media/"))
    return [database.offset_data + database.size // 2, media.offset + 100, found["manifest.json"].offset_data + 10]


@pytest.mark.parametrize("where", [0, 1, 2], ids=["in-the-database", "in-a-header", "in-the-manifest"])
def test_a_truncated_backup_is_refused_and_nothing_is_touched(archive, target, tmp_path, capsys, where):
    cut = tmp_path / "cut.tar"
    cut.write_bytes(archive.read_bytes()[:_cut_points(archive)[where]])
    before = fingerprint(target)
    one_line_error(*run(capsys, "restore", str(cut), "--config", target, "--force")[::2], "truncated")
    assert fingerprint(target) == before == {"files": None, "database": before["database"]}


@pytest.mark.parametrize("prefix", ["database.", "data/media/", "data/audit-checkpoint.key"])
def test_a_flipped_byte_is_refused_naming_the_member(archive, target, tmp_path, capsys, prefix):
    info = next(info for name, info in members(archive).items() if name.startswith(prefix))
    data = bytearray(archive.read_bytes())
    data[info.offset_data + info.size // 2] ^= 0x01
    altered = tmp_path / "altered.tar"
    altered.write_bytes(bytes(data))
    before = fingerprint(target)
    one_line_error(*run(capsys, "restore", str(altered), "--config", target, "--force")[::2],
                   f"member {info.name}: checksum mismatch")
    assert fingerprint(target) == before


def rewrite(archive: Path, out: Path, change) -> None:
    """The same members, the manifest changed by `change` (its sums stay right for the members)."""
    with tarfile.open(archive) as source, tarfile.open(out, "w") as tar:
        for info in source.getmembers():
            data = source.extractfile(info).read()
            if info.name == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_a_backup_from_a_newer_schema_is_refused(archive, target, tmp_path, capsys):
    newer = tmp_path / "newer.tar"
    rewrite(archive, newer, lambda m: m["database"].update(schema="9999_from_the_future"))
    before = fingerprint(target)
    one_line_error(*run(capsys, "restore", str(newer), "--config", target)[::2], "schema 9999_from_the_future",
                   "newer database schema")
    assert fingerprint(target) == before


def test_an_unlisted_member_is_refused(archive, target, tmp_path, capsys):
    smuggled = tmp_path / "smuggled.tar"
    rewrite(archive, smuggled, lambda m: m["members"].pop("data/instance.secret"))
    one_line_error(*run(capsys, "restore", str(smuggled), "--config", target)[::2],
                   "member data/instance.secret", "does not list")
    assert fingerprint(target)["files"] is None


def test_a_non_empty_target_needs_force(archive, target, capsys):
    code, out, err = run(capsys, "restore", str(archive), "--config", target)
    assert code == 0, err
    restored = fingerprint(target)
    one_line_error(*run(capsys, "restore", str(archive), "--config", target)[::2], "data_dir", "not empty",
                   "--force")
    assert fingerprint(target) == restored
    code, out, err = run(capsys, "restore", str(archive), "--config", target, "--force")
    assert code == 0 and out.startswith(f"Restored {archive}"), err
    assert fingerprint(target) == restored
    inside = Path(target).parent / "data" / "copy.tar"  # --force would delete it before reading it
    inside.write_bytes(archive.read_bytes())
    one_line_error(*run(capsys, "restore", str(inside), "--config", target, "--force")[::2], "inside data_dir")
    assert inside.exists()


def test_restore_says_when_base_url_differs(archive, tmp_path, empty_db_url, capsys):
    moved = str(write_config(_folder(tmp_path / "moved"), empty_db_url, port=9090))
    code, out, err = run(capsys, "restore", str(archive), "--config", moved)
    assert code == 0 and out.startswith(f"Restored {archive}")
    assert "the backup was made at http://127.0.0.1:8080, this config says http://127.0.0.1:9090" in err


def _folder(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def test_a_database_with_tables_is_not_empty_either(archive, target, capsys):
    assert run(capsys, "db", "upgrade", "--config", target)[0] == 0  # also makes an empty data_dir
    before = fingerprint(target)
    assert before["files"] == {}
    one_line_error(*run(capsys, "restore", str(archive), "--config", target)[::2], "the database holds",
                   "not empty")
    assert fingerprint(target) == before


def test_a_backup_restores_only_into_its_kind_of_database(archive, tmp_path, capsys, site):
    kind = database_kind(load_config(site).database.url)
    other = "postgresql+asyncpg://nobody@127.0.0.1:1/none" if kind == SQLITE else \
        f"sqlite+aiosqlite:///{tmp_path / 'other.sqlite3'}"
    config = site_config(tmp_path / "other", other)
    expected = f"{kind}, not {database_kind(other)}"
    one_line_error(*run(capsys, "restore", str(archive), "--config", config)[::2], expected)
    assert not (tmp_path / "other" / "data").exists() and not (tmp_path / "other.sqlite3").exists()


def test_without_pg_dump_a_postgresql_backup_names_it(tmp_path, capsys, monkeypatch):
    config = site_config(tmp_path / "pg", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    out = tmp_path / "b.tar"
    one_line_error(*run(capsys, "backup", "--out", str(out), "--config", config)[::2], "pg_dump not found")
    assert not out.exists() and not Path(str(out) + ".partial").exists()


async def _downgrade(url: str, revision: str) -> None:
    def down(sync) -> None:
        cfg = migrator.alembic_config(schema.MIGRATIONS)
        cfg.attributes["connection"] = sync
        command.downgrade(cfg, revision)
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(down)
    await engine.dispose()


async def _revision(url: str) -> str | None:
    engine = create_engine(url)
    revision = await schema.current(engine)
    await engine.dispose()
    return revision


def test_an_older_backup_is_migrated_forward(site, db_url, target, tmp_path, capsys):
    asyncio.run(_downgrade(db_url, "0009"))
    archive = tmp_path / "old.tar"
    assert run(capsys, "backup", "--out", str(archive), "--config", site)[0] == 0
    code, out, err = run(capsys, "restore", str(archive), "--config", target)
    assert code == 0, err
    assert "Applied migration 0010" in err
    assert asyncio.run(_revision(load_config(target).database.url)) == schema.head()
    assert run(capsys, "db", "check", "--config", target)[0] == 0


def test_db_check_and_migrate_on_start_false(site, db_url, tmp_path, capsys):
    code, out, _ = run(capsys, "db", "check", "--config", site)
    assert code == 0 and out.strip() == f"Database schema is current ({schema.head()})"
    asyncio.run(_downgrade(db_url, "0009"))
    one_line_error(*run(capsys, "db", "check", "--config", site)[::2], "pending", "at 0009",
                   "stadtbote db upgrade")
    manual = site_config(tmp_path / "manual", db_url, extra="")
    Path(manual).write_text(Path(manual).read_text().replace(
        f'url = "{db_url}"', f'url = "{db_url}"\nmigrate_on_start = false'))
    for verb in ("serve", "worker"):  # own processes: a start that did not refuse would run until stopped
        try:
            done = subprocess.run([sys.executable, "-m", "bridge", verb, "--config", manual], capture_output=True,
                                  text=True, env=ENV, timeout=90)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{verb} started despite pending migrations")
        one_line_error(done.returncode, done.stderr, "pending", "run `stadtbote db upgrade`")
    assert asyncio.run(_revision(db_url)) == "0009"  # neither start migrated
    assert run(capsys, "db", "upgrade", "--config", manual)[0] == 0
    assert run(capsys, "db", "check", "--config", manual)[0] == 0


def test_db_check_names_a_schema_newer_than_the_code(site, db_url, capsys):
    async def stamp() -> None:
        engine = create_engine(db_url)
        async with engine.begin() as conn:
            await conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
        await engine.dispose()
    asyncio.run(stamp())
    one_line_error(*run(capsys, "db", "check", "--config", site)[::2], "9999 is newer")
