"""What each e-mail says. The English texts are message ids of the interface catalogue
(bridge/locale/<language>/LC_MESSAGES/messages.po), translated into the recipient's language when the worker
writes the mail, like every page of the web interface. Placeholders are `str.format` names, filled in after
the translation; the HTML part is the same text, escaped, with the link made clickable.
"""

from __future__ import annotations

from bridge.runtime.catalogue import translations

PASSWORD_RESET, APPROVAL_WAITING, POST_RETURNED, REPLY_DIGEST, WELCOME = (
    "password_reset", "approval_waiting", "post_returned", "reply_digest", "welcome")

TEXTS: dict[str, dict[str, str]] = {
    PASSWORD_RESET: {
        "subject": "New password for {instance}",
        "body": "Hello,\n\na new password was requested for the user “{name}” at {instance}. This link sets "
                "it; it works once, for 30 minutes:\n\n{link}\n\n"
                "If you did not ask for it, ignore this message: your password stays as it is.",
    },
    APPROVAL_WAITING: {
        "subject": "A post for @{actor} awaits your approval",
        "body": "Hello,\n\n{author} submitted a post (or an edit) for @{actor} for approval. Please review "
                "it:\n\n{link}\n\nYou get this message because you may post as @{actor}.",
    },
    POST_RETURNED: {
        "subject": "Your post for @{actor} was returned",
        "body": "Hello,\n\n{reviewer} returned your post (or your edit) for @{actor} with this comment:"
                "\n\n{comment}\n\nThe post:\n\n{link}",
    },
    REPLY_DIGEST: {
        "subject": "New replies at {instance}",
        "body": "Hello,\n\nnew replies arrived since the last summary:\n\n{lines}\n\n"
                "You get this summary because you asked for it in your settings: {settings}",
        "line": "@{actor}: {count} new repl(ies) – {link}",
    },
    WELCOME: {
        "subject": "Your user at {instance}",
        "body": "Hello,\n\nan administrator created the user “{name}” for you at {instance}. You sign in "
                "here:\n\n{signin}\n\nThe administrator hands you a one-time password separately. To choose "
                "your own password right away, ask for a link with this e-mail address here:\n\n{forgot}\n\n"
                "If you did not expect this message, tell the administrators of {instance}.",
    },
}


def text(kind: str, language: str, part: str, **values) -> str:
    """One part of a mail in `language`; the English text where the catalogue has none."""
    return translations(language).gettext(TEXTS[kind][part]).format(**values)
