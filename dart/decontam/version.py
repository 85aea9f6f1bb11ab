"""The decontamination version (a leaf: imports nothing).

Bump it when a change can alter which queries ``dart decontam`` flags (normalising,
tokens, the n-gram or numbers-must-agree rules).

    python -c "from dart.decontam.version import DECONTAM_VERSION; print(DECONTAM_VERSION)"
"""

DECONTAM_VERSION = "decontam-1"
