"""VASP engine: input sets as the study ran them, relax makers run under custodian by atomate2."""
