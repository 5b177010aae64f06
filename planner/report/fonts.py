"""The report's typeface: Noto Sans SC, from a PyPI package, embedded as a subset.

ReportLab embeds only TrueType outlines, and Noto Sans SC ships with CFF (PostScript)
outlines. So the glyphs a report uses are cut out of the font with fontTools (a matplotlib
dependency) and their curves converted to TrueType quadratics: a font of a few hundred glyphs
(tens of kB) that ReportLab embeds (subset again) and the HTML version carries inline. Figures
use the full font through matplotlib, which reads CFF directly.

Nothing here needs a system font or the network: the font is the ``pylopdf-fonts-zh-cn``
package's (SIL Open Font License 1.1).
"""

from __future__ import annotations

import hashlib
import io
import string
from functools import lru_cache
from pathlib import Path
from typing import Final

FAMILY: Final = "PlannerNotoSansSC"
"""The name the subset font is registered under (ReportLab, matplotlib, the HTML's CSS)."""

#: Characters every report may print whatever its data: ASCII, the units, arrows and marks.
BASE_CHARS: Final = (
    string.printable.strip() + " ²³±×÷≥≤≈–—‘’“”…·•→←↑↓✓✗°％（），。：；、！？《》【】「」〔〕～"
)


def font_path() -> Path:
    """The Noto Sans SC Regular file (OpenType, CFF outlines) shipped by ``pylopdf-fonts-zh-cn``."""
    import pylopdf_fonts_zh_cn

    path = Path(pylopdf_fonts_zh_cn.sans_path())
    if not path.is_file():  # pragma: no cover - a broken install
        raise FileNotFoundError(
            f"{path}: the report font is missing; pip install pylopdf-fonts-zh-cn"
        )
    return path


def subset_ttf(chars: str) -> bytes:
    """A TrueType-outline font holding the glyphs of ``chars`` (and the base set).

    The same characters give the same bytes.
    """
    wanted = "".join(sorted(set(chars) | set(BASE_CHARS)))
    return _subset_ttf(wanted)


@lru_cache(maxsize=8)
def _subset_ttf(wanted: str) -> bytes:
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(font_path(), lazy=True, recalcTimestamp=False)  # same chars, same bytes
    options = subset.Options()
    options.layout_features = []  # plain horizontal text: no ligatures, no vertical forms
    options.hinting = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.name_IDs = ["*"]  # keep the copyright and licence records
    options.name_languages = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=wanted)
    subsetter.subset(font)

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        # CFF contours run counter-clockwise; TrueType's clockwise.
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["maxp"] = maxp
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    font.sfntVersion = "\x00\x01\x00\x00"
    font["head"].indexToLocFormat = 0
    font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = None
    # A PostScript name of its own: ReportLab maps every font of one face name to the first it
    # registered, so two subsets named alike would print one document with the other's glyphs.
    tag = hashlib.sha256(wanted.encode("utf-8")).hexdigest()[:8].upper()
    for record in font["name"].names:
        if record.nameID == 6:
            record.string = f"{record.toUnicode()}-{tag}"
    buffer = io.BytesIO()
    try:
        font.save(buffer)
    finally:
        font.close()
    return buffer.getvalue()


@lru_cache(maxsize=1)
def matplotlib_family() -> str:
    """Register the full font with matplotlib once; return its family name."""
    from matplotlib import font_manager

    path = font_path()
    font_manager.fontManager.addfont(str(path))
    return str(font_manager.FontProperties(fname=str(path)).get_name())


__all__ = ["BASE_CHARS", "FAMILY", "font_path", "matplotlib_family", "subset_ttf"]
