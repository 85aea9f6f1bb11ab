"""DART-Math as a data-lineage pipeline: queries -> sampling pool -> datasets -> models -> results."""

__version__ = "0.1.0"
