"""Helpers shared by the bridge tests (importable as `testkit`; conftest.py is not importable)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bridge.store.models import Actor, User

TEST_PASSWORD = "correct horse battery staple"


def config_dict(tmp_path: Path, db_url: str, **sections) -> dict:
    raw = {
        "instance": {"base_url": "http://stadt.test", "name": "Stadt Teststadt", "listen": "127.0.0.1:0",
                     "data_dir": str(tmp_path / "data"), "language": "en"},
        "database": {"url": db_url},
        "federation": {"allow_private_addresses": True},
        "privacy": {"imprint_url": "http://stadt.test/imprint", "privacy_url": "http://stadt.test/privacy",
                    "dpo_contact": "dpo@stadt.test"},
        "actors": [
            {"name": "stadt", "display_name": "Stadt Teststadt", "summary": "Die Stadt."},
            {"name": "feuerwehr", "display_name": "Feuerwehr", "require_approval": True},
        ],
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    return raw


def write_config(tmp_path: Path, db_url: str, port: int = 8080, extra: str = "") -> Path:
    """A config file for CLI tests, as an administrator would write it."""
    path = tmp_path / "config.toml"
    path.write_text(f"""
[instance]
base_url = "http://127.0.0.1:{port}"
name = "Stadt Teststadt"
listen = "127.0.0.1:{port}"
data_dir = "data"
language = "en"

[database]
url = "{db_url}"

[[actors]]
name = "stadt"
display_name = "Stadt Teststadt"

[[actors]]
name = "feuerwehr"
require_approval = true
{extra}
""", encoding="utf-8")
    return path


async def add_user(session, name: str, role: str, actors: list[str], password_hash: str,
                   must_change_password: bool = False) -> User:
    found = (await session.scalars(select(Actor).where(Actor.name.in_(actors)))).all()
    user = User(name=name, role=role, password_hash=password_hash, must_change_password=must_change_password,
                actors=list(found))
    session.add(user)
    await session.flush()
    return user
