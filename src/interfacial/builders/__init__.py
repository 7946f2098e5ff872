"""maggma builders: derive properties from stored task documents with the analysis functions."""
