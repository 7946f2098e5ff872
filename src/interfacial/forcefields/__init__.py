"""The embedded default engine: universal ML force fields run through ASE (atomate2's makers)."""
