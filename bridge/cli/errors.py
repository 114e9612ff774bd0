"""The one exception a `stadtbote` verb raises for a user-facing failure: printed as one line, exit 1."""


class CommandError(Exception):
    """A user-facing failure, printed as one line."""
