"""A behaviour change of the grader without a version bump fails here (issue 16 item 5).

The sha256 of the grader's verdicts (verdict, reason, extracted answer) on every row of the
labelled suite and of the independently labelled suite is pinned to GRADER_VERSION.

How to update it, with a bump: change a rule, run this test and read the new hash from the
failure message; bump ``GRADER_VERSION`` in dart/grade/version.py, add the changelog entry in
dart/grade/CHANGELOG.md, and add ``"<new version>": "<new hash>"`` to ``EXPECTED`` below
(keep the old entries: they record what each version decided). Never change the hash of a
version for a change of the grader's code: a change without a bump is exactly what this
catches. Rows added to a suite change the hash too: then, and only in the commit that adds
rows and touches no grader code, re-pin the current version's hash.
"""

import hashlib
import json

from dart.grade import GRADER_VERSION, grade

from .independent_suite import rows as independent_rows
from .labelled_suite import suite

EXPECTED = {
    "1.3.0": "fb13c8c0c5706b16a07e4bca84818f6d2c2a0f64caefc58a9e8bfd327e3591e5",
    # 1.3.1 changes no verdict of the two suites (its case is in test_grade_extract.py)
    "1.3.1": "fb13c8c0c5706b16a07e4bca84818f6d2c2a0f64caefc58a9e8bfd327e3591e5",
}


def verdict_hash() -> str:
    digest = hashlib.sha256()
    for row in [*suite(), *independent_rows()]:
        verdict = grade(
            row["response"],
            row["gold"],
            kind=row.get("kind"),
            query=row.get("query"),
            finish_reason=row.get("finish_reason"),
            timeout=60,  # generous: a loaded machine must not turn a decision into a timeout
        )
        line = [row["response"], row["gold"], verdict.verdict, verdict.reason, verdict.extracted]
        digest.update(json.dumps(line, ensure_ascii=True).encode() + b"\n")
    return digest.hexdigest()


def test_verdicts_on_the_labelled_suites_are_pinned_to_the_grader_version():
    found = verdict_hash()
    assert GRADER_VERSION in EXPECTED, (
        f"GRADER_VERSION {GRADER_VERSION} has no pinned hash: add "
        f'"{GRADER_VERSION}": "{found}" to EXPECTED (see the module docstring)'
    )
    assert found == EXPECTED[GRADER_VERSION], (
        f"the grader's verdicts changed but GRADER_VERSION is still {GRADER_VERSION}: bump it, "
        f'write the changelog entry and pin the new hash "{found}" (see the module docstring)'
    )
