"""The long differential run: tens of thousands of random models, static analysis against PyTorch.

The generator, the torch harness and the comparison are those of tests/test_differential.py, driven here by
`random.Random(seed)` (one seed per model, so any disagreement is reproducible alone) across processes.

    python scripts/differential_long.py --examples 20000 --jobs 2

Prints the counts, each torch error not found statically (seed, label, where torch raised), and every disagreement
(seed, spelling, the lines, the source); exits 1 if there is one.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import warnings
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def one(seed: int) -> tuple[int, str, Counter, list, str, str]:
    import test_differential as differential

    warnings.simplefilter("ignore")
    spelling = differential.SPELLINGS[seed % len(differential.SPELLINGS)]
    source, run, label = differential.example(differential.RandomChooser(random.Random(seed)), spelling)
    outcome = differential.compare(source, run)
    return (seed, label, outcome.counts, outcome.disagreements, source + (f"\n# run: {run}\n" if run else ""),
            outcome.missed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20000)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    start = time.monotonic()
    counts: Counter = Counter()
    labels: Counter = Counter()
    failures, missed = [], []
    seeds = range(args.first_seed, args.first_seed + args.examples)
    with ProcessPoolExecutor(args.jobs) as pool:
        for seed, label, found, disagreements, source, miss in pool.map(one, seeds, chunksize=20):
            counts += found
            if miss:
                missed.append(f"  seed {seed} ({label}): {miss}")
            spelling, *rest = label.split("/")
            labels[f"spelling {spelling}"] += 1
            if len(rest) >= 2:  # grown models: dimensionality, the planted mistake, and what forward() holds
                labels[f"{rest[0]} models"] += 1
                labels[f"planted mistake: {rest[1]}"] += 1
                labels["models whose forward() merges branches"] += "merges" in rest[2:]
                labels["models whose forward() gives a recurrent layer an initial state"] += "states" in rest[2:]
                labels["models whose forward() multiplies by a weight of its own"] += "products" in rest[2:]
            if disagreements:
                failures.append((seed, label, disagreements, source))
    print(f"{args.examples} models (seeds {seeds.start}..{seeds.stop - 1}) in {time.monotonic() - start:.0f} s")
    for key, value in sorted(labels.items()):
        print(f"  {key}: {value}")
    for key, value in sorted(counts.items()):
        print(f"  {key}: {value}")
    print(f"torch errors not found statically: {len(missed)}")
    print("\n".join(missed))
    print(f"disagreements: {len(failures)}")
    for seed, label, disagreements, source in failures:
        print(f"\n=== seed {seed} ({label})")
        print("\n".join(disagreements))
        print(source)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
