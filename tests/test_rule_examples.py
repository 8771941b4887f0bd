"""Every rule documents itself, and its examples are tests: the bad one is flagged, the good one clean."""

import pytest

from torchshape_lint.checks.analyze import analyze_source
from torchshape_lint.checks.rules import all_rules

RULES = sorted(all_rules().values(), key=lambda r: r.code)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_has_docs(rule):
    assert rule.code.startswith("TSL") and rule.name == rule.name.lower() and " " not in rule.name
    assert rule.__doc__ and rule.summary and rule.why and rule.fix and rule.fix_safety


# Confirm-only rules' examples need PyTorch to run them: tests/test_confirm.py checks those.
@pytest.mark.parametrize("rule", [r for r in RULES if r.bad and not getattr(r, "confirm_only", False)],
                         ids=lambda r: r.code)
def test_bad_example_is_flagged_and_good_one_is_clean(rule):
    bad = analyze_source(rule.bad, "bad.py").findings
    assert [f.code for f in bad] == [rule.code], [f.text for f in bad]
    assert analyze_source(rule.good, "good.py").findings == []
