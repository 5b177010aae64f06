"""Every InputError a bureau user can hit through their own files carries its Chinese text.

Scans the modules that read a user's layers, network, standard and options: each ``InputError(``
(raised or returned), each problem a layer's funnel collects (``.add(``, ``.fail_now(``) must pass
``zh=``, and each problem of a standard file is an (English, Chinese) pair. The few sites left
English on purpose are listed in ``ENGLISH_ONLY`` with the reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "planner"
COVERED = (
    "layers/*.py",
    "households.py",
    "cli/*.py",
    "snapping.py",
    "network/*.py",
    "osm/*.py",
    "standards/*.py",
    "siting/*.py",
    "communities.py",
    "floor_area.py",
    "checks.py",
    "engine.py",
    "isochrones/reach.py",
    "report/data.py",
)
# (module, function): why its message stays English.
ENGLISH_ONLY: dict[tuple[str, str], str] = {
    ("households.py", "_check_layer"): "a Python type check (not a GeoDataFrame): the CLI "
    "always passes a layer it read",
    ("households.py", "households_from_population"): "decimals= is a Python argument only",
    ("snapping.py", "snap_xy"): "x, y and ids of different shapes: arrays planner builds itself",
}


def _sites(path: Path) -> list[tuple[str, int, bool]]:
    """(function, line, has Chinese) of every message site in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if not isinstance(node, ast.Call):
                continue
            callee = node.func
            name = callee.id if isinstance(callee, ast.Name) else getattr(callee, "attr", "")
            owner = callee.value if isinstance(callee, ast.Attribute) else None
            zh = any(k.arg == "zh" for k in node.keywords)
            if name == "InputError":
                found.append((func.name, node.lineno, zh))
            elif name in ("add", "fail_now") and "funnel" in ast.unparse(owner or callee):
                found.append((func.name, node.lineno, zh))
            elif name == "append" and isinstance(owner, ast.Name) and owner.id == "problems":
                pair = isinstance(node.args[0], ast.Tuple) and len(node.args[0].elts) == 2
                found.append((func.name, node.lineno, pair))
    return sorted(set(found), key=lambda s: s[1])


def _covered() -> list[Path]:
    return sorted({p for pattern in COVERED for p in PACKAGE.glob(pattern)})


def test_every_input_error_of_a_users_files_has_its_chinese_text():
    missing, allowed = [], set()
    for path in _covered():
        rel = str(path.relative_to(PACKAGE))
        for func, line, zh in _sites(path):
            if zh:
                continue
            if (rel, func) in ENGLISH_ONLY:
                allowed.add((rel, func))
            else:
                missing.append(f"planner/{rel}:{line} ({func})")
    assert not missing, "InputErrors without zh= (or add them to ENGLISH_ONLY with a reason):\n" + (
        "\n".join(missing)
    )
    assert allowed == set(ENGLISH_ONLY), (
        f"stale ENGLISH_ONLY entries: {set(ENGLISH_ONLY) - allowed}"
    )


def test_the_scan_sees_the_sites():
    """A typo in COVERED or a changed call shape would hide the sites from the scan."""
    assert all(list(PACKAGE.glob(pattern)) for pattern in COVERED)
    assert sum(len(_sites(path)) for path in _covered()) > 200
