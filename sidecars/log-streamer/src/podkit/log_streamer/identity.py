"""What makes a log file the same file: device, inode and a fingerprint of its first bytes.

An inode alone is not enough: after ``delete + create`` the kernel may hand the freed inode to
the new file, and after ``copytruncate`` the same inode holds new content. The fingerprint (a
hash of the first :data:`FINGERPRINT_BYTES` bytes, or of fewer when the file was shorter at first
sight, with that length kept) tells the two apart. The identity's :attr:`FileIdentity.key` is the
stable part of every record id (``key:offset``) and the checkpoint's row key.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

__all__ = ["FINGERPRINT_BYTES", "FileIdentity", "identify", "matches"]

FINGERPRINT_BYTES = 256


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """One file's content generation: ``dev``/``ino`` plus the hash of its first ``length`` bytes."""

    dev: int
    ino: int
    length: int
    digest: str

    @property
    def key(self) -> str:
        """``dev:ino:length:digest`` — stable across restarts, renames and moves on one device."""
        return f"{self.dev}:{self.ino}:{self.length}:{self.digest}"

    @classmethod
    def from_key(cls, key: str) -> FileIdentity:
        dev, ino, length, digest = key.split(":")
        return cls(int(dev), int(ino), int(length), digest)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def identify(fd: int) -> FileIdentity | None:
    """The identity of the open file ``fd``, or ``None`` while it is empty (nothing to hash)."""
    st = os.fstat(fd)
    head = os.pread(fd, FINGERPRINT_BYTES, 0)
    if not head:
        return None
    return FileIdentity(st.st_dev, st.st_ino, len(head), _digest(head))


def matches(fd: int, identity: FileIdentity) -> bool:
    """Whether ``fd`` still starts with the bytes ``identity`` was taken from (same inode assumed)."""
    head = os.pread(fd, identity.length, 0)
    return len(head) == identity.length and _digest(head) == identity.digest
