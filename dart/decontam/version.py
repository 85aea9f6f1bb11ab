"""The decontamination version (normalisation, n-gram overlap, exact match); a leaf.

Bump it when the same queries and benchmarks would flag other rows.
"""

DECONTAM_VERSION = "decontam-1"
