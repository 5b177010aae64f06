"""The terminal speaks the review's language: the log lines of a review in Chinese (zh, the
default) or English, by their templates (planner/cli/_zh.py)."""

from __future__ import annotations

import ast
from pathlib import Path

from planner.cli import main
from planner.cli._zh import LOG, translate

PACKAGE = Path(__file__).resolve().parents[2] / "planner"


def _argv(review: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return [
        "check",
        "--network", str(review["network"]),
        "--facilities", str(review["facilities"]),
        "--residences", str(review["residences"]),
        "--crs", "EPSG:4326",
        "--out", str(out),
        "--no-isochrones",
        "--no-report",
        *extra,
    ]  # fmt: skip


def test_log_lines_in_the_review_language(review, tmp_path, capsys):
    assert main(_argv(review, tmp_path / "zh")) == 0
    zh = capsys.readouterr().err
    assert "正在读取步行网络：" in zh and "正在评估 2 处设施、4 个居住点" in zh
    assert "已写入 summary.json" in zh and "Checking" not in zh
    assert main(_argv(review, tmp_path / "en", "--lang", "en")) == 0
    en = capsys.readouterr().err
    assert "Loading the walking network from" in en and "Checking 2 facilities" in en
    assert "正在" not in en


def _log_templates() -> set[str]:
    """Every literal template of a log call in the package (implicit concatenation joined)."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"info", "warning", "error"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def test_every_translated_template_is_a_log_line_of_the_package():
    missing = sorted(set(LOG) - _log_templates())
    assert not missing, f"translations of log lines that no longer exist: {missing}"


def test_translation_fills_the_arguments_and_knows_the_categories():
    line = translate(
        "Reaching the %s-minute bands of %s (%d %s) ...", ("5/10", "kindergarten", 2, "facilities")
    )
    assert line == "正在计算 幼儿园 的 5/10 分钟步行圈（2 处）…"
    assert translate("a line nobody translated %s", ("x",)) is None
    assert translate("Checking %d facilities for %d residences", (1,)) is None  # wrong shape


def test_errors_in_chinese_first_then_english(review, tmp_path, capsys):
    argv = [a for a in _argv(review, tmp_path / "o") if a not in ("--crs", "EPSG:4326")]
    assert main(argv) == 2  # the residences CSV states no CRS
    err = capsys.readouterr().err
    zh, english = err.split("(English)")
    assert "表格有坐标列，但没有说明坐标系" in zh and "--residences-crs gcj02" in zh
    assert "no stated coordinate reference system" in english
    assert main([*argv, "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "(English)" not in err and "坐标系" not in err
    assert "no stated coordinate reference system" in err
