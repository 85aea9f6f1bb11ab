"""The package's shape: imports point one way (import-linter, configured in pyproject.toml)
and no module hides an import of the package's own modules inside a function."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import dart

PACKAGE = Path(dart.__file__).parent
#: The marker a deliberate deferral carries on its line or the line above (a module that
#: pulls in torch, transformers, vllm, deepspeed or matplotlib, loaded only when used).
DEFERRED = "# deferred:"


def _inner_imports(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    lines = path.read_text().splitlines()
    found = []

    def visit(node: ast.AST, inside: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if inside and isinstance(child, ast.Import | ast.ImportFrom):
                names = [a.name for a in child.names] if isinstance(child, ast.Import) else []
                names += [child.module or ""] if isinstance(child, ast.ImportFrom) else []
                here = " ".join(lines[max(child.lineno - 2, 0) : child.lineno])
                if any(n.split(".")[0] == "dart" for n in names) and DEFERRED not in here:
                    found.append(f"{path.relative_to(root)}:{child.lineno}")
            is_function = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(child, inside or is_function)

    visit(ast.parse("\n".join(lines)), False)
    return found


def test_no_function_level_imports_of_the_package():
    found = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in _inner_imports(path)]
    assert not found, f"import at the top, or mark a heavy deferral '{DEFERRED} why': {found}"


def test_the_checker_sees_a_hidden_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from dart import errors\n    return errors\n")
    assert len(_inner_imports(module, tmp_path)) == 1
    module.write_text("def f():\n    # deferred: pulls in torch\n    from dart import errors\n")
    assert not _inner_imports(module, tmp_path)


LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(LINT_IMPORTS is None, reason="import-linter not installed (the dev extra)")
def test_import_contracts_hold():
    """Layers and no cycles; `make lint` runs the same check."""
    out = subprocess.run([LINT_IMPORTS], cwd=PACKAGE.parent, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]
