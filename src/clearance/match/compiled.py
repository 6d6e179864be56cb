"""Which matcher modules run compiled, and the guard against a stale build.

The install compiles a few hot modules with Cython (``hatch_build.py``); the
extension files sit beside the Python sources and Python would import them
first even after the source changed.  :func:`guard` runs before any of them
is imported (from the package ``__init__``): a module whose source digest no
longer matches the one recorded at build time, or every module when
``CLEARANCE_PURE_PYTHON`` is set, is imported from its ``.py`` source instead.
Results are the same either way; only the speed differs.  A module written
only for C (a ``.pyx``, :mod:`.bounds`) has no Python source: when it is not
built, stale or unwanted, importing it fails and its caller takes its NumPy path.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from pathlib import Path

#: Modules that may be compiled (those with a ``.pxd``), dependencies first.
MODULES = ("normalize", "score", "candidates", "explain", "matcher", "bounds")
HERE = Path(__file__).resolve().parent
_STATE: dict[str, str] = {}


def source_digest(directory: Path, name: str) -> str:
    """Digest of a module's ``.py``, ``.pxd`` and ``.pyx`` (recorded by the build, checked here).

    Only the standard library: ``hatch_build.py`` loads this file on its own."""
    digest = hashlib.sha256()
    for suffix in (".py", ".pxd", ".pyx"):
        path = directory / f"{name}{suffix}"
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _extension(name: str) -> Path | None:
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = HERE / f"{name}{suffix}"
        if path.exists():
            return path
    return None


def _import_source(name: str) -> None:
    fullname = f"{__package__}.{name}"
    if not (HERE / f"{name}.py").exists():  # C only: importing it fails (ImportError)
        sys.modules[fullname] = None  # type: ignore[assignment]
        return
    spec = importlib.util.spec_from_file_location(fullname, HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[fullname] = module
    spec.loader.exec_module(module)


def guard() -> None:
    """Import stale or unwanted compiled modules from source instead."""
    try:
        manifest = json.loads((HERE / "_compiled.json").read_text())
    except (OSError, ValueError):
        manifest = {}
    pure = bool(os.environ.get("CLEARANCE_PURE_PYTHON"))
    stale = []
    for name in MODULES:
        if _extension(name) is None:
            _STATE[name] = "python" if (HERE / f"{name}.py").exists() else "not built"
            continue
        if pure or manifest.get(name) != source_digest(HERE, name):
            if not pure:
                stale.append(name)
            _import_source(name)
            how = "python" if (HERE / f"{name}.py").exists() else "not used"
            _STATE[name] = f"{how} (stale build)" if not pure else f"{how} (CLEARANCE_PURE_PYTHON)"
        else:
            _STATE[name] = "compiled"
    if stale:
        warnings.warn(
            f"compiled matcher modules {', '.join(stale)} are older than their source and were not used; "
            "reinstall (make install, or pip install -e .) to rebuild them",
            RuntimeWarning,
            stacklevel=2,
        )


def status() -> dict[str, str]:
    """Module name -> "compiled" or why it runs as Python."""
    return dict(_STATE)
