"""Who may do what: users and passwords, the accounts a user may post as, API tokens."""
