"""The benchmark reader's version (loaders into the common item table); a leaf.

Bump it when the same benchmark source would give another item table.
"""

BENCHMARK_VERSION = "1"
