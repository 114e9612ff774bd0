"""Shared fixtures: a real, migrated database per test (SQLite file, or PostgreSQL when
STADTBOTE_TEST_DATABASE_URL is set), a config, and a bootstrapped application with its test client."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bridge.appkeys import SESSIONS
from bridge.app import create_app
from bridge.cli.bootstrap import bootstrap
from bridge.store.db import create_engine, create_sessionmaker
from bridge.auth.users import hash_password
from bridge.config.load import parse_config
from testkit import TEST_PASSWORD, config_dict

PG_URL = os.environ.get("STADTBOTE_TEST_DATABASE_URL")


def _admin_url(url: str) -> str:
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


async def _pg_execute(url: str, *statements: str) -> None:
    engine = create_async_engine(_admin_url(url), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        for statement in statements:
            await conn.exec_driver_sql(statement)
    await engine.dispose()


async def _boot_template(url: str, tmp: Path):
    """Migrations, actor keys and the first admin, done once; every test starts from a copy."""
    engine = create_engine(url)
    config = parse_config(config_dict(tmp, url), tmp, None, os.environ)
    result = await bootstrap(engine, create_sessionmaker(engine), config)
    await engine.dispose()
    return result


@pytest.fixture(scope="session")
def template_database(tmp_path_factory):
    """Migrated once per run; each test gets a copy (a file copy, or CREATE DATABASE … TEMPLATE)."""
    if PG_URL:
        name = f"stadtbote_tpl_{os.getpid()}"
        asyncio.run(_pg_execute(PG_URL, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        booted = asyncio.run(_boot_template(url, tmp_path_factory.mktemp("template")))
        yield name, booted
        asyncio.run(_pg_execute(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        booted = asyncio.run(_boot_template(f"sqlite+aiosqlite:///{path}", path.parent))
        yield str(path), booted


@pytest.fixture
def db_url(template_database, tmp_path):
    if PG_URL:
        name = f"stadtbote_t_{uuid.uuid4().hex[:12]}"
        asyncio.run(_pg_execute(PG_URL, f'CREATE DATABASE "{name}" TEMPLATE "{template_database[0]}"'))
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        asyncio.run(_pg_execute(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = tmp_path / "stadtbote.sqlite3"
        shutil.copy(template_database[0], path)
        yield f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def make_config(tmp_path, db_url):
    def make(**sections):
        return parse_config(config_dict(tmp_path, db_url, **sections), tmp_path, None, os.environ)
    return make


@pytest.fixture
def config(make_config):
    return make_config()


@pytest.fixture
async def booted(config, template_database):
    """The database after a first start: actors with keys, and the admin with its one-time password.

    The template was booted once; starting again here adds whatever this test's config adds."""
    engine = create_engine(config.database.url)
    again = await bootstrap(engine, create_sessionmaker(engine), config)
    await engine.dispose()
    assert again.admin_password is None
    return template_database[1]


@pytest.fixture
async def client(aiohttp_client, config, booted):
    """A test client of the whole application (worker not started; tests step it explicitly)."""
    return await aiohttp_client(create_app(config, run_worker=False))


@pytest.fixture
def sessions(client):
    return client.app[SESSIONS]


@pytest.fixture
def empty_db_url(tmp_path):
    """A database with no schema at all, as on a fresh installation."""
    if PG_URL:
        name = f"stadtbote_e_{uuid.uuid4().hex[:12]}"
        asyncio.run(_pg_execute(PG_URL, f'CREATE DATABASE "{name}"'))
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        asyncio.run(_pg_execute(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"




@pytest.fixture
async def sessions_only(config, booted):
    """A session factory on the test database without the web application."""
    engine = create_engine(config.database.url)
    yield create_sessionmaker(engine)
    await engine.dispose()


def pytest_sessionfinish(session, exitstatus):
    """In CI (STADTBOTE_REQUIRE_ALL=1) a skipped test is a failure: CI installs every part the tests need."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("STADTBOTE_REQUIRE_ALL") and skipped and exitstatus == 0:
        print(f"\n{len(skipped)} test(s) skipped although STADTBOTE_REQUIRE_ALL is set: failing the run")
        session.exitstatus = 1


@pytest.fixture(scope="session")
def test_password_hash() -> str:
    """One Argon2id hash for every fixture user: hashing costs ~0.1 s, and tests add many users."""
    return hash_password(TEST_PASSWORD)




@pytest.fixture(scope="session")
def s3_service():
    """A real S3-compatible server (moto's standalone server) on loopback, checking credentials."""
    from fakes.s3 import start_s3_service

    server, service = start_s3_service()
    yield service
    server.stop()


@pytest.fixture
def s3_bucket(s3_service) -> str:
    """A new, empty bucket of `s3_service` for one test."""
    return s3_service.new_bucket()
