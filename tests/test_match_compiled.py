"""The Cython-compiled matcher modules: built, used, equal to the Python source, never stale."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clearance.match import compiled

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

QUERIES = [
    "Hikvision", "杭州海康威视数字技术股份有限公司", "Huawei Technologies Company Limited", "China Merchants Bank",
    "SALEK, ABDULHAI", "Abdulhai Salek", "hikvsion digital technolgy", "ROSOBORONEKSPORT OAO", "x", "",
    "Banco Nacional de Cuba", "SenseTime", "Zhejiang Dahua Technology Co., Ltd.", "MAHAN AIR", "Dmitri Ivanov",
    "O’Brien & Sons L.L.C.", "ISLAMIC REPUBLIC OF IRAN SHIPPING LINES\tCO.,LIMTED", "Газпром ООО", "Mahan Air", "MAHAN AIR",
]

SCRIPT = """
import json, sys
from clearance.match.compiled import status
from clearance.screen import Screener
from clearance.match.index import MatchIndex
from clearance.data import bundled_captures
from clearance.sources import format_for
folder = [f for _, s, f in bundled_captures() if s == "us-ofac-sdn"][-1]
index = MatchIndex.build(("us-ofac-sdn", e) for e in format_for("us-ofac-sdn", folder).parse(folder, "us-ofac-sdn"))
screener = Screener(index=index)
out = [screener.check(q)["hits"] for q in json.loads(sys.argv[1])]
print(json.dumps({"status": status(), "hits": out}))
"""


def _run(env_extra: dict[str, str]) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "CLEARANCE_PURE_PYTHON"}
    env.update(PYTHONPATH=str(SRC), **env_extra)
    done = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(QUERIES)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.skipif(bool(os.environ.get("CLEARANCE_NO_COMPILE")), reason="built without the compiled matcher")
def test_the_install_compiled_the_hot_modules():
    state = compiled.status()
    assert state, "compiled.guard() did not run"
    built = [name for name in compiled.MODULES if any((compiled.HERE / f"{name}{ext}").exists() for ext in (".pxd", ".pyx"))]
    assert built, "no module has C types"
    assert {name: state[name] for name in built} == {name: "compiled" for name in built}


def test_compiled_and_python_source_give_the_same_hits():
    fast = _run({})
    slow = _run({"CLEARANCE_PURE_PYTHON": "1"})
    assert set(slow["status"].values()) <= {"python", "python (CLEARANCE_PURE_PYTHON)", "not used (CLEARANCE_PURE_PYTHON)"}
    assert fast["hits"] == slow["hits"]
    assert any(fast["hits"])  # real hits were compared, not empty lists


def test_a_stale_build_is_not_used(tmp_path):
    if compiled.status().get("score") != "compiled":
        pytest.skip("score is not compiled in this install")
    copy = tmp_path / "src"
    shutil.copytree(SRC / "clearance", copy / "clearance", ignore=shutil.ignore_patterns("__pycache__"))
    score = copy / "clearance" / "match" / "score.py"
    score.write_text(score.read_text() + "\n# edited after the build\n")
    env = dict(os.environ, PYTHONPATH=str(copy))
    env.pop("CLEARANCE_PURE_PYTHON", None)
    done = subprocess.run(
        [sys.executable, "-c", "import clearance.match.score as s; from clearance.match.compiled import status; print(s.__file__); print(status()['score'])"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    module_file, state = done.stdout.strip().splitlines()
    assert module_file.endswith("score.py") and state == "python (stale build)"
    assert "older than their source" in done.stderr
