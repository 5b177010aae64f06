"""The review report (#18): its PDF read back and rasterised, its HTML printed in Chromium.

The community review is `community_fixture`'s (the Haidian demo with derived communities in
#15's schema) until #15 writes the real one.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from community_fixture import NAMES, SUBDISTRICTS, make_community_review

from planner.errors import InputError
from planner.report import read_review, write_report

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "data" / "haidian" / "review.toml"
CHROMIUM = Path("/usr/bin/chromium")
DATE = "2026-03-01"
A4_PT = (595.28, 841.89)


@pytest.fixture(scope="module")
def plain_review(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled Haidian demo, reviewed (no communities)."""
    from planner.cli import main

    out = tmp_path_factory.mktemp("haidian")
    code = main(["check", "--config", str(DEMO_CONFIG), "--out", str(out), "--quiet"])
    assert code in (0, 1)
    return out


@pytest.fixture(scope="module")
def community_review(plain_review: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo after `planner propose --cover-all`, with communities before and after."""
    from planner.cli import main

    proposal = tmp_path_factory.mktemp("proposal")
    args = ["propose", "--config", str(DEMO_CONFIG), "--out", str(proposal), "--quiet"]
    assert main([*args, "--cover-all"]) in (0, 1)
    return make_community_review(
        proposal, tmp_path_factory.mktemp("community"), baseline_dir=plain_review
    )


@pytest.fixture(scope="module")
def reports(
    plain_review: Path, community_review: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Path]]:
    # One process writes several reports, in several languages: each must keep its own font
    # (ReportLab once printed a later report with an earlier one's glyphs).
    root = tmp_path_factory.mktemp("reports")
    return {
        "plain_zh": write_report(plain_review, out_dir=root / "plain_zh", date=DATE),
        "zh": write_report(
            community_review, out_dir=root / "zh", date=DATE, organisation="规划分局"
        ),
        "en": write_report(community_review, out_dir=root / "en", lang="en", date=DATE),
    }


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def squashed(text: str) -> str:
    """Text without whitespace: extraction breaks lines where the layout wrapped them."""
    return re.sub(r"\s+", "", text)


def test_pdf_holds_community_names_verdicts_and_clauses(
    reports: dict[str, dict[str, Path]], community_review: Path
) -> None:
    summary = json.loads((community_review / "summary.json").read_text(encoding="utf-8"))
    table = pd.read_csv(community_review / "communities.csv")
    clause = summary["coverage"][0]["clause"]
    source = summary["coverage"][0]["source"]
    for lang, verdicts in (
        ("zh", ("达标", "面积不达标", "无住户", "总体结论：达标", "未核实", "已核实")),
        (
            "en",
            (
                "compliant",
                "fails floor area",
                "no households",
                "Overall verdict: pass",
                "not verified",
                "verified",
            ),
        ),
    ):
        text = pdf_text(reports[lang]["pdf"])
        flat = squashed(text)
        for name in [*NAMES, *SUBDISTRICTS]:
            assert name in text, (lang, name)
        for word in verdicts:
            assert squashed(word) in flat, (lang, word)
        assert squashed(clause) in flat, lang
        assert squashed(source) in flat, lang
        k = int(table["compliant"].sum())
        lead = (
            f"{len(table)}个社区中{k}个达标"
            if lang == "zh"
            else (f"{k}of{len(table)}communitiescompliant")
        )
        assert lead in flat, lang
        assert summary["network"]["sha256"] in flat


def test_sections_appear_only_with_their_data(reports: dict[str, dict[str, Path]]) -> None:
    plain = squashed(pdf_text(reports["plain_zh"]["pdf"]))
    community = squashed(pdf_text(reports["zh"]["pdf"]))
    for heading in ("社区评估", "街道汇总", "区县汇总", "各社区设施面积缺口"):
        assert heading in community
        assert heading not in plain
    assert "规划建议" not in plain
    for heading in ("规划建议", "建议选址", "建议前后对比", "各社区建议前后"):
        assert heading in community
    assert "缺口" in plain and "最大的未覆盖住户群" in plain  # gaps grouped without communities
    assert "总体结论：未达标" in plain


def test_pages_are_a4_and_not_blank(reports: dict[str, dict[str, Path]]) -> None:
    import numpy as np
    import pypdfium2

    for lang in ("zh", "en"):
        pdf = pypdfium2.PdfDocument(reports[lang]["pdf"])
        assert len(pdf) >= 5
        for index in range(len(pdf)):
            page = pdf[index]
            assert page.get_size() == pytest.approx(A4_PT, abs=0.5)
            pixels = np.asarray(page.render(scale=0.5, grayscale=True).to_pil())
            inked = float((pixels < 200).mean())
            assert inked > 0.002, (lang, index, inked)
        pdf.close()


def test_figures_are_drawn_in_the_map_colours(reports: dict[str, dict[str, Path]]) -> None:
    """The maps' pages carry the verdict and status colours of planner.maps."""
    import numpy as np
    import pypdfium2

    from planner.maps import STATUS_COLOURS

    pdf = pypdfium2.PdfDocument(reports["zh"]["pdf"])
    found = set()
    for index in range(len(pdf)):
        pixels = np.asarray(pdf[index].render(scale=1.0).to_pil().convert("RGB")).reshape(-1, 3)
        colours = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in STATUS_COLOURS.values()}
        for colour in colours:
            if (np.abs(pixels.astype(int) - colour).sum(axis=1) < 12).sum() > 30:
                found.add(colour)
    pdf.close()
    # covered residences (green) on the coverage map; green text of passes too.
    assert len(found) >= 2


def test_rebuilds_from_the_folder_with_another_title(
    community_review: Path, tmp_path: Path
) -> None:
    first = write_report(community_review, out_dir=tmp_path / "a", title="复核稿", date=DATE)
    again = write_report(community_review, out_dir=tmp_path / "b", title="复核稿", date=DATE)
    assert first["pdf"].read_bytes() == again["pdf"].read_bytes()
    assert first["html"].read_text(encoding="utf-8") == again["html"].read_text(encoding="utf-8")
    text = pdf_text(first["pdf"])
    assert text.startswith("复核稿") or "复核稿" in text.splitlines()[0:3][-1]
    assert not list((tmp_path / "a").glob(".*"))  # no temporary file left behind


def test_bad_folder_and_language_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="summary.json"):
        write_report(tmp_path)
    with pytest.raises(InputError, match="language"):
        write_report(tmp_path, lang="fr")


def test_reads_a_review_without_optional_files(plain_review: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bare"
    folder.mkdir()
    (folder / "summary.json").write_bytes((plain_review / "summary.json").read_bytes())
    review = read_review(folder)
    assert review.residences is None and review.communities is None
    paths = write_report(folder, date=DATE)
    assert "逐条标准结论" in squashed(pdf_text(paths["pdf"]))


def test_gap_groups_are_single_linkage_without_the_distance_matrix() -> None:
    """The gaps' proximity groups are scipy's single-linkage clusters cut at the distance."""
    import numpy as np
    from scipy.cluster.hierarchy import fcluster, linkage

    from planner.report.sections_communities import GAP_GROUP_M, _near_groups

    def partition(labels: np.ndarray) -> set[tuple[int, ...]]:
        return {tuple(np.flatnonzero(labels == g).tolist()) for g in np.unique(labels)}

    rng = np.random.default_rng(7)
    for n, side in ((2, 100.0), (60, 2_000.0), (700, 6_000.0)):
        xy = rng.uniform(0.0, side, (n, 2))
        ours = _near_groups(xy, GAP_GROUP_M)
        theirs = fcluster(linkage(xy, method="single"), t=GAP_GROUP_M, criterion="distance")
        assert partition(ours) == partition(theirs), n
    chain = np.column_stack([np.arange(50) * 199.0, np.zeros(50)])  # steps just within reach
    assert len(np.unique(_near_groups(chain, GAP_GROUP_M))) == 1
    # A city's gaps: the n x n distance matrix would take 40 GB.
    city = rng.uniform(0.0, 55_000.0, (100_000, 2))
    assert _near_groups(city, GAP_GROUP_M).shape == (100_000,)


# -- the HTML version, printed in headless Chromium -------------------------------------------
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("playwright is missing under CI", pytrace=False)
        pytest.skip("the playwright package is not installed")
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing under CI", pytrace=False)
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        try:
            yield chromium
        finally:
            chromium.close()


OVERFLOW_JS = """() => {
  const body = document.body.getBoundingClientRect();
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > body.right + 1) {
      out.push(el.tagName + ': ' + el.textContent.slice(0, 40));
    }
  }
  return {overflow: out.slice(0, 5), scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth,
          font: document.fonts.check('12px PlannerNotoSansSC'),
          images: [...document.images].every(i => i.complete && i.naturalWidth > 0)};
}"""


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_html_prints_to_a4_offline_without_overflow(
    browser: Any, reports: dict[str, dict[str, Path]], lang: str, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    # A4 less the 16 mm margins, at 96 px per inch: the width the printed page gives the body.
    context = browser.new_context(viewport={"width": 673, "height": 1000})
    page = context.new_page()
    blocked: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(("file://", "data:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(reports[lang]["html"].resolve().as_uri())
    page.emulate_media(media="print")
    page.evaluate("() => document.fonts.ready")
    state = page.evaluate(OVERFLOW_JS)
    assert blocked == []
    assert state["font"] and state["images"]
    assert state["overflow"] == [] and state["scroll"] <= state["client"], state
    printed = tmp_path / "printed.pdf"
    page.pdf(path=str(printed), prefer_css_page_size=True, print_background=True)
    context.close()
    reader = PdfReader(printed)
    assert 5 <= len(reader.pages) <= 20
    for p in reader.pages:
        box = p.mediabox
        assert (float(box.width), float(box.height)) == pytest.approx(A4_PT, abs=1.0)
    text = squashed("\n".join(p.extract_text() or "" for p in reader.pages))
    for name in NAMES:
        assert name in text
