"""Another revision of the package, importable next to this one: a before/after table's "before".

``export(rev)`` writes ``tinygrad_edu/`` as it was at git revision ``rev`` into a temporary
directory, under a new package name (``tinygrad_edu_<sha>``); ``renamed_copy(src, name, dest)``
does the renaming for any copy of the package. Every ``.py`` file's ``tinygrad_edu`` (as a whole
word: imports, ``tinygrad_edu.x`` paths) becomes the new name; other files (data) are copied as
they are. Upper-case names (``TINYGRAD_EDU_...`` environment variables) are left alone, so both
packages read the same settings.

Why rename rather than run the old revision in another process: timing two processes alternately
measures their memory layouts and CPU states as well; two packages in one process, called in
interleaved rounds, share all of that (``compare_revisions.py``).
"""

from __future__ import annotations

import importlib
import io
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "tinygrad_edu"
_WORD = re.compile(rf"\b{PACKAGE}\b")


def renamed_copy(src: Path, name: str, dest: Path) -> Path:
    """Copy the package directory ``src`` to ``dest/name`` with every ``.py`` file's
    ``tinygrad_edu`` replaced by ``name``; returns the new package directory."""
    if not name.isidentifier():
        raise ValueError(f"a package name must be a Python identifier, got {name!r}")
    target = Path(dest) / name
    shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__"))
    for path in target.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(_WORD.sub(name, text), encoding="utf-8")
    return target


def resolve(rev: str) -> str:
    """The full commit hash of ``rev`` (a hash, a tag, ``HEAD~3``) in this repository."""
    out = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"not a commit of {REPO}: {rev!r} ({out.stderr.strip()})")
    return out.stdout.strip()


def export(rev: str, dest: Path | None = None) -> tuple[str, Path]:
    """Write the package at revision ``rev`` into ``dest`` (a new temporary directory by
    default) as ``tinygrad_edu_<first 7 hex digits>``; returns ``(name, dest)``. ``dest`` is
    what goes on ``sys.path``."""
    commit = resolve(rev)
    dest = Path(dest or tempfile.mkdtemp(prefix="tinygrad-edu-rev-"))
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit, PACKAGE],
        capture_output=True,
        check=True,
    ).stdout
    raw = dest / f"raw-{commit[:7]}"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4 / 3.10.12 / 3.9.17
            tar.extractall(raw, filter="data")
        else:  # our own repository's archive: nothing outside raw/ in it
            tar.extractall(raw)
    name = f"{PACKAGE}_{commit[:7]}"
    renamed_copy(raw / PACKAGE, name, dest)
    shutil.rmtree(raw)
    return name, dest


def load(name: str, where: Path) -> ModuleType:
    """Import package ``name`` from directory ``where``."""
    if str(where) not in sys.path:
        sys.path.insert(0, str(where))
    return importlib.import_module(name)


__all__ = ["PACKAGE", "REPO", "export", "load", "renamed_copy", "resolve"]
