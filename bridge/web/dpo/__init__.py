"""The data-protection officer's pages under /dpo: the audit log and data subjects' rights."""
