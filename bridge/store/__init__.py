"""The database: engine and sessions, the tables of every capability, migrations."""
