"""Every rule's documentation, from the rule classes: `torchshape-lint rule CODE` prints it, docs/rules.md is
generated from it (`torchshape-lint rule --format markdown > docs/rules.md`) and SARIF links into that file."""

from __future__ import annotations

import inspect

REPOSITORY = "https://github.com/torchshape-lint/torchshape-lint"
DOCS_URL = f"{REPOSITORY}/blob/main/docs/rules.md"
SECTIONS = ("why", "fix", "fix_safety")
TITLES = {"why": "Why it matters", "fix": "Fix", "fix_safety": "Fix safety"}


def rules() -> list:
    from torchshape_lint.checks.rules import by_code

    return [rule for _, rule in sorted(by_code().items())]


def what(rule) -> str:
    return " ".join(inspect.getdoc(rule).split())


def anchor(rule) -> str:
    """GitHub's anchor for the rule's heading `## TSL001 linear-in-features`."""
    return f"{rule.code.lower()}-{rule.name}"


def help_uri(rule) -> str:
    return f"{DOCS_URL}#{anchor(rule)}"


def rule_text(rule) -> str:
    parts = [f"{rule.code} ({rule.name}): {rule.summary}", "", "What it finds: " + what(rule)]
    parts += [line for key in SECTIONS for line in ("", f"{TITLES[key]}: {getattr(rule, key)}")]
    if rule.bad:
        parts += ["", "Example (flagged):", rule.bad.strip("\n"), "", "Instead:", rule.good.strip("\n")]
    return "\n".join(parts)


def rule_markdown(rule) -> str:
    parts = [f"## {rule.code} {rule.name}", "", f"**{rule.summary}.** {what(rule)}"]
    parts += [line for key in SECTIONS for line in ("", f"**{TITLES[key]}:** {getattr(rule, key)}")]
    if rule.bad:
        parts += ["", "Flagged:", "", "```python", rule.bad.strip("\n"), "```", "", "Clean:", "", "```python",
                  rule.good.strip("\n"), "```"]
    return "\n".join(parts)


def rules_markdown() -> str:
    """The whole of docs/rules.md."""
    listed = rules()
    table = ["| code | name | what it finds |", "|---|---|---|"]
    table += [f"| [{r.code}](#{anchor(r)}) | {r.name} | {r.summary} |" for r in listed]
    header = ["# torchshape-lint rules", "",
              "<!-- Generated from the rule classes by `torchshape-lint rule --format markdown > docs/rules.md`; "
              "tests/test_rule_docs.py fails when it is stale. -->", ""]
    return "\n".join(header + table + [""] + ["\n".join([rule_markdown(r), ""]) for r in listed])
