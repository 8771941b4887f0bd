"""The pre-commit hooks for real: pre-commit installs this repository into its own environment (flake8
from the package index, never torch) and runs the hook on a git repository holding a bad model."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT, cell_location, locate

from torchshape_lint.checks.rules import by_code

pytest.importorskip("pre_commit")
pytestmark = pytest.mark.slow
BAD = by_code()["TSL001"].bad  # Linear(16 * 8 * 8) where 16 * 16 * 16 arrive
GOOD = by_code()["TSL001"].good


def git(*args, cwd):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                   capture_output=True)


def pre_commit(*args, cwd, env):
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory):
    """This working tree (tracked and new files, as git lists them) committed into a fresh repository."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                            text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    repo = tmp_path_factory.mktemp("hook_repo")
    for name in listed.stdout.splitlines():
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    git("init", "-q", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "snapshot", cwd=repo)
    return repo


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """pre-commit's environments in a temporary home, shared by this module's tests (installed once)."""
    return {**os.environ, "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre_commit_home")),
            "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}


def project(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    git("init", "-q", cwd=tmp_path)
    git("add", ".", cwd=tmp_path)
    return tmp_path


def test_try_repo_fails_on_a_bad_model(hook_repo, env, tmp_path):
    work = project(tmp_path, {"model.py": BAD, "clean.py": GOOD})
    result = pre_commit("try-repo", str(hook_repo), "torchshape-lint", "--all-files", cwd=work, env=env)
    line, col = locate(work / "model.py", "nn.Linear(16 * 8 * 8")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"model.py:{line}:{col}: TSL001 " in result.stdout and "clean.py" not in result.stdout.split("Failed")[-1]


def readme_block(marker):
    """The YAML block of the README that follows `marker`."""
    text = (ROOT / "README.md").read_text()
    return text.split(marker, 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]


def readme_config(hook_repo):
    """The README's snippet, pointing at the snapshot of this repository."""
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hook_repo, capture_output=True, text=True).stdout.strip()
    config = readme_block("<!-- pre-commit hook -->")
    config = config.replace("https://github.com/torchshape-lint/torchshape-lint", str(hook_repo))
    return config.replace("rev: v0.1.0", f"rev: {rev}")


def test_readme_snippet_blocks_the_commit(hook_repo, env, tmp_path):
    config = readme_config(hook_repo)
    work = project(tmp_path, {".pre-commit-config.yaml": config, "model.py": BAD})
    assert pre_commit("install", cwd=work, env=env).returncode == 0
    commit = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-m", "bad model"],
                            cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert commit.returncode != 0 and "TSL001" in commit.stdout + commit.stderr
    # the hook's environment (kept in PRE_COMMIT_HOME, unlike try-repo's) has flake8 and not torch
    sites = list(Path(env["PRE_COMMIT_HOME"]).glob("repo*/py_env-*/lib/python*/site-packages"))
    assert sites and all((site / "flake8").is_dir() and not (site / "torch").exists() for site in sites)
    (work / "model.py").write_text(GOOD)
    git("add", "model.py", cwd=work)
    commit = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-m", "good model"],
                            cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert commit.returncode == 0, commit.stdout + commit.stderr


def test_flake8_hook_with_additional_dependencies(hook_repo, env, tmp_path):
    """flake8's own hook is `entry: flake8, language: python`; this is that hook, declared locally because the
    test has no network access to GitHub, with this repository as an additional dependency."""
    config = textwrap.dedent(f"""\
        repos:
          - repo: local
            hooks:
              - id: flake8
                name: flake8
                entry: flake8
                language: python
                types: [python]
                args: [--select=TSL]
                additional_dependencies: [flake8, "{hook_repo}"]
        """)
    work = project(tmp_path, {".pre-commit-config.yaml": config, "model.py": BAD})
    result = pre_commit("run", "--all-files", cwd=work, env=env)
    line, col = locate(work / "model.py", "nn.Linear(16 * 8 * 8")
    assert result.returncode == 1 and f"model.py:{line}:{col}: TSL001 " in result.stdout, result.stdout


def test_zero_files_and_many_files(hook_repo, env, tmp_path):
    files = {f"good_{n:02}.py": GOOD for n in range(40)}
    work = project(tmp_path, {".pre-commit-config.yaml": readme_config(hook_repo), "README.txt": "no python here\n",
                              **files, "zz_bad.py": BAD})
    skipped = pre_commit("run", "torchshape-lint", "--files", "README.txt", cwd=work, env=env)
    assert skipped.returncode == 0 and "(no files to check)" in skipped.stdout, skipped.stdout + skipped.stderr
    many = pre_commit("run", "torchshape-lint", "--all-files", cwd=work, env=env)
    assert many.returncode == 1 and many.stdout.count(": TSL001 ") == 1 and "zz_bad.py:" in many.stdout
    clean = pre_commit("run", "torchshape-lint", "--files", *files, cwd=work, env=env)
    assert clean.returncode == 0 and "Passed" in clean.stdout


def test_notebook_through_the_hook(hook_repo, env, tmp_path):
    """A notebook is staged like any file: the hook reads its code cells and names the cell and the line."""
    notebook = FIXTURES / "lenet_mnist.ipynb"
    work = project(tmp_path, {"lenet.ipynb": notebook.read_text()})
    cell, line, column = cell_location(notebook, "nn.Linear(16 * 5 * 5")
    result = pre_commit("try-repo", str(hook_repo), "torchshape-lint", "--all-files", cwd=work, env=env)
    assert result.returncode == 1 and f"lenet.ipynb:cell {cell}:{line}:{column}: TSL001 " in result.stdout, \
        result.stdout + result.stderr


BLOCKS = '''\
import torch.nn as nn


class ConvBlock(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.conv(x))
'''
# A pool added to the block halves 32x32 to 16x16: 16 * 16 * 16 = 4096 features then reach model.py's Linear.
BLOCKS_WITH_POOL = BLOCKS.replace("        self.relu = nn.ReLU()\n",
                                  "        self.relu = nn.ReLU()\n        self.pool = nn.MaxPool2d(2)\n").replace(
    "return self.relu(self.conv(x))", "return self.pool(self.relu(self.conv(x)))")
MODEL = '''\
import torch
import torch.nn as nn

from blocks import ConvBlock


# torchshape: input=(1, 3, 32, 32)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = ConvBlock(3, 16)
        self.classifier = nn.Linear(16 * 32 * 32, 10)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))
'''


def test_project_hook_refuses_a_commit_that_only_touches_the_imported_sibling(hook_repo, env, tmp_path):
    """The commit stages blocks.py alone: the per-file hook checks blocks.py (right on its own) and passes; the
    whole-project hook checks model.py too, which imports it, and refuses the commit."""
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hook_repo, capture_output=True, text=True).stdout.strip()
    config = textwrap.dedent(f"""\
        repos:
          - repo: {hook_repo}
            rev: {rev}
            hooks:
              - id: torchshape-lint
              - id: torchshape-lint-project
        """)
    work = project(tmp_path, {".pre-commit-config.yaml": config, "blocks.py": BLOCKS, "model.py": MODEL})
    git("commit", "-q", "-m", "a model and its block", cwd=work)
    assert pre_commit("install", cwd=work, env=env).returncode == 0
    (work / "blocks.py").write_text(BLOCKS_WITH_POOL)
    git("add", "blocks.py", cwd=work)
    commit = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-m", "pool in the block"],
                            cwd=work, env=env, capture_output=True, text=True, timeout=900)
    output = commit.stdout + commit.stderr
    line, col = locate(work / "model.py", "nn.Linear(16 * 32 * 32")
    assert commit.returncode != 0, output
    assert [hook.split(".")[0] + ": " + hook.rsplit(".", 1)[-1] for hook in output.splitlines()
            if hook.startswith("torchshape-lint")] == ["torchshape-lint: Passed",
                                                       "torchshape-lint (whole project): Failed"], output
    assert f"model.py:{line}:{col}: TSL001 Linear(in_features=16384) but 4096 features arrive" in output
    # with the block as it was, the project is right again and the commit goes through
    (work / "blocks.py").write_text(BLOCKS)
    git("add", "blocks.py", cwd=work)
    commit = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--allow-empty", "-m",
                             "no pool"], cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert commit.returncode == 0, commit.stdout + commit.stderr
