"""`stadtbote backup`: an online, consistent backup while the server runs.

The database is copied first (a snapshot), then the files of data_dir and the images of the media storage
(an S3 bucket's objects go in under the names they would have in data_dir): media written after the snapshot
are harmless extras, and every file the snapshot refers to is already stored. The accounts' private keys,
users and the consent store are in the database; the instance secret and the audit signing key are files
in data_dir; both are in the archive, which is why it is created 0600 and must be kept access-controlled.
"""

from __future__ import annotations

import enum
import importlib.metadata
import os
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bridge.config.model import Config
from bridge.operations.archive import DATA_PREFIX, DATABASE_MEMBERS, FORMAT, FORMAT_VERSION, ArchiveWriter
from bridge.runtime.media_storage import CACHE, LocalStorage, StorageError, media_storage
from bridge.operations.databases import (
    SQLITE,
    ToolFailed,
    database_kind,
    database_revision,
    dump_postgres,
    find_tool,
    snapshot_sqlite,
    sqlite_files,
    sqlite_path,
)


class BackupReason(enum.StrEnum):
    OK = "ok"
    OUT_EXISTS = "out_exists"
    OUT_INSIDE_DATA_DIR = "out_inside_data_dir"
    OUT_UNWRITABLE = "out_unwritable"
    NO_DATABASE = "no_database"
    NO_SCHEMA = "no_schema"
    TOOL_FAILED = "tool_failed"
    STORAGE_FAILED = "storage_failed"

    @property
    def description(self) -> str:
        return BACKUP_TEXT[self]


BACKUP_TEXT = {
    BackupReason.OK: "backup written",
    BackupReason.OUT_EXISTS: "the file exists already; choose a new name (a backup never overwrites one)",
    BackupReason.OUT_INSIDE_DATA_DIR: "lies inside data_dir; write the backup somewhere else",
    BackupReason.OUT_UNWRITABLE: "cannot write",
    BackupReason.NO_DATABASE: "the SQLite database file does not exist",
    BackupReason.NO_SCHEMA: "the database has no schema yet (run `stadtbote db upgrade` first)",
    BackupReason.TOOL_FAILED: "the database tool failed",
    BackupReason.STORAGE_FAILED: "the media storage could not be read",
}


@dataclass(frozen=True)
class BackupResult:
    reason: BackupReason
    detail: str = ""
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.reason is BackupReason.OK

    @property
    def description(self) -> str:
        return f"{self.detail}: {self.reason.description}" if self.detail else self.reason.description


class _Refused(Exception):
    def __init__(self, reason: BackupReason, detail: str = ""):
        super().__init__(detail)
        self.result = BackupResult(reason, detail)


async def make_backup(config: Config, out: Path) -> BackupResult:
    try:
        _check_target(config, out)
        return await _write(config, out)
    except _Refused as refused:
        return refused.result


def _check_target(config: Config, out: Path) -> None:
    where = f"--out {out}"
    if out.exists():
        raise _Refused(BackupReason.OUT_EXISTS, where)
    if out.absolute().is_relative_to(config.instance.data_dir.absolute()):
        raise _Refused(BackupReason.OUT_INSIDE_DATA_DIR, where)
    url = config.database.url
    if database_kind(url) == SQLITE and not sqlite_path(url).is_file():
        raise _Refused(BackupReason.NO_DATABASE, str(sqlite_path(url)))
    if database_kind(url) != SQLITE:
        _tool(find_tool, "pg_dump")  # before anything is written


def _tool(call, *args):
    try:
        return call(*args)
    except ToolFailed as exc:
        raise _Refused(BackupReason.TOOL_FAILED, str(exc)) from None


async def _write(config: Config, out: Path) -> BackupResult:
    partial = out.with_name(out.name + ".partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise _Refused(BackupReason.OUT_UNWRITABLE, f"--out {out} ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            manifest = await _fill(config, fh, out.absolute().parent)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, out)
    except OSError as exc:
        raise _Refused(BackupReason.OUT_UNWRITABLE, f"--out {out} ({exc.strerror or exc})") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(BackupReason.OK, str(out), manifest)


async def _fill(config: Config, fh, staging_parent: Path) -> dict[str, Any]:
    kind = database_kind(config.database.url)
    member = DATABASE_MEMBERS[kind]
    # Staged beside the output (0700 folder), not in /tmp: a database can be larger than a tmpfs.
    with tempfile.TemporaryDirectory(dir=staging_parent, prefix=".stadtbote-backup-") as staging:
        copy = Path(staging) / member
        schema = await _copy_database(config.database.url, copy)
        with tarfile.open(fileobj=fh, mode="w", format=tarfile.PAX_FORMAT) as tar:
            writer = ArchiveWriter(tar)
            writer.add_file(member, copy)
            for name, path in data_files(config):
                try:
                    writer.add_file(name, path)
                except FileNotFoundError:
                    continue  # purged by retention since the snapshot; its row is gone from the database too
            await _add_stored_objects(config, writer)
            manifest = _manifest(config, kind, member, schema)
            writer.add_manifest(manifest)
    return {**manifest, "members": writer.members}


async def _add_stored_objects(config: Config, writer: ArchiveWriter) -> None:
    """A bucket's images, under the names they have in a local data_dir (local ones came with data_files)."""
    storage = media_storage(config)
    if isinstance(storage, LocalStorage):
        return
    try:
        for key in await storage.keys():
            data = await storage.read(key)
            if data is not None:  # else purged since the snapshot, as above
                writer.add_bytes(DATA_PREFIX + key, data)
    except StorageError as exc:
        raise _Refused(BackupReason.STORAGE_FAILED, exc.check.description) from None


async def _copy_database(url: str, target: Path) -> str:
    if database_kind(url) == SQLITE:
        schema = snapshot_sqlite(url, target)
    else:
        schema = await database_revision(url)  # read just before the dump; migrations do not run meanwhile
        _tool(dump_postgres, url, target)
    if schema is None:
        raise _Refused(BackupReason.NO_SCHEMA)
    return schema


def data_files(config: Config) -> list[tuple[str, Path]]:
    """Every regular file in data_dir (media, avatars, the instance secret, the audit signing key, and
    whatever a later version keeps there), except a live SQLite database, which goes in as a snapshot, and
    the local copies of a bucket's images."""
    root = config.instance.data_dir.absolute()
    skip = set(sqlite_files(config.database.url)) if database_kind(config.database.url) == SQLITE else set()
    found = []
    for folder, dirs, files in os.walk(root):
        if Path(folder) == root and CACHE in dirs:
            dirs.remove(CACHE)
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path in skip or path.is_symlink() or not path.is_file():
                continue
            found.append((DATA_PREFIX + path.relative_to(root).as_posix(), path))
    return found


def _manifest(config: Config, kind: str, member: str, schema: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "stadtbote_version": _version(),
        "base_url": config.instance.base_url,
        "database": {"kind": kind, "member": member, "schema": schema},
    }


def _version() -> str:
    try:
        return importlib.metadata.version("stadtbote")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
