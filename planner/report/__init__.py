"""The review report: ``report.pdf`` and ``report.html`` built from a written review folder.

A4, print-ready, in Chinese (default) or English: a cover with the overall verdict, the
verdict per rule with its source and clause, the communities and their roll-ups, the gaps, maps
drawn without any network access, the proposals when ``planner propose`` ran, and the method
and provenance. Built from the files a review writes (``summary.json`` and the tables and layers
beside it), so a report can be rebuilt with another title without rerunning the review.

The PDF is made with ReportLab, the figures with matplotlib, in Noto Sans SC (embedded as a
subset): all from PyPI, no system package, no browser.

>>> from planner.report import write_report  # doctest: +SKIP
>>> write_report("maps/haidian", organisation="海淀区规划分局")  # doctest: +SKIP
{'pdf': PosixPath('maps/haidian/report.pdf'), 'html': PosixPath('maps/haidian/report.html')}
"""

from __future__ import annotations

import os
from pathlib import Path

from planner._files import replace_atomically, write_text_atomic
from planner.report.content import build_document, default_district
from planner.report.data import Review, read_review
from planner.report.doc import Document
from planner.report.html import render_html
from planner.report.pdf import render_pdf
from planner.report.text import LANGS, words

REPORT_FILES = {"pdf": "report.pdf", "html": "report.html"}


def write_report(
    review_dir: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str] | None = None,
    lang: str = "zh",
    title: str | None = None,
    district: str | None = None,
    organisation: str | None = None,
    date: str | None = None,
    final_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Path]:
    """Write ``report.pdf`` and ``report.html`` for the review written in ``review_dir``.

    Parameters
    ----------
    review_dir
        A folder written by ``planner check`` or ``planner propose`` (its ``summary.json`` is
        required; every other file adds the sections that need it).
    out_dir
        Where to write; default ``review_dir``.
    lang
        ``"zh"`` (default) or ``"en"``.
    title, district, organisation, date
        The cover's lines (the review file's ``[report]`` keys). Defaults: the standard
        report title, the review's districts (else the folder's name), none, today (ISO).
    final_dir
        The folder the review ends up in, when ``review_dir`` is a staging folder (its name
        is the default district): `planner.outputs.write_review` writes the report inside
        its staging folder, so review and report are moved into place together.

    Returns
    -------
    dict
        ``{"pdf": path, "html": path}``.

    Raises
    ------
    InputError
        No review in ``review_dir``, or an unknown ``lang``.
    """
    words(lang)  # an unknown language fails before anything is read
    review = read_review(Path(review_dir))
    if final_dir is not None:
        review.folder = Path(final_dir)
    doc = build_document(
        review, lang=lang, title=title, district=district, organisation=organisation, date=date
    )
    target = Path(out_dir) if out_dir is not None else Path(review_dir)
    target.mkdir(parents=True, exist_ok=True)
    pdf = render_pdf(doc)
    html = render_html(doc)
    paths = {kind: target / name for kind, name in REPORT_FILES.items()}
    replace_atomically(paths["pdf"], lambda tmp: _write_bytes(tmp, pdf))
    write_text_atomic(paths["html"], html)
    return paths


def _write_bytes(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


__all__ = [
    "LANGS",
    "REPORT_FILES",
    "Document",
    "Review",
    "build_document",
    "default_district",
    "read_review",
    "render_html",
    "render_pdf",
    "write_report",
]
