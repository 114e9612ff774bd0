"""Mirroring posts to commercial platforms: sends and their states, jobs, accounts, health, replies fetched back, connectors."""
