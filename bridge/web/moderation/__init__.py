"""Moderation of citizens' replies under /editor/actors/{name}/replies."""
