"""The report as one self-contained HTML page: A4 print CSS, font and figures inline.

It opens offline (nothing is fetched: the subset font and the PNG figures are data URIs) and
prints to A4 in a browser the same way as the PDF reads.
"""

from __future__ import annotations

import base64
from html import escape
from typing import Final

from planner.report.doc import Cell, Cover, Document, Figure, Heading, PageBreak, Para, Table
from planner.report.fonts import FAMILY, subset_ttf
from planner.report.pdf import HEAD_BG, INK, MARGIN_MM, RULE, TONES
from planner.report.text import words

_CSS: Final = """
@page { size: A4; margin: %(m)smm %(m)smm %(b)smm %(m)smm;
  @bottom-left { content: "%(footer)s"; font: 7.5pt %(family)s; color: #666; }
  @bottom-right { content: "%(page)s"; font: 7.5pt %(family)s; color: #666; } }
html { font-family: "%(family)s", sans-serif; color: %(ink)s; font-size: 9.5pt;
  line-height: 1.45; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0 auto; max-width: 178mm; padding: 0 4mm; }
h1 { font-size: 15pt; color: #12324a; font-weight: normal; margin: 4pt 0 6pt;
  break-after: avoid; }
h2 { font-size: 11.5pt; color: #12324a; font-weight: normal; margin: 9pt 0 4pt;
  break-after: avoid; }
p { margin: 0 0 4pt; overflow-wrap: anywhere; }
p.small { font-size: 8pt; color: #3a3a3a; margin-bottom: 3pt; }
p.note { font-size: 7.5pt; color: #5a5a5a; }
table { width: 100%%; border-collapse: collapse; table-layout: fixed; margin: 0 0 4mm;
  font-size: 8.2pt; line-height: 1.3; }
table.small { font-size: 7.2pt; }
thead { display: table-header-group; }
th { background: %(head)s; color: #6b6b6b; font-weight: normal; text-align: left;
  border-bottom: 0.8pt solid #7d8a96; padding: 2pt 3pt; vertical-align: top; }
td { border-bottom: 0.3pt solid %(rule)s; padding: 2pt 3pt; vertical-align: top;
  overflow-wrap: anywhere; word-break: break-word; }
tr { break-inside: avoid; }
.r { text-align: right; } .c { text-align: center; }
.pass { color: %(pass)s; } .fail { color: %(fail)s; } .warn { color: %(warn)s; }
.muted { color: %(muted)s; }
figure { margin: 0 0 6mm; break-inside: avoid; }
figure img { width: 100%%; height: auto; display: block; }
figcaption { font-size: 8.5pt; color: #333; margin-top: 3pt; }
.break { break-after: page; height: 0; }
.cover { padding-top: 28mm; }
.cover .title { font-size: 24pt; line-height: 1.3; color: #12324a; margin-bottom: 8pt; }
.cover .subtitle { font-size: 12pt; color: #333; margin-bottom: 18pt; }
.cover table.details td { border: none; font-size: 10.5pt; padding: 2pt 3pt 4pt; }
.cover table.details td:first-child { width: 32mm; color: %(muted)s; }
.cover .verdict { margin: 14mm 0 8mm; padding: 9pt; color: #fff; font-size: 17pt;
  text-align: center; }
.cover ul { padding-left: 1.1em; margin: 0; } .cover li { margin-bottom: 3pt; }
"""


def _cls(tone: str | None, align: str = "l") -> str:
    names = [n for n in (tone, {"r": "r", "c": "c"}.get(align)) if n]
    return f' class="{" ".join(names)}"' if names else ""


def _cell(tag: str, cell: Cell, align: str) -> str:
    return f"<{tag}{_cls(cell.tone, align)}>{escape(cell.text)}</{tag}>"


def _css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def render_html(doc: Document) -> str:
    """The HTML text of ``doc``."""
    t = words(doc.lang)
    font = base64.b64encode(subset_ttf("".join(doc.strings()) + t["page"])).decode("ascii")
    page = t["page"].replace("{n}", '" counter(page) "').replace("{m}", '" counter(pages) "')
    css = _CSS % {
        "m": f"{MARGIN_MM:g}",
        "b": f"{MARGIN_MM + 6:g}",
        "family": FAMILY,
        "ink": INK,
        "head": HEAD_BG,
        "rule": RULE,
        "footer": _css_string(doc.footer),
        "page": page,
        **{k: v for k, v in TONES.items()},
    }
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if doc.lang == "zh" else "en-GB"}"><head><meta charset="utf-8">',
        f"<title>{escape(doc.title)}</title>",
        '<meta name="generator" content="planner">',
        f'<style>@font-face {{ font-family: "{FAMILY}"; '
        f'src: url(data:font/ttf;base64,{font}) format("truetype"); }}{css}</style>',
        "</head><body>",
    ]
    for block in doc.blocks:
        if isinstance(block, Cover):
            tone = "pass" if block.passes else "fail"
            rows = "".join(
                f"<tr><td>{escape(a)}</td><td>{escape(b)}</td></tr>" for a, b in block.details
            )
            points = "".join(f"<li{_cls(c.tone)}>{escape(c.text)}</li>" for c in block.points)
            out.append(
                f'<section class="cover"><div class="title">{escape(block.title)}</div>'
                + (
                    f'<div class="subtitle">{escape(block.subtitle)}</div>'
                    if block.subtitle
                    else ""
                )
                + f'<table class="details">{rows}</table>'
                f'<div class="verdict" style="background:{TONES[tone]}">'
                f"{escape(block.verdict)}</div><ul>{points}</ul></section>"
            )
        elif isinstance(block, PageBreak):
            out.append('<div class="break"></div>')
        elif isinstance(block, Heading):
            tag = "h1" if block.level == 1 else "h2"
            anchor = f' id="{escape(block.anchor)}"' if block.anchor else ""
            out.append(f"<{tag}{anchor}>{escape(block.text)}</{tag}>")
        elif isinstance(block, Para):
            classes = " ".join(
                n for n in (block.style if block.style != "body" else None, block.tone) if n
            )
            out.append(
                f"<p{f' class={chr(34)}{classes}{chr(34)}' if classes else ''}>"
                f"{escape(block.text)}</p>"
            )
        elif isinstance(block, Table):
            cols = "".join(f'<col style="width:{100 * w:.2f}%">' for w in block.widths)
            head = "".join(
                _cell("th", Cell(h), a) for h, a in zip(block.header, block.align, strict=True)
            )
            body = "".join(
                "<tr>"
                + "".join(_cell("td", c, a) for c, a in zip(row, block.align, strict=True))
                + "</tr>"
                for row in block.rows
            )
            out.append(
                f"<table{' class=' + chr(34) + 'small' + chr(34) if block.small else ''}>"
                f"<colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>"
            )
        elif isinstance(block, Figure):
            data = base64.b64encode(block.png).decode("ascii")
            out.append(
                f'<figure><img alt="{escape(block.caption)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{escape(block.caption)}</figcaption></figure>"
            )
    out.append("</body></html>\n")
    return "\n".join(out)


__all__ = ["render_html"]
