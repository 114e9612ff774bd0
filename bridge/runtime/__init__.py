"""Running state shared by server and worker: the federation HTTP client, key cache and signers; the secrets store; the media storage."""
