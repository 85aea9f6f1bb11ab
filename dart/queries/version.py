"""The query ingestion version (readers, normalisation, ids, deduplication); a leaf.

Bump it when the same raw source would give another query table.
"""

#: 2: a MATH solution's reference is read by the one box reader (dart.answers): the last
#: top-level box, escaped braces skipped, ``\boxed`` then a newline is not a box; a
#: boolean level is no level.
QUERIES_VERSION = "2"
