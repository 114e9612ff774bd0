"""Admins' pages under /admin: users and API tokens."""
