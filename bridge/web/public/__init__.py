"""What readers see, without cookies: pages, feeds, avatars, media, follow help, legal pages, consent withdrawal."""
