"""Rule docs: every code documented with examples, `torchshape-lint rule`, docs/rules.md generated and current,
and the examples run through the command line (bad flagged with its own code, good clean)."""

import json

from conftest import ROOT, cli

from torchshape_lint.checks.rules import by_code

RULES = sorted(by_code().values(), key=lambda r: r.code)
# TSL9xx report on the tool itself (an internal error, confirm mode's verdicts): no model source shows them.
ON_SOURCE = [r for r in RULES if not r.code.startswith("TSL9")]


def test_every_code_has_a_name_docs_and_examples():
    for rule in RULES:
        assert rule.code.startswith("TSL") and rule.name == rule.name.lower() and " " not in rule.name, rule.code
        assert all(part.strip() for part in (rule.__doc__, rule.summary, rule.why, rule.fix, rule.fix_safety)), rule.code
    for rule in ON_SOURCE:
        assert rule.bad.strip() and rule.good.strip() and rule.bad != rule.good, f"{rule.code} lacks an example"


def test_docs_rules_md_is_generated_from_the_rules():
    generated = cli("rule", "--format", "markdown")
    assert generated.returncode == 0
    assert (ROOT / "docs" / "rules.md").read_text() == generated.stdout, (
        "docs/rules.md is stale: torchshape-lint rule --format markdown > docs/rules.md")
    for rule in RULES:
        assert f"## {rule.code} {rule.name}\n" in generated.stdout
        assert f"](#{rule.code.lower()}-{rule.name})" in generated.stdout  # the table links to the section


def test_rule_command_prints_every_section():
    result = cli("rule", "TSL001")
    assert result.returncode == 0
    for title in ("TSL001 (linear-in-features)", "What it finds:", "Why it matters:", "Fix:", "Fix safety: `--fix`",
                  "Example (flagged):", "nn.Linear(16 * 8 * 8, 10)", "Instead:", "nn.Linear(16 * 16 * 16, 10)"):
        assert title in result.stdout, title
    assert cli("rule", "TSL999").returncode == 2
    assert cli("--rule", "tsl002").stdout.startswith("TSL002 (channel-mismatch)")


def test_examples_through_the_command_line(tmp_path):
    for rule in ON_SOURCE:
        (tmp_path / f"{rule.code}_bad.py").write_text(rule.bad)
        (tmp_path / f"{rule.code}_good.py").write_text(rule.good)
    result = cli("--no-cache", "--format", "json", ".", cwd=tmp_path)
    found = {}
    for item in json.loads(result.stdout):
        found.setdefault(item["path"], []).append(item["code"])
    assert found == {f"./{rule.code}_bad.py": [rule.code] for rule in ON_SOURCE}
    assert result.returncode == 1


def test_fix_safety_says_what_fix_does(tmp_path):
    """A rule's "Fix safety" starts with `--fix` exactly when --fix changes its flagged example (given a concrete
    input where the example has none), and says "No automatic fix" otherwise."""
    for rule in ON_SOURCE:
        path = tmp_path / f"{rule.code}_bad.py"
        path.write_text(rule.bad)
        diff = cli("--no-cache", "--diff", "--input-shape", "1,3,32,32", str(path)).stdout
        if diff:
            assert rule.fix_safety.startswith("`--fix`"), f"{rule.code}: --fix changes its example:\n{diff}"
        else:
            assert rule.fix_safety.startswith("No automatic fix"), f"{rule.code}: {rule.fix_safety}"
