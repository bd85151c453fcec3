"""Seeds derived from names, so adding a model, value or dataset never reshuffles another run's seed."""

import hashlib


def seed_hash(*names) -> int:
    """A 63-bit seed from any sequence of names and numbers."""
    text = "\x1f".join(str(n) for n in names)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1
