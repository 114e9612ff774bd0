from support.mail import smtp  # noqa: F401  (fixture)
