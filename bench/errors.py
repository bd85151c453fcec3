"""User-facing errors: one line that says what was wrong and what to do; the CLI exits with code 2."""

from collections.abc import Mapping


class UserError(Exception):
    """A problem with the user's input or environment, not a bug."""


def lookup(registry: Mapping, name: str, kind: str):
    """Return `registry[name]`, or fail with a message that lists the valid names."""
    try:
        return registry[name]
    except KeyError:
        valid = ", ".join(sorted(registry))
        raise UserError(f"unknown {kind} {name!r}; choose one of: {valid}") from None
