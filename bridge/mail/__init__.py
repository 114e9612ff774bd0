"""E-mail to staff: notices about posts and replies, and password links, sent by the job queue."""
