"""interfacial: alkali-metal anode || solid-electrolyte interphase workflows.

Heavy libraries (pymatgen, torch, atomate2) are imported lazily by the modules that need them, so
that ``import interfacial`` and the command line's ``--help`` stay fast.
"""

__version__ = "0.1.0"
