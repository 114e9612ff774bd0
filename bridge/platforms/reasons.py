"""Why a mirroring job (send, backfeed, credential check) ended as it did, beside the connectors' own
`Reason`s (which say what the platform answered)."""

from __future__ import annotations

import enum


class MirrorReason(enum.StrEnum):
    PLATFORM_PAUSED = "platform_paused"
    RECONNECT_NEEDED = "reconnect_needed"
    NOTHING_TO_SEND = "nothing_to_send"
    NO_HTTP_CLIENT = "no_http_client"
    UNKNOWN_PLATFORM = "unknown_platform"
    NO_CONNECTOR = "no_connector"
    ALREADY_SETTLED = "already"  # with the send's state as detail: "already:sent"
    POST_NOT_PUBLIC = "post_not_public"
    NOT_SENT = "not_sent"
    NOTHING_TO_DELETE = "nothing_to_delete"
    NEVER_SENT = "never_sent"
    UNKNOWN_OUTCOME_EDITOR_DECIDES = "unknown_outcome_editor_decides"
    UNKNOWN_OUTCOME_RECONCILE = "unknown_outcome_reconcile"
    NOT_MIRRORED = "not_mirrored"
    BACKFEED_OFF = "backfeed_off"
    REPLIES_NOT_READABLE = "replies_not_readable"
    NO_PLATFORMS = "no_platforms"
    CHECKED = "checked"  # with each platform's outcome as detail
    BY_HAND = "by_hand"

    @property
    def description(self) -> str:
        return MIRROR_TEXT[self]


MIRROR_TEXT = {
    MirrorReason.PLATFORM_PAUSED: "the platform asked us to slow down: waiting until it allows more",
    MirrorReason.RECONNECT_NEEDED: "the platform account must be reconnected first",
    MirrorReason.NOTHING_TO_SEND: "the post or its send no longer exists",
    MirrorReason.NO_HTTP_CLIENT: "this worker has no federation client (tests only)",
    MirrorReason.UNKNOWN_PLATFORM: "the platform is no longer configured",
    MirrorReason.NO_CONNECTOR: "there is no connector for this kind of platform",
    MirrorReason.ALREADY_SETTLED: "the send was settled meanwhile: nothing to do",
    MirrorReason.POST_NOT_PUBLIC: "the post is no longer public: not sent",
    MirrorReason.NOT_SENT: "the post never reached the platform: nothing to edit",
    MirrorReason.NOTHING_TO_DELETE: "the post never reached the platform: nothing to delete",
    MirrorReason.NEVER_SENT: "the platform does not have the post: nothing to delete",
    MirrorReason.UNKNOWN_OUTCOME_EDITOR_DECIDES: "unclear whether the post arrived, and the platform cannot tell: "
                                                 "an editor decides",
    MirrorReason.UNKNOWN_OUTCOME_RECONCILE: "unclear whether the post arrived: the platform is asked again later",
    MirrorReason.NOT_MIRRORED: "the post is not on this platform: no replies to fetch",
    MirrorReason.BACKFEED_OFF: "fetching replies is turned off for this platform or post",
    MirrorReason.REPLIES_NOT_READABLE: "the platform offers no way to read replies",
    MirrorReason.NO_PLATFORMS: "no platform is configured",
    MirrorReason.CHECKED: "every platform account's credentials were checked",
    MirrorReason.BY_HAND: "the platform has no API: the prepared text waits for an editor to post it by hand",
}
