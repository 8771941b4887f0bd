"""The result cache: one JSON file per (file content, options, tool) in the user's cache folder.

The key hashes the file's bytes, the options that change the analysis (the input shape in force for it, and the
working folder, from which a finding about another project file names it) and the tool itself: its version and the
size and modification time of each of its own modules, so a changed checkout never reads results of older code. What
the key cannot know, the other project files an analysis read (a sibling module it imports), the stored result lists
with their digests, and the runner uses it only while they are unchanged (evaluate/project.py's `ProjectFile`).
Writes are atomic (a temporary file, then a rename), so parallel workers and interrupted runs never leave a
half-written entry.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache

from torchshape_lint import __version__

# os.path rather than pathlib, which imports urllib.parse and ipaddress: a fifth of a start without bytecode
PACKAGE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def cache_dir() -> str:
    """$XDG_CACHE_HOME/torchshape-lint, else the platform's user cache folder."""
    home = os.path.expanduser("~")
    if os.environ.get("XDG_CACHE_HOME"):
        root = os.environ["XDG_CACHE_HOME"]
    elif sys.platform == "win32":
        root = os.environ.get("LOCALAPPDATA", os.path.join(home, "AppData", "Local"))
    elif sys.platform == "darwin":
        root = os.path.join(home, "Library", "Caches")
    else:
        root = os.path.join(home, ".cache")
    return os.path.join(root, "torchshape-lint")


@lru_cache(maxsize=1)
def tool_fingerprint() -> str:
    import hashlib  # here and below, as json: a run with --no-cache need not compile it

    digest = hashlib.sha256(__version__.encode())
    modules = sorted(os.path.relpath(os.path.join(folder, name), PACKAGE)
                     for folder, _, names in os.walk(PACKAGE) for name in names if name.endswith(".py"))
    for module in modules:
        stat = os.stat(os.path.join(PACKAGE, module))
        digest.update(f"{module}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def key(data: bytes, options: dict) -> str:
    import hashlib
    import json

    digest = hashlib.sha256(tool_fingerprint().encode())
    digest.update(json.dumps(options, sort_keys=True).encode())
    digest.update(b"\0")
    digest.update(data)
    return digest.hexdigest()


def load(entry: str) -> dict | None:
    import json

    try:
        with open(os.path.join(cache_dir(), entry[:2], f"{entry}.json"), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def fresh(entry: str) -> dict | None:
    """The stored result, while every other project file its analysis read (`read`: ProjectFile fields) is as
    it was then."""
    from torchshape_lint.evaluate.project import ProjectFile

    value = load(entry)
    if value is None or not all(ProjectFile(**file).unchanged() for file in value.get("read", ())):
        return None
    return value


def store(entry: str, value: dict) -> None:
    """Best effort: a cache that cannot be written (read-only home, full disk) only costs speed."""
    import json
    import tempfile  # only here: with shutil and random under it, the largest import of a run that writes nothing

    folder = os.path.join(cache_dir(), entry[:2])
    try:
        os.makedirs(folder, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(value, out)
        os.replace(temporary, os.path.join(folder, f"{entry}.json"))
    except OSError:
        pass
