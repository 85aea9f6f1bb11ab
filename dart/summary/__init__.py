"""Summary (stage 6): every result in one table, with the paper's numbers beside ours.

Modules: :mod:`table` (collect results; the markdown and CSV tables), :mod:`plots` (the
chart), :mod:`cli` (``dart summarize``).

    dart summarize --results results -o results/summary.md --csv results/summary.csv
"""
