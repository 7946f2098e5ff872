"""The one exception type a user sees, and how any error becomes the one line they read."""

from __future__ import annotations

import re


class InterfacialError(ValueError):
    """Bad input or configuration, reported as one line by the command line (exit code 2)."""


#: ``scheme://user:password@``: the password part, up to the ``@`` that ends the user info.
_CREDENTIALS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*):[^\s@]*@")


def mask_secrets(text: str) -> str:
    """Replace the password of every URI in ``text`` with ``***``.

    ``mongodb://user:pw@host/db`` becomes ``mongodb://user:***@host/db``; URIs without a
    password, and any other text, are left as they are. Every error line of the command line
    goes through this, so a URI quoted by a dependency's message never shows its password.
    """
    return _CREDENTIALS.sub(r"\g<head>:***@", text)


def one_line(text: str) -> str:
    """Collapse whitespace and newlines into single spaces and mask secrets."""
    return mask_secrets(" ".join(str(text).split()))
