"""Feed rendering and import: RSS 2.0, Atom 1.0, JSON Feed 1.1, conditional GET, WebSub ping forms.

Never imports bridge, activitypub or consent, and never touches a database: the bridge passes DTOs
in and gets bytes, headers and typed results back. Import the submodules directly, e.g.
`from feeds.render import render_atom`; this file stays empty of imports so that importing one part
does not load feedgen and feedparser both.
"""
