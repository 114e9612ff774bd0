"""Words for the codes people see: audit actions, outcomes, reason codes, purposes, legal bases, visibilities,
request kinds and states. One mapping for every page, so a code is named the same way everywhere; the code
itself stays available to experts (templates put it in a title attribute, see `_macros.html` `coded`).

The texts are English message ids, translated at render time like every other interface text."""

from __future__ import annotations

from bridge.web.messages import N_

ACTION = {
    "signin.succeeded": N_("Signed in"),
    "signin.failed": N_("Sign-in failed"),
    "signin.throttled": N_("Sign-in throttled"),
    "signin.unblocked": N_("Sign-in block lifted"),
    "signout": N_("Signed out"),
    "password.changed": N_("Password changed"),
    "password.reset": N_("Password reset"),
    "user.created": N_("User created"),
    "user.disabled": N_("User disabled"),
    "user.role_changed": N_("Role changed"),
    "token.created": N_("API token created"),
    "token.revoked": N_("API token revoked"),
    "token.rejected": N_("API token refused"),
    "csrf.rejected": N_("Form refused (security token missing or invalid)"),
    "key.created": N_("Key created"),
    "actor.created": N_("Account created"),
    "actor.updated": N_("Account changed"),
    "actor.retired": N_("Account retired"),
    "actor.moved": N_("Followers told where the account moved"),
    "platform.connected": N_("Platform account connected"),
    "platform.disconnected": N_("Platform account disconnected"),
    "import.added": N_("Feed import added"),
    "import.paused": N_("Feed import paused"),
    "import.resumed": N_("Feed import resumed"),
    "import.removed": N_("Feed import removed"),
    "post.created": N_("Post created"),
    "post.submitted": N_("Post submitted for approval"),
    "post.approved": N_("Post approved"),
    "post.returned": N_("Post returned to the author"),
    "post.scheduled": N_("Post scheduled"),
    "post.published": N_("Post published"),
    "post.edited": N_("Post edited"),
    "post.deleted": N_("Post deleted"),
    "post.failed": N_("Post failed"),
    "post.federated": N_("Post sent to followers"),
    "delivery.failed": N_("Delivery failed"),
    "follower.gone": N_("Follower's server gone"),
    "inbound.accepted": N_("Message from the fediverse accepted"),
    "inbound.rejected": N_("Message from the fediverse refused"),
    "follower.added": N_("Follower added"),
    "follower.removed": N_("Follower removed"),
    "reply.stored": N_("Reply stored"),
    "reply.updated": N_("Reply updated"),
    "reply.erased": N_("Reply erased"),
    "subject.updated": N_("Person's profile updated"),
    "subject.erased": N_("Person erased (Art. 17)"),
    "interaction.added": N_("Like or boost added"),
    "interaction.removed": N_("Like or boost removed"),
    "report.received": N_("Report received"),
    "quote.answered": N_("Quote request answered"),
    "platform.transfer": N_("Transfer to a platform"),
    "platform.sent": N_("Sent to a platform"),
    "platform.failed": N_("Sending to a platform failed"),
    "platform.unknown": N_("Platform outcome unknown"),
    "platform.edited": N_("Edited on a platform"),
    "platform.deleted": N_("Deleted on a platform"),
    "platform.manual": N_("Platform needs manual action"),
    "platform.decided": N_("Platform outcome decided by an editor"),
    "platform.reconnect_needed": N_("Platform account must be reconnected"),
    "audit.exported": N_("Audit log exported"),
    "retention.purged": N_("Deleted after the retention period"),
    "subject.exported": N_("Person's data exported (Art. 15)"),
    "subject.objected": N_("Objection recorded (Art. 21)"),
    "request.opened": N_("Request recorded"),
    "request.closed": N_("Request answered"),
    "reply.approved": N_("Reply approved"),
    "reply.hidden": N_("Reply hidden"),
    "reply.marked_spam": N_("Reply marked as spam"),
    "reply.answered": N_("Reply answered"),
    "reply.moderation_refused": N_("Moderation step refused"),
    "consent.requested": N_("Consent requested"),
    "consent.given": N_("Consent given"),
    "consent.withdrawn": N_("Consent withdrawn"),
    "domain.blocked": N_("Server blocked"),
    "domain.unblocked": N_("Server unblocked"),
}

OUTCOME = {"ok": N_("done"), "denied": N_("refused"), "failed": N_("failed")}

REASON = {
    # sign-in and API tokens
    "wrong_credentials": N_("wrong user name or password"),
    "disabled": N_("user disabled"),
    "throttled": N_("too many attempts"),
    "missing_token": N_("no token"),
    "unknown_token": N_("unknown token"),
    "revoked_token": N_("token revoked"),
    "user_disabled": N_("user disabled"),
    "actor_not_allowed": N_("account not allowed for this token"),
    "unknown_user": N_("unknown user"),
    "unknown_actor": N_("unknown account"),
    "csrf_missing_or_invalid": N_("security token missing or invalid"),
    # rights of data subjects
    "art15_access": N_("right of access (Art. 15 GDPR)"),
    "art17_erasure": N_("right to erasure (Art. 17 GDPR)"),
    "art21_objection": N_("right to object (Art. 21 GDPR)"),
    "access": N_("access (Art. 15)"),
    "erasure": N_("erasure (Art. 17)"),
    "objection": N_("objection (Art. 21)"),
    # messages from the fediverse: refused
    "too_large": N_("too large"),
    "too_deep": N_("nested too deeply"),
    "invalid_json": N_("not valid JSON"),
    "not_an_object": N_("not a JSON object"),
    "unknown_local_actor": N_("no such account here"),
    "internal_error": N_("internal error"),
    "conflict": N_("conflicting change"),
    "domain_blocked": N_("server blocked"),
    "no_signature": N_("no signature"),
    "malformed_signature": N_("malformed signature"),
    "unsupported_algorithm": N_("unsupported signature algorithm"),
    "insufficient_coverage": N_("signature covers too little"),
    "expired": N_("signature expired"),
    "missing_digest": N_("digest missing"),
    "bad_digest": N_("digest does not match"),
    "key_fetch_failed": N_("signing key could not be fetched"),
    "invalid_signature": N_("invalid signature"),
    "actor_mismatch": N_("signer is not the sender"),
    # messages from the fediverse: what they did
    "follower_added": N_("follower added"),
    "follow_renewed": N_("follow renewed"),
    "follower_removed": N_("follower removed"),
    "reply_stored": N_("reply stored"),
    "reply_updated": N_("reply updated"),
    "reply_erased": N_("reply erased"),
    "subject_updated": N_("profile updated"),
    "subject_erased": N_("person erased"),
    "interaction_added": N_("like or boost added"),
    "interaction_removed": N_("like or boost removed"),
    "report_received": N_("report received"),
    "quote_accepted": N_("quote allowed"),
    "quote_rejected": N_("quote refused"),
    "consent_given": N_("consent given"),
    "consent_withdrawn": N_("consent withdrawn"),
    "consent_unclear": N_("answer unclear"),
    "already_done": N_("already done"),
    "ignored_type": N_("kind of message ignored"),
    "unsupported": N_("not supported"),
    "not_for_us": N_("not addressed to this server"),
    "unknown_post": N_("unknown post"),
    "unknown_subject": N_("unknown person"),
    "subject_gone": N_("person no longer exists"),
    "subject_objected": N_("person has objected"),
    "not_author": N_("not the author"),
    "nothing_to_undo": N_("nothing to undo"),
    "actor_fetch_failed": N_("profile could not be fetched"),
    "object_fetch_failed": N_("content could not be fetched"),
    # outbound requests and deliveries
    "refused_address": N_("address refused (private network)"),
    "refused_scheme": N_("link refused (only http and https)"),
    "too_many_redirects": N_("too many redirects"),
    "timeout": N_("no answer in time"),
    "connection_failed": N_("connection failed"),
    "delivered": N_("delivered"),
    "retry": N_("will be retried"),
    "gone": N_("recipient gone"),
    "rejected": N_("rejected by the recipient"),
    "refused": N_("refused"),
    # platforms
    "server_error": N_("platform error"),
    "malformed_response": N_("unreadable answer"),
    "rate_limited": N_("rate limit reached"),
    "invalid_credentials": N_("access data invalid"),
    "not_found": N_("not found"),
    "edit_unsupported": N_("platform cannot edit"),
    "delete_too_late": N_("too late to delete"),
    "delete_unsupported": N_("platform cannot delete"),
    "image_required": N_("platform needs an image"),
    "image_unusable": N_("image not usable"),
    "undecidable": N_("outcome cannot be decided"),
    "replies_unavailable": N_("replies not available"),
    "deleted_on_platform": N_("deleted on the platform"),
    # consent requests and answers
    "consent_requested": N_("consent requested"),
    "no_channel": N_("no way to ask"),
    "opted_out": N_("person opted out"),
    "wrong_state": N_("not possible in this state"),
    "already_asked": N_("asked before"),
    "consent_already_given": N_("consent already given"),
    "declined_before": N_("declined before"),
    "nothing_to_withdraw": N_("nothing to withdraw"),
    "unclear_answer": N_("answer unclear"),
    "dm_answer": N_("answer by direct message"),
    "undo": N_("undone by the person"),
    "delete_answer": N_("answer deleted"),
    "delete_reply": N_("reply deleted"),
    "link": N_("withdrawal link"),
    # moderation and blocks
    "moved": N_("state changed"),
    "same_state": N_("state unchanged"),
    "transition_not_allowed": N_("change not allowed"),
    "unknown_state": N_("unknown state"),
    "blocked": N_("blocked"),
    "unblocked": N_("unblocked"),
    "already_blocked": N_("already blocked"),
    "not_blocked": N_("not blocked"),
    "invalid_domain": N_("invalid server name"),
    "own_domain": N_("own server"),
    "spam": N_("spam"),
    "abuse": N_("abuse"),
    "other": N_("other reason"),
}

PURPOSE = {
    "security": N_("security"),
    "public_relations": N_("public relations"),
    "federation": N_("federation"),
    "moderation": N_("moderation"),
    "accountability": N_("accountability"),
    "consent": N_("consent"),
}

BASIS = {
    "gdpr_6_1_a": N_("Art. 6(1)(a) GDPR (consent)"),
    "gdpr_6_1_c": N_("Art. 6(1)(c) GDPR (legal obligation)"),
    "gdpr_6_1_e": N_("Art. 6(1)(e) GDPR (public task)"),
}

RETENTION = {"audit": N_("audit log period"), "security": N_("security log period")}

VISIBILITY = {
    "public": N_("public"),
    "unlisted": N_("unlisted"),
    "followers": N_("followers only"),
    "private": N_("followers only"),
    "direct": N_("direct message"),
    "limited": N_("limited"),
}

REQUEST_KIND = {"access": N_("access (Art. 15)"), "erasure": N_("erasure (Art. 17)"),
                "objection": N_("objection (Art. 21)")}

REQUEST_STATE = {"open": N_("open"), "done": N_("answered"), "answered": N_("answered"), "erased": N_("erased"),
                 "objected": N_("objection recorded"), "closed_by_dpo": N_("marked as answered"), "accepted": N_("accepted")}

ROLE = {"admin": N_("administrator"), "editor": N_("editor"), "dpo": N_("data protection officer"),
        "system": N_("system"), "api": N_("API"), "anonymous": N_("anonymous"), "remote": N_("remote server")}

REPLY_STATE = {"pending": N_("Awaiting moderation"), "approved": N_("Approved"), "hidden": N_("Hidden"),
               "spam": N_("Spam or abuse"), "deleted": N_("Deleted")}

INTERACTION = {"like": N_("like"), "announce": N_("boost")}

SOURCE = {"fediverse": N_("fediverse")}

RECIPIENT_ROLE = {"controller (moderators, DPO)": N_("controller (moderation, data protection)"),
                  "the person's own server": N_("the person's own server")}

POLL = {"posted": N_("new entries posted"), "primed": N_("first poll: existing entries noted, nothing posted"),
        "nothing_new": N_("nothing new"), "not_modified": N_("feed unchanged"),
        "not_configured": N_("no feed configured"), "fetch_failed": N_("feed could not be fetched"),
        "http_error": N_("the feed's server answered with an error"), "feed_broken": N_("feed could not be read")}

KINDS = {"action": ACTION, "outcome": OUTCOME, "reason": REASON, "purpose": PURPOSE, "basis": BASIS,
         "retention": RETENTION, "visibility": VISIBILITY, "request_kind": REQUEST_KIND,
         "request_state": REQUEST_STATE, "role": ROLE, "reply_state": REPLY_STATE, "interaction": INTERACTION,
         "source": SOURCE, "recipient_role": RECIPIENT_ROLE,
         "poll": POLL}


def label_of(kind: str, code: object) -> str | None:
    """The message id for `code` of this kind, None for a code without a word (shown as it is)."""
    return KINDS[kind].get(str(code)) if code is not None else None
