"""The grader version that every verdict carries; see dart/grade/CHANGELOG.md.

Bump it (and add a changelog line) whenever a rule or a normalisation changes:

    python -c "from dart.grade import GRADER_VERSION; print(GRADER_VERSION)"
"""

GRADER_VERSION = "1.3.1"
