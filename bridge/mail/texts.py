"""What each e-mail says, in German and English: the user's language, else the instance's.

The texts live here and not in the interface catalogue because mail is written by the worker, below the web
layer that owns the catalogue; German is written out in full like there. Placeholders are `str.format`
names; the HTML part is the same text, escaped, with the link made clickable.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, dict[str, str]]] = {
    "password_reset": {
        "de": {
            "subject": "Neues Passwort für {instance}",
            "body": "Guten Tag,\n\nfür den Zugang „{name}“ bei {instance} wurde ein neues Passwort angefordert. "
                    "Mit diesem Link legen Sie es fest; er gilt 30 Minuten und nur einmal:\n\n{link}\n\n"
                    "Wenn Sie das nicht angefordert haben, ignorieren Sie diese Nachricht: Ihr Passwort bleibt, "
                    "wie es ist.",
        },
        "en": {
            "subject": "New password for {instance}",
            "body": "Hello,\n\na new password was requested for the user “{name}” at {instance}. This link sets "
                    "it; it works once, for 30 minutes:\n\n{link}\n\n"
                    "If you did not ask for it, ignore this message: your password stays as it is.",
        },
    },
    "approval_waiting": {
        "de": {
            "subject": "Beitrag für @{actor} wartet auf Ihre Freigabe",
            "body": "Guten Tag,\n\n{author} hat einen Beitrag (oder eine Änderung) für @{actor} zur Freigabe "
                    "eingereicht. Bitte prüfen Sie ihn:\n\n{link}\n\n"
                    "Sie erhalten diese Nachricht, weil Sie für @{actor} schreiben dürfen.",
        },
        "en": {
            "subject": "A post for @{actor} awaits your approval",
            "body": "Hello,\n\n{author} submitted a post (or an edit) for @{actor} for approval. Please review "
                    "it:\n\n{link}\n\nYou get this message because you may post as @{actor}.",
        },
    },
    "post_returned": {
        "de": {
            "subject": "Ihr Beitrag für @{actor} wurde zurückgegeben",
            "body": "Guten Tag,\n\n{reviewer} hat Ihren Beitrag (oder Ihre Änderung) für @{actor} mit diesem "
                    "Kommentar zurückgegeben:\n\n{comment}\n\nZum Beitrag:\n\n{link}",
        },
        "en": {
            "subject": "Your post for @{actor} was returned",
            "body": "Hello,\n\n{reviewer} returned your post (or your edit) for @{actor} with this comment:"
                    "\n\n{comment}\n\nThe post:\n\n{link}",
        },
    },
    "reply_digest": {
        "de": {
            "subject": "Neue Antworten bei {instance}",
            "body": "Guten Tag,\n\nseit der letzten Übersicht sind neue Antworten eingegangen:\n\n{lines}\n\n"
                    "Sie erhalten diese Übersicht, weil Sie sie in Ihren Einstellungen bestellt haben: {settings}",
            "line": "@{actor}: {count} neue Antwort(en) – {link}",
        },
        "en": {
            "subject": "New replies at {instance}",
            "body": "Hello,\n\nnew replies arrived since the last summary:\n\n{lines}\n\n"
                    "You get this summary because you asked for it in your settings: {settings}",
            "line": "@{actor}: {count} new repl(ies) – {link}",
        },
    },
}
