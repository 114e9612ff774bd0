"""Sealing and opening personal fields with each subject's own key.

The key-encryption key and the pseudonym secret are derived from the instance secret, which lives in a
file outside the database. Each ciphertext is bound (AAD) to its table, field and subject, so a blob
copied onto another row does not open.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass, field

from consent.models import Subject
from consent.pseudonyms import Pseudonymizer
from consent.subjectkeys import decrypt_field, derive_kek, encrypt_field, new_data_key, unwrap_key, wrap_key


class Purpose(enum.StrEnum):
    SUBJECT = "subject"


@dataclass
class Vault:
    kek: bytes = field(repr=False)
    pseudonymizer: Pseudonymizer = field(repr=False)
    _keys: dict[int, bytes] = field(default_factory=dict, repr=False)

    @classmethod
    def from_secret(cls, instance_secret: bytes) -> "Vault":
        # Separate derivations, so the KEK and the pseudonym key never coincide.
        pseudonym_secret = hmac.new(instance_secret, b"stadtbote/pseudonyms/v1", hashlib.sha256).digest()
        return cls(derive_kek(instance_secret), Pseudonymizer(pseudonym_secret))

    def pseudonym(self, identifier: str) -> str:
        return self.pseudonymizer.pseudonym(Purpose.SUBJECT, identifier)

    def new_wrapped_key(self, pseudonym: str) -> bytes:
        return wrap_key(self.kek, new_data_key(), pseudonym.encode())

    def _key(self, subject: Subject) -> bytes | None:
        if subject.wrapped_key is None:
            return None
        if subject.id not in self._keys:
            unwrapped = unwrap_key(self.kek, subject.wrapped_key, subject.pseudonym.encode())
            if not unwrapped.ok:
                return None
            self._keys[subject.id] = unwrapped.key
        return self._keys[subject.id]

    def seal(self, subject: Subject, where: str, value: str) -> bytes:
        key = self._key(subject)
        if key is None:
            raise ValueError("the subject's key is destroyed; nothing can be stored for them")
        return encrypt_field(key, value, self._aad(subject, where))

    def open(self, subject: Subject, where: str, blob: bytes | None) -> str | None:
        """The clear value, or None when the field is empty or the subject was erased."""
        if blob is None:
            return None
        result = decrypt_field(self._key(subject), blob, self._aad(subject, where))
        return result.value if result.ok else None

    def forget(self, subject_id: int) -> None:
        self._keys.pop(subject_id, None)

    @staticmethod
    def _aad(subject: Subject, where: str) -> bytes:
        return f"{where}\x00{subject.pseudonym}".encode()
