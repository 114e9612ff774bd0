from support.mail import mail_config, smtp  # noqa: F401  (fixtures)
