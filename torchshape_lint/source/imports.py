"""Which names a file's imports bind, as qualified names: `nn` → `torch.nn`, `Conv2d` → `torch.nn.Conv2d`."""

from __future__ import annotations

import libcst as cst


def dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{dotted(node.value)}.{node.attr.value}"
    return ""


class ImportCollector(cst.CSTVisitor):
    """Collects `{local name: qualified name}` from import statements (relative ones keep their dots)."""

    def __init__(self) -> None:
        self.bindings: dict[str, str] = {}

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            name = dotted(alias.name)
            if alias.asname is not None:
                self.bindings[dotted(alias.asname.name)] = name
            else:  # `import torch.nn` binds `torch`
                root = name.split(".")[0]
                self.bindings[root] = root
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        module = "." * len(node.relative) + (dotted(node.module) if node.module is not None else "")
        if isinstance(node.names, cst.ImportStar):
            return False
        for alias in node.names:
            name = dotted(alias.name)
            local = dotted(alias.asname.name) if alias.asname is not None else name
            self.bindings[local] = f"{module}.{name}" if not module.endswith(".") else f"{module}{name}"
        return False


def import_bindings(statement: cst.CSTNode) -> dict[str, str]:
    collector = ImportCollector()
    statement.visit(collector)
    return collector.bindings
