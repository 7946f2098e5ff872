"""``python -m interfacial.cli``."""

from interfacial.cli import main

main()
