"""The query ingestion version (readers, normalisation, ids, deduplication); a leaf.

Bump it when the same raw source would give another query table.
"""

QUERIES_VERSION = "1"
