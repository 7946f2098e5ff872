"""The one exception type a user sees, and how any error becomes the one line they read."""

from __future__ import annotations

import re


class InterfacialError(ValueError):
    """Bad input or configuration, reported as one line by the command line (exit code 2)."""


#: ``scheme://user:password@host`` in any text: the password is replaced, the rest kept so
#: the user still sees which server and which account were meant.
_URI_CREDENTIALS = re.compile(
    r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:)(?P<secret>[^\s@/]+)@"
)


def mask_secrets(text: str) -> str:
    """Replace the password of every URI in ``text`` by ``***`` (``mongodb://u:***@host``)."""
    return _URI_CREDENTIALS.sub(lambda m: f"{m['head']}***@", text)


def one_line(text: str) -> str:
    """Collapse whitespace and newlines into single spaces and mask secrets."""
    return mask_secrets(" ".join(str(text).split()))
