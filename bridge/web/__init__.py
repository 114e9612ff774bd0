"""HTTP views of the bridge: sign-in, editor, administration, automation API, public pages."""
