"""Where images live: the one storage interface for uploads, avatars, retention purges, backup and restore,
and the public media handler.

`[media] backend = "local"` keeps them under data_dir (one machine); `"s3"` keeps them in one bucket of an
S3-compatible service, shared by every `serve` and `worker` process. Keys look like paths relative to
data_dir (`media/1a2b.jpg`, `avatars/stadt.png`), so a backup holds the same members whichever backend made
it, and a restore can move images from one backend to the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import importlib
import functools
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


from bridge.config.model import Config, MediaConfig

MEDIA = "media"  # images of posts
AVATARS = "avatars"  # re-encoded profile pictures
FOLDERS = (MEDIA, AVATARS)
CACHE = "cache"  # local copies of bucket objects that a platform connector reads as files
CHUNK = 256 * 1024
PART = 8 * 1024 * 1024  # an S3 multipart upload's part: at least 5 MB (but the last), at most 10,000 of them
PROBE = ".stadtbote-check"  # written and deleted at start-up: proves the credentials may write


def media_key(filename: str) -> str:
    return f"{MEDIA}/{filename}"


def avatar_key(actor_name: str) -> str:
    return f"{AVATARS}/{actor_name}.png"


class StorageReason(enum.StrEnum):
    OK = "ok"
    UNREACHABLE = "unreachable"
    DENIED = "denied"
    NO_BUCKET = "no_bucket"
    FAILED = "failed"

    @property
    def description(self) -> str:
        return STORAGE_TEXT[self]


STORAGE_TEXT = {
    StorageReason.OK: "media storage is usable",
    StorageReason.UNREACHABLE: "the S3 endpoint cannot be reached",
    StorageReason.DENIED: "the S3 service refused the credentials (check access_key and secret_key)",
    StorageReason.NO_BUCKET: "the bucket does not exist",
    StorageReason.FAILED: "the media storage failed",
}


@dataclass(frozen=True)
class StorageCheck:
    reason: StorageReason
    detail: str = ""  # an error code or class from the service, never a secret

    @property
    def ok(self) -> bool:
        return self.reason is StorageReason.OK

    @property
    def description(self) -> str:
        return f"{self.reason.description} ({self.detail})" if self.detail else self.reason.description


@dataclass(frozen=True)
class StoredObject:
    size: int
    modified: datetime


class StorageError(Exception):
    """An operation on the storage failed; `check` names the problem (never a secret)."""

    def __init__(self, check: StorageCheck):
        super().__init__(check.description)
        self.check = check


class LocalStorage:
    """Files under data_dir, written atomically so a reader never sees half a picture."""

    kind = "local"

    def __init__(self, root: Path):
        self.root = root

    def local_path(self, key: str) -> Path:
        return self.root / key

    def public_url(self, key: str) -> str | None:
        return None

    async def check(self) -> StorageCheck:
        return StorageCheck(StorageReason.OK)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(_write_atomically, self.local_path(key), data)  # megabytes to disk

    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        """A file on disk (an uploaded video), copied without being read into memory."""
        await asyncio.to_thread(_copy_atomically, source, self.local_path(key))

    async def read(self, key: str) -> bytes | None:
        try:
            return await asyncio.to_thread(self.local_path(key).read_bytes)
        except (FileNotFoundError, IsADirectoryError):
            return None

    async def stat(self, key: str) -> StoredObject | None:
        try:
            st = self.local_path(key).stat()
        except FileNotFoundError:
            return None
        return StoredObject(st.st_size, datetime.fromtimestamp(st.st_mtime, timezone.utc))

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        data = await self.read(key)
        if data is not None:
            yield data

    async def delete(self, keys: list[str]) -> None:
        for key in keys:
            self.local_path(key).unlink(missing_ok=True)

    async def keys(self) -> list[str]:
        found = []
        for folder in FOLDERS:
            base = self.root / folder
            if base.is_dir():
                found += sorted(f"{folder}/{p.name}" for p in base.iterdir()
                                if p.is_file() and not p.name.endswith(".tmp"))
        return found

    async def ensure_local(self, keys: list[str]) -> None:
        """The files are local already."""


class S3Storage:
    """One bucket of an S3-compatible service, through aiobotocore (botocore's async twin, on aiohttp).

    A client is opened per operation: it is bound to the event loop that opens it, and serve, worker and CLI
    each run their own loops; the session keeps the parsed service model, so opening one is cheap."""

    kind = "s3"

    def __init__(self, media: MediaConfig, data_dir: Path):
        self.media = media
        self.cache = data_dir / CACHE
        self._session: Any = None

    def _client(self, attempts: int = 3):
        # botocore is about 10 MB of memory: loaded only where media live in S3, at their first use.
        if self._session is None:
            self._session = importlib.import_module("aiobotocore.session").get_session()
        config = importlib.import_module("aiobotocore.config").AioConfig(connect_timeout=5, read_timeout=30, retries={"max_attempts": attempts, "mode": "standard"},
                           s3={"addressing_style": "path" if self.media.endpoint else "auto"})
        return self._session.create_client(
            "s3", endpoint_url=self.media.endpoint, region_name=self.media.region, config=config,
            aws_access_key_id=self.media.access_key.value, aws_secret_access_key=self.media.secret_key.value)

    def local_path(self, key: str) -> Path:
        return self.cache / key

    def public_url(self, key: str) -> str | None:
        return f"{self.media.public_url}/{key}" if self.media.public_url else None

    async def check(self) -> StorageCheck:
        """The bucket answers and the credentials may write to it; one try each, so a start-up fails fast."""
        try:
            async with self._client(attempts=1) as s3:
                await s3.head_bucket(Bucket=self.media.bucket)
                await s3.put_object(Bucket=self.media.bucket, Key=PROBE, Body=b"")
                await s3.delete_object(Bucket=self.media.bucket, Key=PROBE)
        except Exception as exc:  # botocore's errors have no common base besides Exception
            return _checked(exc)
        return StorageCheck(StorageReason.OK)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            async with self._client() as s3:
                await s3.put_object(Bucket=self.media.bucket, Key=key, Body=data, ContentType=content_type)
        except Exception as exc:
            raise StorageError(_checked(exc)) from None

    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        """A file on disk (an uploaded video, up to hundreds of MB): beyond one part, S3's multipart upload with
        each part read off the loop, so the file never sits whole in memory."""
        size = (await asyncio.to_thread(source.stat)).st_size
        if size <= PART:
            await self.put(key, await asyncio.to_thread(source.read_bytes), content_type)
            return
        try:
            async with self._client() as s3:
                bucket = self.media.bucket
                upload = await s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type)
                try:
                    parts = await _upload_parts(s3, bucket, key, upload["UploadId"], source)
                    await s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"],
                                                       MultipartUpload={"Parts": parts})
                except Exception:
                    with contextlib.suppress(Exception):  # the parts sent so far are stored (and billed) until then
                        await s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])
                    raise
        except Exception as exc:
            raise StorageError(_checked(exc)) from None

    async def read(self, key: str) -> bytes | None:
        try:
            async with self._client() as s3:
                response = await s3.get_object(Bucket=self.media.bucket, Key=key)
                async with response["Body"] as body:
                    return await body.read()
        except Exception as exc:
            return _missing_or_raise(exc)

    async def stat(self, key: str) -> StoredObject | None:
        try:
            async with self._client() as s3:
                head = await s3.head_object(Bucket=self.media.bucket, Key=key)
        except Exception as exc:
            return _missing_or_raise(exc)
        return StoredObject(head["ContentLength"], head["LastModified"])

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        """The object in chunks, so a large image never sits whole in a serve process's memory."""
        try:
            async with self._client() as s3:
                response = await s3.get_object(Bucket=self.media.bucket, Key=key)
                async with response["Body"] as body:
                    while chunk := await body.read(CHUNK):
                        yield chunk
        except Exception as exc:
            if _missing_or_raise(exc) is None:
                return

    async def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        try:
            async with self._client() as s3:
                for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
                    await s3.delete_objects(Bucket=self.media.bucket, Delete={
                        "Objects": [{"Key": k} for k in keys[start:start + 1000]], "Quiet": True})
        except Exception as exc:
            raise StorageError(_checked(exc)) from None
        for key in keys:
            self.local_path(key).unlink(missing_ok=True)

    async def keys(self) -> list[str]:
        found: list[str] = []
        try:
            async with self._client() as s3:
                for folder in FOLDERS:
                    async for page in s3.get_paginator("list_objects_v2").paginate(
                            Bucket=self.media.bucket, Prefix=f"{folder}/"):
                        found += [item["Key"] for item in page.get("Contents", [])]
        except Exception as exc:
            raise StorageError(_checked(exc)) from None
        return sorted(found)

    async def ensure_local(self, keys: list[str]) -> None:
        """Copies objects to the local cache for code that reads files (platform connectors); a missing object
        stays missing, and the reader answers it as an unusable image."""
        for key in keys:
            path = self.local_path(key)
            if path.is_file():
                continue
            await self._download(key, path)

    async def _download(self, key: str, path: Path) -> None:
        """The object into `path` chunk by chunk (a video may be hundreds of MB); nothing when it is missing."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        found = False
        try:
            with open(tmp, "wb") as f:
                async for chunk in self.stream(key):
                    found = True
                    await asyncio.to_thread(f.write, chunk)
            if found:
                os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


async def _upload_parts(s3, bucket: str, key: str, upload_id: str, source: Path) -> list[dict]:
    parts: list[dict] = []
    with open(source, "rb") as f:
        while chunk := await asyncio.to_thread(f.read, PART):
            number = len(parts) + 1
            sent = await s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk)
            parts.append({"ETag": sent["ETag"], "PartNumber": number})
    return parts


MediaStorage = LocalStorage | S3Storage


def media_storage(config: Config) -> MediaStorage:
    """The configured storage; one object per configuration, so S3's parsed service model is loaded once."""
    return _storage(config.media, config.instance.data_dir)


@functools.cache
def _storage(media: MediaConfig, data_dir: Path) -> MediaStorage:
    return S3Storage(media, data_dir) if media.backend == "s3" else LocalStorage(data_dir)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _copy_atomically(source: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, path)


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        return str(error.get("Code") or response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    return ""


def _checked(exc: Exception) -> StorageCheck:
    errors = importlib.import_module("botocore.exceptions")  # loaded by the S3 call that raised `exc`
    code = _error_code(exc)
    if isinstance(exc, errors.ClientError):
        if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden"):
            return StorageCheck(StorageReason.DENIED, code)
        if code in ("404", "NoSuchBucket"):
            return StorageCheck(StorageReason.NO_BUCKET, code)
        return StorageCheck(StorageReason.FAILED, code)
    if isinstance(exc, errors.NoCredentialsError):
        return StorageCheck(StorageReason.DENIED, exc.__class__.__name__)
    if isinstance(exc, (errors.EndpointConnectionError, OSError, asyncio.TimeoutError)) \
            or exc.__class__.__name__ in ("ConnectTimeoutError", "ReadTimeoutError"):
        return StorageCheck(StorageReason.UNREACHABLE, exc.__class__.__name__)
    return StorageCheck(StorageReason.FAILED, exc.__class__.__name__)


def _missing_or_raise(exc: Exception) -> None:
    if _error_code(exc) in ("404", "NoSuchKey", "NotFound"):
        return None
    raise StorageError(_checked(exc)) from None
