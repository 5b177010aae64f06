"""The report as a list of blocks, rendered alike to PDF (ReportLab) and to HTML.

A block is a heading, a paragraph, a table, a figure, the cover or a page break; a table cell
may carry a tone (``"pass"``, ``"fail"``, ``"muted"``) that both renderers colour the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

Tone = str | None  # "pass", "fail", "muted", "warn" or None


@dataclass(frozen=True)
class Cell:
    text: str
    tone: Tone = None


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1  # 1 section, 2 subsection
    anchor: str = ""


@dataclass(frozen=True)
class Para:
    text: str
    style: Literal["body", "small", "note"] = "body"
    tone: Tone = None


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[Cell]]
    widths: list[float]  # fractions of the text width, summing to 1
    align: list[str] = field(default_factory=list)  # "l", "r" or "c" per column
    caption: str = ""
    small: bool = False

    def __post_init__(self) -> None:
        if len(self.widths) != len(self.header):
            raise ValueError("a table needs one width per column")
        if not self.align:
            self.align.extend("l" for _ in self.header)


@dataclass(frozen=True)
class Figure:
    png: bytes
    caption: str
    width_mm: float
    height_mm: float


@dataclass(frozen=True)
class Cover:
    title: str
    subtitle: str
    details: list[tuple[str, str]]
    verdict: str
    passes: bool
    points: list[Cell]


@dataclass(frozen=True)
class PageBreak:
    pass


Block = Heading | Para | Table | Figure | Cover | PageBreak


@dataclass
class Document:
    lang: str
    title: str
    footer: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)

    def strings(self) -> Iterator[str]:
        """Every text the document prints (for the font subset)."""
        yield self.title
        yield self.footer
        for block in self.blocks:
            if isinstance(block, Heading | Para):
                yield block.text
            elif isinstance(block, Table):
                yield from block.header
                yield block.caption
                for row in block.rows:
                    yield from (c.text for c in row)
            elif isinstance(block, Figure):
                yield block.caption
            elif isinstance(block, Cover):
                yield block.title
                yield block.subtitle
                yield block.verdict
                for label, value in block.details:
                    yield label
                    yield value
                yield from (c.text for c in block.points)


__all__ = ["Block", "Cell", "Cover", "Document", "Figure", "Heading", "PageBreak", "Para", "Table"]
