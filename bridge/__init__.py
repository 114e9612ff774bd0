"""Stadtbote application: wiring, domain, database, queue, web, CLI, connectors."""
