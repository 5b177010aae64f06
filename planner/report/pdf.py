"""The report as a PDF: ReportLab's platypus, A4, the subset font embedded."""

from __future__ import annotations

import hashlib
import io
from typing import Any, Final
from xml.sax.saxutils import escape

from planner.maps import STATUS_COLOURS
from planner.report.doc import Cover, Document, Figure, Heading, PageBreak, Para, Table
from planner.report.fonts import FAMILY, subset_ttf
from planner.report.text import words

MARGIN_MM: Final = 16.0
TONES: Final = {
    "pass": STATUS_COLOURS["covered"],
    "fail": STATUS_COLOURS["uncovered"],
    "warn": "#b35806",
    "muted": "#6b6b6b",
}
INK: Final = "#1d1d1d"
RULE: Final = "#b9b9b9"
HEAD_BG: Final = "#eef1f4"


def _register_font(chars: str) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    data = subset_ttf(chars)
    name = f"{FAMILY}-{hashlib.sha256(data).hexdigest()[:10]}"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, io.BytesIO(data)))
    return name


def render_pdf(doc: Document, *, created: str | None = None) -> bytes:
    """The PDF bytes of ``doc`` (the same document gives the same bytes)."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        CondPageBreak,
        Image,
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        TableStyle,
    )
    from reportlab.platypus import PageBreak as RLPageBreak
    from reportlab.platypus import Table as RLTable

    t = words(doc.lang)
    chars = "".join(doc.strings()) + t["page"] + "0123456789"
    font = _register_font(chars)
    wrap = "CJK" if doc.lang == "zh" else None

    def style(
        name: str,
        size: float,
        *,
        leading: float | None = None,
        colour: str = INK,
        align: int = TA_LEFT,
        before: float = 0,
        after: float = 0,
    ) -> ParagraphStyle:
        return ParagraphStyle(
            name,
            fontName=font,
            fontSize=size,
            leading=leading or size * 1.45,
            textColor=colors.HexColor(colour),
            alignment=align,
            spaceBefore=before,
            spaceAfter=after,
            wordWrap=wrap,
        )

    st = {
        "h1": style("h1", 15, colour="#12324a", before=4, after=6),
        "h2": style("h2", 11.5, colour="#12324a", before=8, after=4),
        "body": style("body", 9.5, after=4),
        "small": style("small", 8, colour="#3a3a3a", after=3),
        "note": style("note", 7.5, colour="#5a5a5a", after=4),
        "cell": style("cell", 8.2, leading=10.6),
        "cell_small": style("cell_small", 7.2, leading=9.2),
        "caption": style("caption", 8.5, colour="#333333", after=8, before=3),
        "title": style("title", 24, leading=32, colour="#12324a", after=8),
        "subtitle": style("subtitle", 12, leading=17, colour="#333333", after=18),
        "detail": style("detail", 10.5, leading=15),
        "verdict": style("verdict", 17, leading=24, colour="#ffffff", align=TA_CENTER),
        "point": style("point", 9.5, leading=13.5, after=3),
    }
    aligns = {"l": TA_LEFT, "r": TA_RIGHT, "c": TA_CENTER}

    def para(text: str, base: str, tone: Any = None, align: str = "l") -> Paragraph:
        s = st[base]
        if tone is not None or align != "l":
            s = ParagraphStyle(
                f"{base}-{tone}-{align}",
                parent=s,
                textColor=colors.HexColor(TONES.get(tone, INK)) if tone else s.textColor,
                alignment=aligns[align],
            )
        return Paragraph(escape(text).replace("\n", "<br/>"), s)

    page_w, page_h = A4
    frame_w = page_w - 2 * MARGIN_MM * mm
    story: list[Any] = []
    for block in doc.blocks:
        if isinstance(block, Cover):
            story.append(Spacer(1, 28 * mm))
            story.append(para(block.title, "title"))
            if block.subtitle:
                story.append(para(block.subtitle, "subtitle"))
            details = RLTable(
                [[para(a, "detail", "muted"), para(b, "detail")] for a, b in block.details],
                colWidths=[32 * mm, frame_w - 32 * mm],
            )
            details.setStyle(
                TableStyle(
                    [("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]
                )
            )
            story += [details, Spacer(1, 14 * mm)]
            box = RLTable([[para(block.verdict, "verdict")]], colWidths=[frame_w])
            box.setStyle(
                TableStyle(
                    [
                        (
                            "BACKGROUND",
                            (0, 0),
                            (-1, -1),
                            colors.HexColor(TONES["pass"] if block.passes else TONES["fail"]),
                        ),
                        ("TOPPADDING", (0, 0), (-1, -1), 9),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 11),
                    ]
                )
            )
            story += [box, Spacer(1, 8 * mm)]
            story += [para("• " + c.text, "point", c.tone) for c in block.points]
        elif isinstance(block, PageBreak):
            story.append(RLPageBreak())
        elif isinstance(block, Heading):
            h = para(block.text, "h1" if block.level == 1 else "h2")
            story.append(CondPageBreak((40 if block.level == 1 else 28) * mm))
            story.append(h)
        elif isinstance(block, Para):
            story.append(para(block.text, block.style, block.tone))
        elif isinstance(block, Table):
            base = "cell_small" if block.small else "cell"
            header = [
                para(h, base, "muted", a) for h, a in zip(block.header, block.align, strict=True)
            ]
            rows = [header] + [
                [para(c.text, base, c.tone, a) for c, a in zip(row, block.align, strict=True)]
                for row in block.rows
            ]
            table = RLTable(rows, colWidths=[w * frame_w for w in block.widths], repeatRows=1)
            table.setStyle(
                TableStyle(
                    [
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(HEAD_BG)),
                        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.HexColor("#7d8a96")),
                        ("LINEBELOW", (0, 1), (-1, -1), 0.3, colors.HexColor(RULE)),
                        ("TOPPADDING", (0, 0), (-1, -1), 2.2),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.6),
                        ("LEFTPADDING", (0, 0), (-1, -1), 3),
                        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                    ]
                )
            )
            story += [table, Spacer(1, 4 * mm)]
        elif isinstance(block, Figure):
            width = min(block.width_mm * mm, frame_w)
            height = block.height_mm * mm * width / (block.width_mm * mm)
            image = Image(io.BytesIO(block.png), width=width, height=height)
            story.append(KeepTogether([image, para(block.caption, "caption")]))

    footer_style = {"font": font, "size": 7.5}

    def on_page(canvas: Any, _doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(footer_style["font"], footer_style["size"])
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.setStrokeColor(colors.HexColor(RULE))
        canvas.setLineWidth(0.4)
        y = 10 * mm
        canvas.line(MARGIN_MM * mm, y + 4 * mm, page_w - MARGIN_MM * mm, y + 4 * mm)
        canvas.drawString(MARGIN_MM * mm, y, _clip(doc.footer, 90))
        canvas.restoreState()

    class NumberedCanvas(_numbered_canvas_base()):  # type: ignore[misc]
        text = t["page"]
        font_name = font

    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_MM * mm,
        rightMargin=MARGIN_MM * mm,
        topMargin=MARGIN_MM * mm,
        bottomMargin=(MARGIN_MM + 6) * mm,
        title=doc.title,
        author="planner",
        subject=doc.footer,
        creator="planner",
        lang="zh-CN" if doc.lang == "zh" else "en-GB",
        invariant=1,
    )
    template.build(story, onFirstPage=on_page, onLaterPages=on_page, canvasmaker=NumberedCanvas)
    return buffer.getvalue()


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _numbered_canvas_base() -> type:
    """A canvas that writes "page n of m" once it knows m (the usual two-pass ReportLab idiom)."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    class Numbered(Canvas):  # type: ignore[misc]  # reportlab ships no types
        text = "{n} / {m}"
        font_name = "Helvetica"

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - ReportLab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(self.font_name, 7.5)
                self.setFillColorRGB(0.4, 0.4, 0.4)
                width = self._pagesize[0]
                self.drawRightString(
                    width - 16 * mm, 10 * mm, self.text.format(n=self._pageNumber, m=total)
                )
                super().showPage()
            super().save()

    return Numbered


__all__ = ["render_pdf"]
