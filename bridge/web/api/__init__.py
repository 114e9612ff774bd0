"""The Mastodon-compatible API under /api."""
