"""The tables of reach figures: counters per page and day, and feed subscribers per aggregator and day.

Nothing here identifies a reader: no address, cookie, user agent or referrer; an aggregator (Feedly,
Inoreader …) is named by the software's own name, and reports its subscribers as a number.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bridge.store.db import Base


class PageView(Base):
    """Views of one public page on one day (the instance's local date), counted in memory and flushed."""

    __tablename__ = "page_view"
    path: Mapped[str] = mapped_column(String(300), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    views: Mapped[int] = mapped_column(Integer, default=0)


class FeedSubscribers(Base):
    """The subscriber count an aggregator announced in its user agent for one feed on one day (the highest)."""

    __tablename__ = "feed_subscribers"
    feed: Mapped[str] = mapped_column(String(300), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    aggregator: Mapped[str] = mapped_column(String(40), primary_key=True)
    subscribers: Mapped[int] = mapped_column(Integer, default=0)
