"""Reading the project's own source, for the checks in tests/code/."""

from __future__ import annotations

import ast


def docstring_constants(tree: ast.AST) -> set[int]:
    """The ``id`` of every docstring constant of ``tree`` (module, class, function): prose
    that a check of the code's strings passes over."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found
