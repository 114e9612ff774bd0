"""The sentence a moderator reads after an action, per reason code (the codes are also what the audit
entry records)."""

from __future__ import annotations

from bridge.web.messages import N_

NOTICES = {
    "moved": N_("The reply's state was changed."),
    "same_state": N_("The reply already is in this state."),
    "transition_not_allowed": N_("This change of state is not allowed."),
    "unknown_state": N_("The reply is in a state moderation does not know."),
    "consent_requested": N_("The author was asked for consent in a direct message."),
    "no_channel": N_("This author cannot be asked: there is no direct message to platform users or to "
                     "authors whose server is unknown."),
    "opted_out": N_("The author does not want their posts reused (for example #nobot, not indexable or not "
                    "public). The reply is never shown publicly, so they are not asked."),
    "wrong_state": N_("Replies marked as spam are not shown; their authors are not asked."),
    "domain_blocked": N_("The author's server is blocked."),
    "already_asked": N_("The author was already asked about this reply and has not answered yet."),
    "consent_already_given": N_("The author already agreed."),
    "declined_before": N_("The author declined or withdrew their consent; they are not asked again."),
    "blocked": N_("The server is blocked: nothing is received from it or sent to it any more."),
    "already_blocked": N_("The server was already blocked."),
    "invalid_domain": N_("Enter a server name such as example.social."),
    "own_domain": N_("This is our own server; it cannot be blocked."),
    "unblocked": N_("The server is no longer blocked."),
    "not_blocked": N_("The server was not blocked."),
    "no_domain": N_("Replies from platforms have no server to block."),
    "answered": N_("Your answer was created as a post of the account."),
}
