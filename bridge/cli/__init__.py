"""The command line: the stadtbote script's verbs and their handlers."""
