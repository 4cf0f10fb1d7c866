"""Time-sortable unique ids (ULIDs), written here rather than pulled in as a dependency.

A ULID is 48 bits of milliseconds since the epoch followed by 80 random bits,
written as 26 characters of Crockford base32. Sorting ids as strings sorts
them by creation time, which keeps "newest first" cheap and lets a user type
a short prefix the way they would a git hash. Within one millisecond, ids
made by this process increase by one, so they stay strictly ordered even in
a tight loop (the ULID spec's "monotonic" mode).
"""

from __future__ import annotations

import secrets
import threading
import time

__all__ = ["ULID_ALPHABET", "ULID_LENGTH", "is_ulid", "new_id", "ulid_timestamp_ms"]

ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
ULID_LENGTH = 26

_RANDOM_BITS = 80
_RANDOM_MAX = (1 << _RANDOM_BITS) - 1
_TIME_MAX = (1 << 48) - 1

_lock = threading.Lock()
_last_ms = -1
_last_random = 0


def _encode(value: int) -> str:
    chars = []
    for _ in range(ULID_LENGTH):
        chars.append(ULID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id() -> str:
    """A new ULID, greater than every id this process made before."""
    global _last_ms, _last_random
    with _lock:
        now = time.time_ns() // 1_000_000
        if now <= _last_ms:  # same millisecond, or the clock stepped back
            now = _last_ms
            rand = _last_random + 1
            if rand > _RANDOM_MAX:  # 2**80 ids in one ms: move to the next ms
                now, rand = now + 1, secrets.randbits(_RANDOM_BITS)
        else:
            rand = secrets.randbits(_RANDOM_BITS)
        if now > _TIME_MAX:
            raise OverflowError("ULID timestamps end in the year 10889")
        _last_ms, _last_random = now, rand
    return _encode((now << _RANDOM_BITS) | rand)


def is_ulid(text: str) -> bool:
    """Whether ``text`` is a well-formed ULID (upper case, as :func:`new_id` writes it)."""
    return (len(text) == ULID_LENGTH and text[0] in "01234567"
            and all(c in ULID_ALPHABET for c in text))


def ulid_timestamp_ms(ulid: str) -> int:
    """The creation time of ``ulid`` in milliseconds since the epoch."""
    value = 0
    for c in ulid[:10]:
        value = value * 32 + ULID_ALPHABET.index(c)
    return value
