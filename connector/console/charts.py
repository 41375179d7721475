"""Small charts drawn as inline SVG by the server: no chart library, no script, and they obey
the page's Content-Security-Policy (attributes only, no style attributes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

COLOURS = ("#1f5fae", "#2e7d32", "#b45309", "#8e24aa", "#00838f", "#b3261e")


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[int, ...]


def _scale(top: int) -> int:
    """A round number at or above TOP for the axis."""
    if top <= 4:
        return 4
    step = 10 ** (len(str(top)) - 1)
    return -(-top // step) * step


def bars(labels: Sequence[str], series: Sequence[Series], title: str, width: int = 720, height: int = 260) -> str:
    """Grouped bars: one group per label, one bar per series."""
    left, bottom, top_pad = 70, 50, 30
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    top = _scale(max((v for s in series for v in s.values), default=0))
    group = plot_w / max(1, len(labels))
    bar = max(2.0, group * 0.8 / max(1, len(series)))
    out = [_open(width, height, title), *_axis(left, top_pad, plot_w, plot_h, top)]
    for i, label in enumerate(labels):
        x0 = left + i * group + group * 0.1
        for j, s in enumerate(series):
            h = plot_h * s.values[i] / top
            out.append(f'<rect x="{x0 + j * bar:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar - 1:.1f}" '
                       f'height="{h:.1f}" fill="{COLOURS[j % len(COLOURS)]}"><title>{_esc(label)}: '
                       f'{_esc(s.name)} {s.values[i]}</title></rect>')
        out.append(f'<text x="{x0 + group * 0.4:.1f}" y="{height - bottom + 16}" font-size="11" '
                   f'text-anchor="middle">{_esc(label[:18])}</text>')
    out += _legend(series, left, height - 14)
    return "".join(out) + "</svg>"


def lines(xs: Sequence[int], series: Sequence[Series], title: str, width: int = 720, height: int = 260) -> str:
    """Lines over X (block heights)."""
    left, bottom, top_pad = 70, 50, 30
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    top = _scale(max((v for s in series for v in s.values), default=0))
    low, high = (min(xs), max(xs)) if xs else (0, 1)
    span = max(1, high - low)
    out = [_open(width, height, title), *_axis(left, top_pad, plot_w, plot_h, top)]
    for j, s in enumerate(series):
        points = " ".join(f"{left + plot_w * (x - low) / span:.1f},{top_pad + plot_h - plot_h * v / top:.1f}"
                          for x, v in zip(xs, s.values, strict=True))
        out.append(f'<polyline points="{points}" fill="none" stroke="{COLOURS[j % len(COLOURS)]}" stroke-width="2"/>')
    for x, anchor in ((low, "start"), (high, "end")):
        out.append(f'<text x="{left + plot_w * (x - low) / span:.1f}" y="{height - bottom + 16}" font-size="11" '
                   f'text-anchor="{anchor}">block {x}</text>')
    out += _legend(series, left, height - 14)
    return "".join(out) + "</svg>"


def _open(width: int, height: int, title: str) -> str:
    return (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{_esc(title)}"><title>{_esc(title)}</title>')


def _axis(left: int, top_pad: int, plot_w: int, plot_h: int, top: int) -> list[str]:
    out = [f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" stroke="#888"/>']
    for k in range(5):
        y = top_pad + plot_h - plot_h * k / 4
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e3e6ea"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{top * k // 4}</text>')
    return out


def _legend(series: Sequence[Series], x: int, y: int) -> list[str]:
    out = []
    for j, s in enumerate(series):
        out.append(f'<rect x="{x + j * 130}" y="{y - 9}" width="10" height="10" fill="{COLOURS[j % len(COLOURS)]}"/>'
                   f'<text x="{x + j * 130 + 14}" y="{y}" font-size="12">{_esc(s.name)}</text>')
    return out


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
