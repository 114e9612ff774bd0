"""The backup file: a tar archive whose last member, `manifest.json`, lists every other member with its
SHA-256 and size, and names the database kind, the schema revision, the Stadtbote version and the time.

The sums find a damaged or truncated file; they do not stop someone who can rewrite the file, since they
are stored in it. The file itself holds private keys and personal data: keep it access-controlled.
"""

from __future__ import annotations

import enum
import hashlib
import io
import json
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

FORMAT = "stadtbote-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATA_PREFIX = "data/"  # files of data_dir, under their path relative to it
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
CHUNK = 1 << 20


class HashingReader:
    """Hands a file's bytes to tarfile and sums exactly the bytes that went into the archive."""

    def __init__(self, fh: BinaryIO):
        self.fh = fh
        self.sha = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.fh.read(size)
        self.sha.update(chunk)
        return chunk


def member_info(name: str, size: int, mtime: float | None = None) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(mtime if mtime is not None else time.time())
    return info


class ArchiveWriter:
    """Adds files to an open tar and remembers their sums for the manifest."""

    def __init__(self, tar: tarfile.TarFile):
        self.tar = tar
        self.members: dict[str, dict[str, Any]] = {}

    def add_file(self, name: str, path: Path) -> None:
        with open(path, "rb") as fh:
            stat = path.stat()
            reader = HashingReader(fh)
            self.tar.addfile(member_info(name, stat.st_size, stat.st_mtime), reader)
        self.members[name] = {"sha256": reader.sha.hexdigest(), "size": stat.st_size}

    def add_bytes(self, name: str, data: bytes, mtime: float | None = None) -> None:
        """An object that is no file here (an image from the S3 bucket)."""
        self.tar.addfile(member_info(name, len(data), mtime), io.BytesIO(data))
        self.members[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}

    def add_manifest(self, manifest: dict[str, Any]) -> None:
        data = json.dumps({**manifest, "members": self.members}, indent=2, sort_keys=True).encode()
        self.tar.addfile(member_info(MANIFEST, len(data)), io.BytesIO(data))


class ArchiveProblem(enum.StrEnum):
    OK = "ok"
    UNREADABLE = "unreadable"
    NOT_A_BACKUP = "not_a_backup"
    TRUNCATED = "truncated"
    UNSAFE_MEMBER = "unsafe_member"
    MISSING_MEMBER = "missing_member"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    UNLISTED_MEMBER = "unlisted_member"
    NEWER_FORMAT = "newer_format"

    @property
    def description(self) -> str:
        return ARCHIVE_TEXT[self]


ARCHIVE_TEXT = {
    ArchiveProblem.OK: "complete, every checksum matches",
    ArchiveProblem.UNREADABLE: "cannot read the file",
    ArchiveProblem.NOT_A_BACKUP: "not a Stadtbote backup",
    ArchiveProblem.TRUNCATED: "the file is truncated or damaged: it ends before its manifest",
    ArchiveProblem.UNSAFE_MEMBER: "the archive holds a member that is not a plain file inside the backup",
    ArchiveProblem.MISSING_MEMBER: "a member listed in the manifest is missing",
    ArchiveProblem.CHECKSUM_MISMATCH: "checksum mismatch: the file was damaged or altered",
    ArchiveProblem.UNLISTED_MEMBER: "the archive holds a member its manifest does not list",
    ArchiveProblem.NEWER_FORMAT: "written by a newer version of Stadtbote (backup format unknown here)",
}


@dataclass(frozen=True)
class ArchiveCheck:
    problem: ArchiveProblem
    manifest: dict[str, Any] = field(default_factory=dict)
    member: str = ""  # the member concerned, when there is one

    @property
    def ok(self) -> bool:
        return self.problem is ArchiveProblem.OK

    @property
    def description(self) -> str:
        where = f"member {self.member}: " if self.member else ""
        return f"{where}{self.problem.description}"


def sha256_of(fh: BinaryIO) -> str:
    sha = hashlib.sha256()
    while chunk := fh.read(CHUNK):
        sha.update(chunk)
    return sha.hexdigest()


def safe_name(info: tarfile.TarInfo) -> bool:
    """A regular file at a relative path without `..`: nothing can land outside the target."""
    path = PurePosixPath(info.name)
    return (info.isreg() and not path.is_absolute() and ".." not in path.parts and "" not in info.name.split("/")
            and (info.name == MANIFEST or info.name in DATABASE_MEMBERS.values()
                 or (info.name.startswith(DATA_PREFIX) and len(path.parts) > 1)))


def check_archive(path: Path) -> ArchiveCheck:
    """Read the whole file once: every member's sum against the manifest, before anything is restored."""
    try:
        tar = tarfile.open(path, "r:")
    except (tarfile.ReadError, EOFError):
        return ArchiveCheck(ArchiveProblem.NOT_A_BACKUP)
    except OSError:
        return ArchiveCheck(ArchiveProblem.UNREADABLE)
    with tar:
        try:
            sums, raw = _read_members(tar)
        except (tarfile.TarError, EOFError):
            return ArchiveCheck(ArchiveProblem.TRUNCATED)
        except _Unsafe as exc:
            return ArchiveCheck(ArchiveProblem.UNSAFE_MEMBER, member=str(exc))
    if raw is None:
        return ArchiveCheck(ArchiveProblem.TRUNCATED if sums else ArchiveProblem.NOT_A_BACKUP)
    manifest = _parse_manifest(raw)
    if manifest is None:
        return ArchiveCheck(ArchiveProblem.NOT_A_BACKUP)
    if manifest["format_version"] > FORMAT_VERSION:
        return ArchiveCheck(ArchiveProblem.NEWER_FORMAT, manifest)
    return _compare(manifest, sums)


class _Unsafe(Exception):
    pass


def _read_members(tar: tarfile.TarFile) -> tuple[dict[str, str], bytes | None]:
    sums: dict[str, str] = {}
    manifest = None
    for info in tar:
        if not safe_name(info) or info.name in sums or (info.name == MANIFEST and manifest is not None):
            raise _Unsafe(info.name)
        fh = tar.extractfile(info)
        if info.name == MANIFEST:
            manifest = fh.read()
        else:
            sums[info.name] = sha256_of(fh)
    return sums, manifest


def _parse_manifest(raw: bytes) -> dict[str, Any] | None:
    try:
        manifest = json.loads(raw)
    except ValueError:
        return None
    database = manifest.get("database") if isinstance(manifest, dict) else None
    if (not isinstance(manifest, dict) or manifest.get("format") != FORMAT
            or not isinstance(manifest.get("format_version"), int) or not isinstance(manifest.get("members"), dict)
            or not isinstance(database, dict) or database.get("kind") not in DATABASE_MEMBERS
            or not isinstance(database.get("schema"), str)):
        return None
    return manifest


def _compare(manifest: dict[str, Any], sums: dict[str, str]) -> ArchiveCheck:
    listed = manifest["members"]
    database_member = DATABASE_MEMBERS[manifest["database"]["kind"]]
    for name in sorted(set(listed) | {database_member}):
        if name not in sums:
            return ArchiveCheck(ArchiveProblem.MISSING_MEMBER, manifest, name)
        entry = listed.get(name)
        if not isinstance(entry, dict) or entry.get("sha256") != sums[name]:
            return ArchiveCheck(ArchiveProblem.CHECKSUM_MISMATCH, manifest, name)
    for name in sorted(set(sums) - set(listed)):
        return ArchiveCheck(ArchiveProblem.UNLISTED_MEMBER, manifest, name)
    return ArchiveCheck(ArchiveProblem.OK, manifest)
