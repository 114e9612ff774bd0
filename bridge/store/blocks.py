"""Domain blocks: servers the authority no longer exchanges anything with.

They live with the bridge, not in `consent`: a block is about a server (like delivery health in
`delivery_host`), carries no personal data, and is enforced where the bridge talks to servers — the
inbox refuses their requests and delivery skips their inboxes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bridge.store.db import Base, UTCDateTime, utcnow


class DomainBlock(Base):
    __tablename__ = "domain_block"
    domain: Mapped[str] = mapped_column(String(255), primary_key=True)  # lower-case host; covers subdomains
    reason: Mapped[str] = mapped_column(String(32))  # a code: spam, abuse, other
    blocked_by: Mapped[str] = mapped_column(String(40))  # "user:3"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
