"""Importing the users module does no work: the Argon2 dummy hash (for unknown names) is made on first use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bridge.auth import users

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])}
# A clean interpreter counts Argon2 hashes made while `bridge.auth.users` is imported, then after one
# sign-in check of an unknown name would need the dummy.
PROBE = """
import argon2
made = []
original = argon2.PasswordHasher.hash
def counting(self, *args, **kwargs):
    made.append(1)
    return original(self, *args, **kwargs)
argon2.PasswordHasher.hash = counting
import bridge.auth.users as users
print(len(made))
users._dummy_hash()
users._dummy_hash()
print(len(made))
"""


def test_importing_the_users_module_computes_no_hash():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=ENV, timeout=60)
    assert done.returncode == 0, done.stderr
    at_import, after_use = done.stdout.split()
    assert at_import == "0"
    assert after_use == "1"  # made once, on first use, then kept


def test_the_dummy_hash_is_a_real_argon2_hash_that_matches_no_typed_password():
    assert users._dummy_hash().startswith("$argon2id$")
    assert not users.check_password(users._dummy_hash(), "")
