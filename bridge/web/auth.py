"""Placeholder until this view module is written."""

from aiohttp import web


def setup(app: web.Application) -> None:
    """Registers this module's routes."""
