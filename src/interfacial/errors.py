"""The one exception type a user sees: it names what was wrong and what to do."""


class InterfacialError(ValueError):
    """Bad input or configuration, reported as one line by the command line (exit code 2)."""
