"""Backup and restore with the images in an S3 bucket (moto's standalone server): the bucket's objects go
into the archive under the names they have in a local data_dir, and a restore writes images to whatever
storage the target uses — so it also moves an installation between local files and a bucket."""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path

import pytest
from PIL import Image

from bridge.config.load import load_config
from test_backup_refusals import fingerprint, one_line_error, run, site_config


def media_toml(s3_service, bucket: str, secret: str | None = None) -> str:
    return (f'\n[media]\nbackend = "s3"\nendpoint = "{s3_service.endpoint}"\nbucket = "{bucket}"\n'
            f'region = "eu-central-1"\naccess_key = "{s3_service.access_key}"\n'
            f'secret_key = "{secret or s3_service.secret_key}"\n')


def post_with_image(capsys, config: str, tmp_path: Path) -> None:
    image = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), "green").save(image)
    code, _, err = run(capsys, "post", "--actor", "stadt", "--text", "Freibad", "--image", str(image), "--alt",
                       "Becken", "--user", "admin", "--config", config)
    assert code == 0, err


@pytest.fixture
def s3_site(tmp_path, db_url, capsys, s3_service, s3_bucket) -> str:
    config = site_config(tmp_path / "site", db_url, media_toml(s3_service, s3_bucket))
    post_with_image(capsys, config, tmp_path)
    return config


def bucket_contents(s3_service, bucket: str) -> dict[str, str]:
    client = s3_service.client()
    return {key: hashlib.sha256(client.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()
            for key in s3_service.objects(bucket)}


def test_a_backup_holds_the_buckets_images_and_a_restore_puts_them_into_another_bucket(
        s3_site, s3_service, s3_bucket, tmp_path, empty_db_url, capsys):
    original = bucket_contents(s3_service, s3_bucket)
    assert len(original) == 1 and next(iter(original)).startswith("media/")
    archive = tmp_path / "backup.tar"
    code, _, err = run(capsys, "backup", "--out", str(archive), "--config", s3_site)
    assert code == 0, err
    with tarfile.open(archive) as tar:
        members = {name: hashlib.sha256(tar.extractfile(name).read()).hexdigest()
                   for name in tar.getnames() if name.startswith("data/media/")}
    assert members == {f"data/{key}": sha for key, sha in original.items()}

    new_bucket = s3_service.new_bucket()
    target = site_config(tmp_path / "target", empty_db_url, media_toml(s3_service, new_bucket))
    code, out, err = run(capsys, "restore", str(archive), "--config", target)
    assert code == 0, err
    assert bucket_contents(s3_service, new_bucket) == original
    assert not (load_config(target).instance.data_dir / "media").exists()


def test_a_local_installation_moves_into_a_bucket_by_backup_and_restore(
        tmp_path, db_url, empty_db_url, capsys, s3_service, s3_bucket):
    local = site_config(tmp_path / "local", db_url)
    post_with_image(capsys, local, tmp_path)
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in (load_config(local).instance.data_dir / "media").iterdir()}
    archive = tmp_path / "backup.tar"
    assert run(capsys, "backup", "--out", str(archive), "--config", local)[0] == 0
    target = site_config(tmp_path / "target", empty_db_url, media_toml(s3_service, s3_bucket))
    code, _, err = run(capsys, "restore", str(archive), "--config", target)
    assert code == 0, err
    assert bucket_contents(s3_service, s3_bucket) == {f"media/{name}": sha for name, sha in files.items()}


def test_a_bucket_with_images_is_not_empty_and_a_wrong_key_touches_nothing(
        s3_site, s3_service, s3_bucket, tmp_path, empty_db_url, capsys):
    archive = tmp_path / "backup.tar"
    assert run(capsys, "backup", "--out", str(archive), "--config", s3_site)[0] == 0
    occupied = s3_service.new_bucket()
    s3_service.client().put_object(Bucket=occupied, Key="media/alt.png", Body=b"alt")
    target = site_config(tmp_path / "target", empty_db_url, media_toml(s3_service, occupied))
    before = fingerprint(target)
    one_line_error(*run(capsys, "restore", str(archive), "--config", target)[::2], f"bucket {occupied}",
                   "1 images", "--force")
    assert fingerprint(target) == before and s3_service.objects(occupied) == ["media/alt.png"]

    wrong = site_config(tmp_path / "wrong", empty_db_url, media_toml(s3_service, occupied, secret="falsch"))
    before = fingerprint(wrong)
    one_line_error(*run(capsys, "restore", str(archive), "--config", wrong, "--force")[::2],
                   "refused the credentials")
    assert fingerprint(wrong) == before and s3_service.objects(occupied) == ["media/alt.png"]

    code, _, err = run(capsys, "restore", str(archive), "--config", target, "--force")
    assert code == 0, err
    assert bucket_contents(s3_service, occupied) == bucket_contents(s3_service, s3_bucket)  # alt.png is gone


def test_a_backup_names_an_unreadable_bucket_and_writes_no_file(s3_site, s3_service, s3_bucket, tmp_path, capsys):
    broken = site_config(tmp_path / "site", load_config(s3_site).database.url,
                         media_toml(s3_service, s3_bucket, secret="falsch"))
    archive = tmp_path / "backup.tar"
    one_line_error(*run(capsys, "backup", "--out", str(archive), "--config", broken)[::2], "media storage")
    assert not archive.exists() and not list(tmp_path.glob("*.partial"))
