"""Build hook: compile the matcher's hot modules with Cython.

The modules stay plain Python; their C types live in ``.pxd`` files beside
them (Cython's "augmenting .pxd"), so the same source runs compiled or, when
no C compiler is available, as Python (slower, same results); a module
written for C only (a ``.pyx``) is then missing and its caller takes a NumPy
path.  The digest of
each compiled source is recorded in ``_compiled.json`` so that
:mod:`clearance.match.compiled` can refuse a stale build after the source
changed (it then imports the Python source and warns).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PACKAGE = ("clearance", "match")


def _compiled_module(package_dir: Path):
    """``clearance/match/compiled.py`` loaded on its own (standard library only): its
    module list and source digest are the ones the guard checks at import."""
    spec = importlib.util.spec_from_file_location("_clearance_compiled", package_dir / "compiled.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _source(package_dir: Path, name: str) -> Path:
    """A module's Cython source: its ``.pyx`` (C only), else its ``.py`` (typed by its ``.pxd``)."""
    pyx = package_dir / f"{name}.pyx"
    return pyx if pyx.exists() else package_dir / f"{name}.py"


def compile_modules(root: Path) -> list[Path]:
    """Compile, in place under ``src``, the matcher modules of
    ``clearance.match.compiled.MODULES`` that have a ``.pxd`` or a ``.pyx``; returns the extension files."""
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    src = root / "src"
    package_dir = src.joinpath(*PACKAGE)
    compiled = _compiled_module(package_dir)
    names = [n for n in compiled.MODULES if (package_dir / f"{n}.pxd").exists() or (package_dir / f"{n}.pyx").exists()]
    extensions = [Extension(".".join((*PACKAGE, n)), [str(_source(package_dir, n))]) for n in names]
    modules = cythonize(
        extensions,
        build_dir=str(root / "build" / "cython"),
        compiler_directives={"language_level": 3, "annotation_typing": False, "binding": True},
        quiet=True,
    )
    dist = Distribution({"ext_modules": modules, "package_dir": {"": str(src)}})
    command = build_ext(dist)
    command.inplace = True
    command.build_temp = str(root / "build" / "temp")
    command.ensure_finalized()
    command.run()
    built = [Path(command.get_ext_fullpath(ext.name)) for ext in modules]
    manifest = {n: compiled.source_digest(package_dir, n) for n in names}
    (package_dir / "_compiled.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return built


class CythonBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if os.environ.get("CLEARANCE_NO_COMPILE"):
            self.app.display_info("CLEARANCE_NO_COMPILE set: the matcher runs as plain Python")
            return
        root = Path(self.root)
        try:
            built = compile_modules(root)
        except Exception as exc:  # no compiler, no headers: stay pure Python
            self.app.display_warning(f"compiling the matcher failed ({exc}); it will run as plain Python, slower")
            return
        finally:
            shutil.rmtree(root / "build" / "temp", ignore_errors=True)
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            src = root / "src"
            for path in built + [src.joinpath(*PACKAGE, "_compiled.json")]:
                build_data["force_include"][str(path)] = str(path.relative_to(src))
