"""The rules of the screening funnel, outside :mod:`interfacial.analysis`.

- :mod:`~interfacial.screening.reduction`: an electrolyte's full reduction by the metal (which
  products, their coefficients and fractions, their grand-potential stability);
- :mod:`~interfacial.screening.rules`: which facets to pair, candidate ids, ranking by W,
  Spearman between tiers, dominant interfaces and transport recommendations.

They sit here rather than in :mod:`interfacial.analysis` (pure physics, no I/O, nothing but
numbers in and out) because they read structure files and work on the screening documents.
The flow (:mod:`interfacial.flows.screening`, :mod:`interfacial.jobs.screening`), its builder and
the API call them.
"""
