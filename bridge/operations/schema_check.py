"""Whether the database's schema is the one this version of Stadtbote expects: `stadtbote db check`, and
the start of `serve` and `worker` when `[database] migrate_on_start = false`."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bridge.config.model import Config
from bridge.operations.databases import database_revision
from bridge.store import schema


class SchemaState(enum.StrEnum):
    CURRENT = "current"
    PENDING = "pending"
    NEWER = "newer"  # the database was migrated by a newer version than this one


@dataclass(frozen=True)
class SchemaStatus:
    state: SchemaState
    database: str | None  # the revision the database is at (None: no schema yet)
    code: str | None  # the newest revision this version knows
    pending: tuple[str, ...] = ()

    @property
    def current(self) -> bool:
        return self.state is SchemaState.CURRENT

    @property
    def description(self) -> str:
        if self.state is SchemaState.CURRENT:
            return f"database schema is current ({self.database})"
        if self.state is SchemaState.NEWER:
            return (f"database schema {self.database} is newer than this version of Stadtbote knows "
                    f"({self.code}); install the newer version")
        at = f"the database is at {self.database}" if self.database else "the database has no schema yet"
        return f"{len(self.pending)} database migration(s) pending ({at}, this version needs {self.code})"


async def check_schema(config: Config) -> SchemaStatus:
    return status_of(await database_revision(config.database.url))


def status_of(database: str | None) -> SchemaStatus:
    code = schema.head()
    if database == code:
        return SchemaStatus(SchemaState.CURRENT, database, code)
    if database is not None and database not in schema.revisions():
        return SchemaStatus(SchemaState.NEWER, database, code)
    return SchemaStatus(SchemaState.PENDING, database, code, schema.pending(database))
