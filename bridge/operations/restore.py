"""`stadtbote restore`: a backup into an empty data_dir, an empty database and (with `[media] backend = "s3"`)
an empty bucket, then the migrations. Images go to the configured media storage, whichever backend made the
backup, so a restore also moves an installation from local files to a bucket or back.

Nothing in the target is touched before the whole archive was read and every checksum matched, the schema
is one this version knows, the database kinds agree and the target is empty (or `--force` was given).
If writing fails half-way, what was written is removed again.
"""

from __future__ import annotations

import enum
import hashlib
import mimetypes
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from bridge.config.model import Config
from bridge.operations.archive import CHUNK, DATA_PREFIX, check_archive
from bridge.operations.databases import (
    SQLITE,
    ToolFailed,
    database_kind,
    empty_postgres,
    find_tool,
    restore_postgres,
    sqlite_files,
    sqlite_path,
    table_count,
)
from bridge.store import schema
from bridge.runtime.media_storage import FOLDERS, LocalStorage, StorageError, media_storage
from bridge.store.db import create_engine


class RestoreReason(enum.StrEnum):
    OK = "ok"
    BAD_ARCHIVE = "bad_archive"
    INSIDE_TARGET = "inside_target"
    NEWER_SCHEMA = "newer_schema"
    OTHER_DATABASE = "other_database"
    NOT_EMPTY = "not_empty"
    TOOL_FAILED = "tool_failed"
    WRITE_FAILED = "write_failed"
    STORAGE_FAILED = "storage_failed"

    @property
    def description(self) -> str:
        return RESTORE_TEXT[self]


RESTORE_TEXT = {
    RestoreReason.OK: "restored",
    RestoreReason.BAD_ARCHIVE: "nothing was restored",
    RestoreReason.INSIDE_TARGET: "lies inside data_dir, which a restore replaces; move it elsewhere first",
    RestoreReason.NEWER_SCHEMA: "the backup comes from a newer database schema than this version of Stadtbote "
                                "knows; install that version (or a newer one) first",
    RestoreReason.OTHER_DATABASE: "the backup holds another kind of database than [database] url names",
    RestoreReason.NOT_EMPTY: "the target is not empty; restore into an empty one, or give --force to replace it",
    RestoreReason.TOOL_FAILED: "the database tool failed; nothing was restored",
    RestoreReason.WRITE_FAILED: "writing failed; what was restored has been removed again",
    RestoreReason.STORAGE_FAILED: "the media storage failed; what was restored has been removed again",
}


@dataclass(frozen=True)
class RestoreResult:
    reason: RestoreReason
    detail: str = ""
    manifest: dict[str, Any] = field(default_factory=dict)
    files: int = 0
    migrations: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.reason is RestoreReason.OK

    @property
    def description(self) -> str:
        return f"{self.detail}; {self.reason.description}" if self.detail else self.reason.description


class _Refused(Exception):
    def __init__(self, reason: RestoreReason, detail: str = ""):
        super().__init__(detail)
        self.result = RestoreResult(reason, detail)


async def restore_backup(config: Config, path: Path, force: bool = False) -> RestoreResult:
    try:
        manifest = _checked_manifest(config, path)
        occupied = await occupied_target(config)
        if occupied and not force:
            raise _Refused(RestoreReason.NOT_EMPTY, occupied)
        if occupied:
            await _empty_target(config)
        files = await _restore(config, path, manifest)
    except _Refused as refused:
        return refused.result
    engine = create_engine(config.database.url)
    try:
        applied = await schema.upgrade(engine)  # an older backup moves forward to this version's schema
    finally:
        await engine.dispose()
    return RestoreResult(RestoreReason.OK, str(path), manifest, files, tuple(applied))


def known_revisions() -> set[str]:
    return set(schema.revisions())


def _checked_manifest(config: Config, path: Path) -> dict[str, Any]:
    if path.absolute().is_relative_to(config.instance.data_dir.absolute()):
        raise _Refused(RestoreReason.INSIDE_TARGET, str(path))
    check = check_archive(path)
    if not check.ok:
        raise _Refused(RestoreReason.BAD_ARCHIVE, f"{path}: {check.description}")
    manifest = check.manifest
    revision = manifest["database"]["schema"]
    if revision not in known_revisions():
        raise _Refused(RestoreReason.NEWER_SCHEMA, f"{path}: schema {revision} (this version: up to "
                                                   f"{schema.head()})")
    kind = database_kind(config.database.url)
    if manifest["database"]["kind"] != kind:
        raise _Refused(RestoreReason.OTHER_DATABASE, f"{path}: {manifest['database']['kind']}, not {kind}")
    if kind != SQLITE:
        try:
            find_tool("pg_restore")
        except ToolFailed as exc:
            raise _Refused(RestoreReason.TOOL_FAILED, str(exc)) from None
    return manifest


async def occupied_target(config: Config) -> str:
    """What makes the target non-empty, in words; "" when it is empty."""
    data_dir = config.instance.data_dir.absolute()
    database = set(sqlite_files(config.database.url)) if database_kind(config.database.url) == SQLITE else set()
    if data_dir.exists() and not data_dir.is_dir():
        return f"data_dir {data_dir} is not a folder"
    entries = sorted(p.name for p in data_dir.iterdir() if p not in database) if data_dir.is_dir() else []
    if entries:
        more = f" and {len(entries) - 3} more" if len(entries) > 3 else ""
        return f"data_dir {data_dir} holds {', '.join(entries[:3])}{more}"
    tables = await table_count(config.database.url)
    if tables:
        return f"the database holds {tables} tables"
    stored = await _bucket_keys(config)
    if stored:
        return f"the bucket {config.media.bucket} holds {len(stored)} images"
    return ""


async def _bucket_keys(config: Config) -> list[str]:
    storage = media_storage(config)
    if isinstance(storage, LocalStorage):
        return []  # its files are in data_dir, looked at above
    try:
        return await storage.keys()
    except StorageError as exc:
        raise _Refused(RestoreReason.STORAGE_FAILED, exc.check.description) from None


async def _empty_target(config: Config) -> None:
    data_dir = config.instance.data_dir.absolute()
    if data_dir.is_dir():
        for entry in data_dir.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    if database_kind(config.database.url) == SQLITE:
        for path in sqlite_files(config.database.url):
            path.unlink(missing_ok=True)
    else:
        await empty_postgres(config.database.url)
    await _delete_stored(config, await _bucket_keys(config))


async def _delete_stored(config: Config, keys: list[str]) -> None:
    try:
        await media_storage(config).delete(keys)
    except StorageError as exc:
        raise _Refused(RestoreReason.STORAGE_FAILED, exc.check.description) from None


async def _restore(config: Config, path: Path, manifest: dict[str, Any]) -> int:
    data_dir = config.instance.data_dir.absolute()
    created_dir = not data_dir.exists()
    written: list[Path] = []
    storage = media_storage(config)
    put: list[str] = []  # objects written to the bucket
    try:
        _make_dir(data_dir)
        os.chmod(data_dir, 0o700)
        with tarfile.open(path, "r:") as tar:
            for info in tar:
                key = PurePosixPath(info.name).relative_to(DATA_PREFIX.rstrip("/")).as_posix() \
                    if info.name.startswith(DATA_PREFIX) else ""
                if key.split("/")[0] in FOLDERS and not isinstance(storage, LocalStorage):
                    put.append(key)
                    await storage.put(key, _read_member(tar, info, manifest), _content_type(key))
                elif key:
                    target = data_dir.joinpath(*PurePosixPath(key).parts)
                    _make_dir(target.parent)
                    written.append(target)
                    _write_member(tar, info, target, manifest)
            _restore_database(config, tar, manifest, data_dir, written)
    except (OSError, tarfile.TarError, _Changed, ToolFailed, StorageError) as exc:
        _remove(written, data_dir, created_dir)
        await _delete_stored(config, put)
        raise _Refused(*_failure(exc)) from None
    return len(written) + len(put) - (1 if database_kind(config.database.url) == SQLITE else 0)


def _content_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def _read_member(tar: tarfile.TarFile, info: tarfile.TarInfo, manifest: dict[str, Any]) -> bytes:
    """An image for the bucket, checked again as it is read (it is at most `max_image_bytes`)."""
    data = tar.extractfile(info).read()
    if hashlib.sha256(data).hexdigest() != manifest["members"][info.name]["sha256"]:
        raise _Changed(f"{info.name}: changed since it was checked")
    return data


def _failure(exc: Exception) -> tuple[RestoreReason, str]:
    if isinstance(exc, ToolFailed):
        return RestoreReason.TOOL_FAILED, str(exc)
    if isinstance(exc, StorageError):
        return RestoreReason.STORAGE_FAILED, exc.check.description
    return RestoreReason.WRITE_FAILED, _what_failed(exc)


def _what_failed(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename} ({exc.strerror})"
    return str(exc) or exc.__class__.__name__


class _Changed(Exception):
    """The file changed between the check and the restore."""


def _make_dir(folder: Path) -> None:
    """Folders this restore creates are 0700 (mkdir's mode is subject to the umask, hence the chmod)."""
    if folder.exists():
        return
    _make_dir(folder.parent)
    folder.mkdir(mode=0o700)
    os.chmod(folder, 0o700)


def _write_member(tar: tarfile.TarFile, info: tarfile.TarInfo, target: Path, manifest: dict[str, Any]) -> None:
    source = tar.extractfile(info)
    sha = hashlib.sha256()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(CHUNK):
            sha.update(chunk)
            out.write(chunk)
    os.chmod(target, 0o600)
    if sha.hexdigest() != manifest["members"][info.name]["sha256"]:
        raise _Changed(f"{info.name}: changed since it was checked")


def _restore_database(config: Config, tar: tarfile.TarFile, manifest: dict[str, Any], data_dir: Path,
                      written: list[Path]) -> None:
    member = manifest["database"]["member"]
    info = tar.getmember(member)
    url = config.database.url
    if database_kind(url) == SQLITE:
        target = sqlite_path(url)
        _make_dir(target.parent)
        staged = target.with_name(target.name + ".restoring")
        written.append(staged)
        _write_member(tar, info, staged, manifest)
        os.replace(staged, target)
        written[-1] = target
        return
    with tempfile.TemporaryDirectory(dir=data_dir, prefix=".restore-") as staging:
        staged = Path(staging) / member
        _write_member(tar, info, staged, manifest)
        restore_postgres(url, staged)


def _remove(written: list[Path], data_dir: Path, created_dir: bool) -> None:
    for path in reversed(written):
        path.unlink(missing_ok=True)
    for folder in sorted({p.parent for p in written if p.parent != data_dir and p.parent.is_relative_to(data_dir)},
                         key=lambda p: len(p.parts), reverse=True):
        shutil.rmtree(folder, ignore_errors=True)
    if created_dir:
        shutil.rmtree(data_dir, ignore_errors=True)
