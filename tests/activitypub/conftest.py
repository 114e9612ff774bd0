"""Fixtures for the activitypub library tests."""

from __future__ import annotations

import pytest
from ap_helpers import read_key


@pytest.fixture
def private_pem() -> str:
    return read_key("test_rsa_private.pem")


@pytest.fixture
def public_pem() -> str:
    return read_key("test_rsa_public.pem")


@pytest.fixture
def other_private_pem() -> str:
    return read_key("test_rsa_2_private.pem")


@pytest.fixture
def other_public_pem() -> str:
    return read_key("test_rsa_2_public.pem")
