"""The application's side of the consent store: data subjects' rights, erasure, moderation, consent requests, retention, the Art. 30 register."""
