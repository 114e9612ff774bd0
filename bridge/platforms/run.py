"""One platform job's view of its work, shared by the job and the code that concludes its outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bridge.config.model import PlatformConfig
from bridge.platforms.connectors.base import Connector
from bridge.queue.context import WorkerContext
from bridge.store.models import Post
from bridge.store.platforms import PlatformAccount, PlatformSend
from bridge.platforms.accounts import save_state


@dataclass
class Run:
    """One job's view: the platform, its account row, the connector and the send row."""

    ctx: WorkerContext
    session: AsyncSession
    platform: PlatformConfig
    account: PlatformAccount
    connector: Connector
    row: PlatformSend
    post: Post
    now: datetime
    key: bytes
    last_attempt: bool = False  # the job's last: an outcome that would retry fails the send instead

    def save_account(self) -> None:
        save_state(self.account, self.key, self.connector.account, self.now)
