"""Which names a file's imports bind, as qualified names: `nn` → `torch.nn`, `Conv2d` → `torch.nn.Conv2d`."""

from __future__ import annotations

import ast


def import_bindings(statement: ast.Import | ast.ImportFrom) -> dict[str, str]:
    """`{local name: qualified name}` of one import statement (relative ones keep their dots; `*` binds none)."""
    bindings: dict[str, str] = {}
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            if alias.asname is not None:
                bindings[alias.asname] = alias.name
            else:  # `import torch.nn` binds `torch`
                root = alias.name.split(".")[0]
                bindings[root] = root
        return bindings
    module = "." * statement.level + (statement.module or "")
    for alias in statement.names:
        if alias.name == "*":
            return {}
        local = alias.asname if alias.asname is not None else alias.name
        bindings[local] = f"{module}.{alias.name}" if not module.endswith(".") else f"{module}{alias.name}"
    return bindings
