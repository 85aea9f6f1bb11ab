"""The dataset assembly version (a leaf: imports nothing, so Snakemake reads it cheaply).

Bump it when a change can alter which rows a dataset keeps or how they are written (the
recipes' targets in :mod:`dart.recipes` included).

    python -c "from dart.datasets.version import ASSEMBLY_VERSION; print(ASSEMBLY_VERSION)"
"""

ASSEMBLY_VERSION = "1"
