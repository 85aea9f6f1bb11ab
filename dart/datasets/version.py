"""The dataset assembly version (recipes' selection and the assembly itself); a leaf.

Bump it when the rows a recipe selects, their order or the dataset's columns change.
"""

ASSEMBLY_VERSION = "1"
