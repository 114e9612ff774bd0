"""Operating an installation: online backups, restores, and whether the schema is current."""
