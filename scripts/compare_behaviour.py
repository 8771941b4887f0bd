#!/usr/bin/env python3
"""Record everything the analysis decides, so that a refactoring can show it changed nothing.

For every .py file of fixtures/ (recursively) and of torchvision's installed models/, analysed through the public
entry point (`analyze_source`, with the file's `ast` tree as flake8 hands it over), without an input shape and with
`--input-shape 1,3,224,224`, one JSON line per file and input records:

- every build: name, input origin, input shape, whether it built a model;
- every layer application: label, line:column, shapes before and after, formula;
- every decided check: build, label, line, declared, arriving, agrees;
- every finding: code, line, column, end, message, suggestion, trace, builds, origin;
- the counts (layers checked, unknown) and the skipped builds with their reasons.

    python scripts/compare_behaviour.py /tmp/before.jsonl          # record
    python scripts/compare_behaviour.py /tmp/after.jsonl --against /tmp/before.jsonl

With --against, prints each file and input whose record differs (the first differing field) and exits 1 when
any does.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from torchshape_lint.checks.analyze import analyze_source  # noqa: E402
from torchshape_lint.shapes import dims  # noqa: E402
from torchshape_lint.source.reader import SourceFile  # noqa: E402

INPUT_SHAPES = (None, (1, 3, 224, 224))


def trees() -> list[tuple[str, Path]]:
    """(name shown in the record, folder) for fixtures/ and torchvision's models/ (found without importing it)."""
    found = [("fixtures", ROOT / "fixtures")]
    spec = importlib.util.find_spec("torchvision")
    if spec is not None and spec.submodule_search_locations:
        found.append(("torchvision/models", Path(spec.submodule_search_locations[0]) / "models"))
    return found


def plain(value: Any) -> Any:
    """A value as JSON can hold it: sizes as ints, symbolic sizes as they print, tuples as lists."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    return dims.show(value)


def record(name: str, path: Path, input_shape: tuple | None) -> dict:
    source = SourceFile.from_bytes(path.read_bytes(), str(path))
    report = analyze_source(source.text, str(path), ast.parse(source.text), input_shape)
    return {
        "file": name,
        "input_shape": plain(input_shape),
        "builds": [{"name": b.name, "origin": b.origin, "input": plain(b.input), "is_model": b.is_model,
                    "steps": [[s.label, f"{s.line}:{s.column}", plain(s.before), plain(s.after), s.formula]
                              for s in b.steps]} for b in report.builds],
        "checks": [[c.model, c.label, c.line, plain(c.declared), c.arriving, c.agrees] for c in report.checks],
        "findings": [{"code": f.code, "at": f"{f.line}:{f.column}-{f.end_line}:{f.end_column}", "message": f.text,
                      **{key: shown[key] for key in ("suggestion", "trace", "model")}, "origin": f.origin}
                     for f, shown in ((f, f.as_dict()) for f in report.findings)],
        "layers_checked": report.layers_checked,
        "layers_unknown": report.layers_unknown,
        "skipped": [list(s) for s in report.skipped],
    }


def first_difference(before: Any, after: Any, where: str = "") -> str:
    if type(before) is not type(after):
        return f"{where}: {before!r} → {after!r}"
    if isinstance(before, dict):
        for key in dict.fromkeys([*before, *after]):
            if before.get(key) != after.get(key):
                return first_difference(before.get(key), after.get(key), f"{where}.{key}")
    if isinstance(before, list):
        for i, (b, a) in enumerate(zip(before, after)):
            if b != a:
                return first_difference(b, a, f"{where}[{i}]")
        if len(before) != len(after):
            return f"{where}: {len(before)} items → {len(after)}"
    return f"{where}: {before!r} → {after!r}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="the JSON-lines file to write")
    parser.add_argument("--against", help="an earlier record to compare with")
    options = parser.parse_args()
    records = []
    for tree, folder in trees():
        for path in sorted(folder.rglob("*.py")):
            name = f"{tree}/{path.relative_to(folder).as_posix()}"
            records.extend(record(name, path, shape) for shape in INPUT_SHAPES)
    with open(options.output, "w", encoding="utf-8") as out:
        for line in records:
            out.write(json.dumps(line, sort_keys=True) + "\n")
    print(f"{len(records)} records ({sum(len(r['findings']) for r in records)} findings, "
          f"{sum(len(r['builds']) for r in records)} builds) written to {options.output}")
    if not options.against:
        return 0
    with open(options.against, encoding="utf-8") as handle:
        earlier = {(r["file"], str(r["input_shape"])): r for r in map(json.loads, handle)}
    now = {(r["file"], str(r["input_shape"])): json.loads(json.dumps(r, sort_keys=True)) for r in records}
    differing = 0
    for key in dict.fromkeys([*earlier, *now]):
        if earlier.get(key) != now.get(key):
            differing += 1
            print(f"{key[0]} (input {key[1]}): {first_difference(earlier.get(key), now.get(key))}")
    print(f"{differing} of {len(now)} records differ" if differing else "identical")
    return 1 if differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
