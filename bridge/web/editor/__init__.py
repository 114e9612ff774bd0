"""Editors' pages under /editor: dashboard, compose, review, mirrors, feed imports."""
