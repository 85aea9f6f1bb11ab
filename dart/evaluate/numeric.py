"""Numeric value of a short LaTeX answer, read without eval: for tolerance comparisons.

Reads numbers (``1,234``, ``-0.5``, ``1.5e-3``), ``\\frac``, ``\\sqrt``, ``\\pi``, ``^``,
``\\cdot``/``\\times``, ``%`` and brackets, drops ``$``, ``\\text{...}`` and degree signs,
and evaluates the result by walking its Python syntax tree (numbers, + - * / ** and
sqrt only; exponents and sizes bounded). Anything else (variables, sets, matrices) is
``None``: not a plain number, to be compared symbolically by the grader instead.

    python -c "from dart.evaluate.numeric import numeric_value; print(numeric_value('\\\\frac{\\\\sqrt{3}}{2}'))"
"""

from __future__ import annotations

import ast
import math
import operator
import re

MAX_LENGTH = 200
MAX_EXPONENT = 1000
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_INNER_FRAC = re.compile(r"\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_FRAC_DIGITS = re.compile(r"\\frac\s*(\d)\s*(\d)")
_ROOT_N = re.compile(r"\\sqrt\s*\[([^\[\]{}]*)\]\s*\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\s*\{([^{}]*)\}")
_SQRT_DIGIT = re.compile(r"\\sqrt\s*(\d+(?:\.\d+)?)")
_SCI = re.compile(r"(\d(?:\.\d*)?)[eE]([-+]?\d+)")
_IMPLICIT = re.compile(
    r"(?<=[\d)])\s*(?=sqrt\(|pi\b|\()|(?<=\bpi)\s*(?=[\d(]|sqrt)|(?<=\))\s*(?=\d)"
)
_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _clean(text: str) -> str:
    text = text.strip().strip("$").strip()
    text = re.sub(r"\\(?:text|mathrm|textbf|mbox)\s*\{[^{}]*\}", " ", text)
    text = re.sub(r"\^\s*\{?\\circ\}?|\\circ|°|\\degree", "", text)
    text = re.sub(r"\\(?:left|right|displaystyle|!|,|;|:|\s)", "", text)
    text = re.sub(r"\\[dt]frac", r"\\frac", text)
    text = text.replace("\\%", "%").replace("\\pi", " pi ").replace("π", " pi ")
    return text.replace("\\cdot", "*").replace("\\times", "*").strip()


def to_python(text: str) -> str | None:
    """A Python arithmetic expression for the LaTeX number ``text``, or None."""
    text = _clean(text)
    if not text or len(text) > MAX_LENGTH:
        return None
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    text = _FRAC_DIGITS.sub(r"((\1)/(\2))", text)
    for _ in range(10):  # innermost first, so nesting unwinds a level per pass
        new = _ROOT_N.sub(r"((\2)**(1/(\1)))", text)
        new = _SQRT.sub(r"sqrt(\1)", new)
        new = _INNER_FRAC.sub(r"((\1)/(\2))", new)
        if new == text:
            break
        text = new
    text = _SQRT_DIGIT.sub(r"sqrt(\1)", text)
    text = _SCI.sub(r"(\1*10**(\2))", text)
    text = text.replace("{", "(").replace("}", ")").replace("[", "(").replace("]", ")")
    text = text.replace("^", "**").replace("%", "*0.01")
    text = _IMPLICIT.sub("*", text)
    if re.search(r"[^0-9a-z.+\-*/() ]", text) or set(re.findall(r"[a-z]+", text)) - {"sqrt", "pi"}:
        return None
    return text


def _walk(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _walk(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    if isinstance(node, ast.Name) and node.id == "pi":
        return math.pi
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _walk(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        base, exponent = _walk(node.left), _walk(node.right)
        if abs(exponent) > MAX_EXPONENT:
            raise ValueError("exponent too large")
        return math.pow(base, exponent)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_walk(node.left), _walk(node.right))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "sqrt"
        and len(node.args) == 1
        and not node.keywords
    ):
        return math.sqrt(_walk(node.args[0]))
    raise ValueError(f"not arithmetic: {type(node).__name__}")


def numeric_value(text: str) -> float | None:
    """The value of a LaTeX number/arithmetic expression, or None when it is not one."""
    expression = to_python(text)
    if expression is None:
        return None
    try:
        value = _walk(ast.parse(expression, mode="eval"))
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError, RecursionError):
        return None
    return value if math.isfinite(value) else None
