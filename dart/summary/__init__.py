"""Summary (stage 6): every result in one table, with the paper's numbers beside ours.

Module: :mod:`table` (collect results, the markdown/CSV table and chart, ``dart summarize``).

    dart summarize results/eval -o results/summary.md
"""
