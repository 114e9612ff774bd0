"""The database: engine and sessions, tables per capability, Alembic migrations.

`versions` is imported with the package so that every process that writes through the ORM keeps the read
versions in step (its flush hook), whichever of the store's modules it imports first."""

from bridge.store import versions as versions  # noqa: F401 (registers the flush hook)
