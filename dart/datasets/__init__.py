"""Datasets (stage 3): a recipe applied to a finished pool -> a dataset, its card and plots.

Modules: :mod:`recipes` (vrt, uniform, prop2diff and a user's own; pure, no model),
:mod:`assemble` (the first correct responses per query in trial order), :mod:`card`
and :mod:`plots` (the dataset card and its figures), :mod:`cli` (``dart assemble``).

    dart assemble --pool results/pool/smollm2 --recipe-json '{"name": "uniform", "k": 2}' ...
"""
