"""Answer templates (Textbausteine) per account: listed, added and removed on the dialogue desk, and filled
into the answer form. Placeholders are German words in braces, replaced when the template is chosen:
{konto} the account's name, {beitrag} the link to the post the reply belongs to, {datum} today's date."""

from __future__ import annotations

from datetime import datetime

from activitypub.uris import Uris
from bridge.config.model import Config
from consent.models import Reply

PLACEHOLDERS = ("{konto}", "{beitrag}", "{datum}")
TITLE_LIMIT = 120
BODY_LIMIT = 5000


def fill_template(body: str, config: Config, reply: Reply, now: datetime | None = None) -> str:
    actor = config.actor(reply.actor_name)
    link = Uris.for_base(config.instance.base_url).permalink(reply.actor_name, str(reply.post_id)) \
        if reply.post_id else ""
    today = (now or datetime.now(config.tz)).astimezone(config.tz).strftime("%d.%m.%Y")
    values = {"{konto}": actor.display_name if actor else reply.actor_name, "{beitrag}": link, "{datum}": today}
    for placeholder, value in values.items():
        body = body.replace(placeholder, value)
    return body
