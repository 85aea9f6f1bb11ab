"""Datasets (stage 3): a recipe applied to a finished pool -> a dataset, its card and plots.

Modules: :mod:`recipes` (vrt, uniform, prop2diff and a user's own; pure, no model),
:mod:`assemble` (the first correct responses per query in trial order), :mod:`card`
and :mod:`plots` (the dataset card and its figures), :mod:`cli` (``dart assemble``),
:mod:`version` (``ASSEMBLY_VERSION``, a leaf).

    dart assemble --queries data/queries/generated.parquet --verified results/pool/P/round*/verified/*.parquet \\
        --recipe-json '{"recipe": "uniform", "k": 2}' --name uniform --cap 16 -o results/datasets/uniform.parquet ...
"""
