"""-j N and the result cache: the same output as a plain run; the cache is read, keyed by content and options."""

import json
import os
import shutil
import subprocess
import sys

from conftest import FIXTURES, ROOT


def cli_in(cache, *args, cwd=ROOT):
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    return subprocess.run([sys.executable, "-m", "torchshape_lint.frontends.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_parallel_run_gives_the_plain_runs_output_in_order(tmp_path):
    plain = cli_in(tmp_path, "--no-cache", "--input-shape", "1,3,32,32", "fixtures")
    parallel = cli_in(tmp_path, "--no-cache", "-j", "3", "--input-shape", "1,3,32,32", "fixtures")
    assert plain.stdout.count("TSL") >= 3  # lenet, sequential forms, vgg without its pool at 32x32
    assert (parallel.stdout, parallel.returncode) == (plain.stdout, plain.returncode)


def test_cache_is_written_read_and_keyed_by_content_and_options(tmp_path):
    cache = tmp_path / "cache"
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(FIXTURES / "lenet_mnist.py", work / "lenet.py")
    first = cli_in(cache, "lenet.py", cwd=work)
    entries = list((cache / "torchshape-lint").rglob("*.json"))
    assert first.returncode == 1 and len(entries) == 1
    # Poison the entry: a second run that shows the poisoned text has read the cache instead of analysing.
    data = json.loads(entries[0].read_text())
    data["findings"][0]["message"] = "FROM THE CACHE"
    entries[0].write_text(json.dumps(data))
    assert "TSL001 FROM THE CACHE" in cli_in(cache, "lenet.py", cwd=work).stdout
    assert "FROM THE CACHE" not in cli_in(cache, "--no-cache", "lenet.py", cwd=work).stdout
    assert "FROM THE CACHE" not in cli_in(cache, "--input-shape", "1,1,28,28", "lenet.py", cwd=work).stdout
    (work / "lenet.py").write_text((work / "lenet.py").read_text() + "\n# changed\n")
    assert "FROM THE CACHE" not in cli_in(cache, "lenet.py", cwd=work).stdout


def test_unwritable_cache_costs_only_speed(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = cli_in(blocker, "fixtures/lenet_mnist.py")  # the cache folder cannot be created under a file
    assert result.returncode == 1 and result.stdout.count("TSL001") == 1
