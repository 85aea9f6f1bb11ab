"""The field names of vLLM's ``EngineArgs`` read from its source, without importing vLLM.

The engine option table (``dart.options.VLLM_LLM_OPTIONS``) passes names through to
``vllm.LLM``; they must be ``EngineArgs`` fields of the vLLM that production pins
(``envs/vllm.yaml``), which this machine cannot install. So each pinned version's list
is recorded here from its published wheel, and the tests check the option table against
the list of the pinned version (and, where a vLLM is installed, the list against it):

    pip download vllm==0.33.0 --no-deps -d /tmp/w
    python tests/engines/vllm_engine_args/record.py /tmp/w/vllm-0.33.0-*.whl 0.33.0
"""

from __future__ import annotations

import ast
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARG_UTILS = "vllm/engine/arg_utils.py"


def engine_args_fields(source: str) -> frozenset[str]:
    """The dataclass fields of ``class EngineArgs`` in ``vllm/engine/arg_utils.py``:
    its annotated class attributes, ``ClassVar`` ones excepted."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name == "EngineArgs":
            return frozenset(
                item.target.id
                for item in node.body
                if isinstance(item, ast.AnnAssign)
                and isinstance(item.target, ast.Name)
                and "ClassVar" not in ast.unparse(item.annotation)
            )
    raise ValueError("no class EngineArgs in the source")


def recorded(version: str) -> frozenset[str] | None:
    """The recorded fields of vLLM ``version``; None when it was never recorded."""
    path = HERE / f"vllm-{version}.txt"
    return frozenset(path.read_text().split()) if path.is_file() else None


def main(wheel_or_file: str, version: str) -> None:
    if wheel_or_file.endswith(".whl"):
        with zipfile.ZipFile(wheel_or_file) as wheel:
            source = wheel.read(ARG_UTILS).decode()
    else:
        source = Path(wheel_or_file).read_text()
    names = sorted(engine_args_fields(source))
    (HERE / f"vllm-{version}.txt").write_text("\n".join(names) + "\n")
    print(f"vllm {version}: {len(names)} EngineArgs fields recorded")


if __name__ == "__main__":
    main(*sys.argv[1:])
