"""The ``interfacial`` command line: a thin face over the Python API.

Importing the package registers every command on :data:`app`; the console script is
``interfacial = interfacial.cli:main``.
"""

from interfacial.cli import campaigns, potentials, results, screening, surfaces, transport
from interfacial.cli.app import app, main

__all__ = [
    "app",
    "campaigns",
    "main",
    "potentials",
    "results",
    "screening",
    "surfaces",
    "transport",
]
