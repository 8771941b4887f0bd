"""Pictures of a build for `explain --format svg|html|mermaid`: its steps as a chain of boxes.

A build's steps are a sequence (the order its layers and ops ran), so the picture is a chain: one box per
step, an edge from each to the next labelled with the shape that passes, the edge into a step where a finding
sits drawn red with the finding's message. Nothing here knows about layers: explain hands over `Chart`s.
The SVG is written by hand, sized for a monospace font, so it needs nothing to draw and nothing to show.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

# Geometry, in pixels, for a 12px monospace font (a character is about 0.6em wide).
CHAR = 7.3
LINE = 16
PAD = 10
MARGIN = 20
GAP = 2 * LINE + 12  # between boxes: room for the edge and its one-line label
WRAP = 72  # characters per line of a finding's message
RED = "#c8102e"
GREY = "#555555"


@dataclass
class Node:
    title: str
    lines: list  # the lines below the title: where it is, what it holds, its output shape


@dataclass
class Edge:
    label: str  # the shape that passes
    problems: list = field(default_factory=list)  # the findings at the step this edge enters: it is drawn red


@dataclass
class Chart:
    """One build: a title, its nodes in order (the input first), the edge between each and the next, notes below."""

    title: str
    subtitle: str
    nodes: list
    edges: list  # edges[i] joins nodes[i] and nodes[i + 1]
    notes: list = field(default_factory=list)


XML_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#39;"))


def text(value: str) -> str:
    """Escaped for XML and HTML text and attribute values. (Not with the html module: run as `python -m` in a folder
    with its own html.py, that file would be imported instead.)"""
    for character, entity in XML_ESCAPES:
        value = value.replace(character, entity)
    return value


def wrapped(problems: list) -> list:
    return [line for problem in problems for line in textwrap.wrap(problem, WRAP)]


def edge_height(edge: Edge) -> int:
    return GAP + LINE * len(wrapped(edge.problems))


def svg_chart(chart: Chart, top: float, id_prefix: str) -> tuple[list, float, float]:
    """The SVG elements of one chart from `top` down, with the width and height they take."""
    box_width = PAD * 2 + CHAR * max(len(line) for node in chart.nodes for line in [node.title, *node.lines])
    box_height = PAD * 2 + LINE * (1 + max(len(node.lines) for node in chart.nodes))
    middle = MARGIN + box_width / 2
    out = [f'<g class="chart" id="{id_prefix}">',
           f'<text class="title" x="{MARGIN}" y="{top + LINE:.0f}" font-weight="bold">{text(chart.title)}</text>',
           f'<text class="subtitle" x="{MARGIN}" y="{top + 2 * LINE:.0f}">{text(chart.subtitle)}</text>']
    y, widest = top + 2 * LINE + PAD, MARGIN + box_width
    for index, node in enumerate(chart.nodes):
        out += [f'<g class="step" data-index="{index}">',
                f'<title>{text(" · ".join([node.title, *node.lines]))}</title>',
                f'<rect x="{MARGIN}" y="{y:.0f}" width="{box_width:.0f}" height="{box_height}" rx="6" '
                f'fill="#f4f6fb" stroke="{GREY}"/>',
                f'<text x="{MARGIN + PAD}" y="{y + PAD + LINE - 4:.0f}" font-weight="bold">{text(node.title)}</text>']
        out += [f'<text class="{"shape" if n == len(node.lines) - 1 else "detail"}" x="{MARGIN + PAD}" '
                f'y="{y + PAD + LINE * (n + 2) - 4:.0f}">{text(line)}</text>' for n, line in enumerate(node.lines)]
        out.append("</g>")
        y += box_height
        if index < len(chart.edges):
            edge = chart.edges[index]
            height, colour = edge_height(edge), RED if edge.problems else GREY
            lines = [edge.label, *wrapped(edge.problems)]
            out += [f'<g class="edge{" breaking" if edge.problems else ""}" data-index="{index}">',
                    f'<line x1="{middle:.0f}" y1="{y:.0f}" x2="{middle:.0f}" y2="{y + height - 2:.0f}" '
                    f'stroke="{colour}" stroke-width="{2 if edge.problems else 1.2}" '
                    f'marker-end="url(#{id_prefix}-{"red" if edge.problems else "arrow"})"/>']
            out += [f'<text x="{middle + 10:.0f}" y="{y + LINE * (n + 1) + 2:.0f}" fill="{colour}">{text(line)}</text>'
                    for n, line in enumerate(lines)]
            out.append("</g>")
            widest = max(widest, middle + 10 + CHAR * max(map(len, lines)))
            y += height
    for note in wrapped(chart.notes):
        y += LINE
        out.append(f'<text class="note" x="{MARGIN}" y="{y + 4:.0f}">{text(note)}</text>')
        widest = max(widest, MARGIN + CHAR * len(note))
    defs = [f'<marker id="{id_prefix}-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
            for name, colour in (("arrow", GREY), ("red", RED))]
    widest = max(widest, MARGIN + CHAR * max(len(chart.title), len(chart.subtitle)))
    return ["<defs>", *defs, "</defs>", *out, "</g>"], widest + MARGIN, y + PAD - top


def svg(charts: list, standalone: bool) -> str:
    """One SVG document with every chart, one under the other (`standalone`: with its XML declaration)."""
    body, top, width = [], 0.0, 0.0
    for number, chart in enumerate(charts):
        elements, chart_width, height = svg_chart(chart, top, f"build{number}")
        body += elements
        top, width = top + height + MARGIN, max(width, chart_width)
    head = ['<?xml version="1.0" encoding="UTF-8"?>'] if standalone else []
    return "\n".join(head + [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{top:.0f}" '
        f'viewBox="0 0 {width:.0f} {top:.0f}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" '
        f'font-size="12" fill="#111111">',
        f'<rect width="{width:.0f}" height="{top:.0f}" fill="#ffffff"/>', *body, "</svg>"]) + "\n"


def as_svg(charts: list) -> str:
    return svg(charts, standalone=True)


def as_html(charts: list) -> str:
    """A single self-contained page: the SVG inline, no script, no style sheet, nothing fetched."""
    title = ", ".join(chart.title for chart in charts)
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>torchshape-lint explain: {text(title)}</title>", "</head>",
        '<body style="margin: 16px; background: #ffffff">', svg(charts, standalone=False).rstrip("\n"),
        "</body>", "</html>"]) + "\n"


def mermaid_text(value: str) -> str:
    """Quoted mermaid label text: mermaid's entity codes for what would end or change the label."""
    for character, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("|", "#124;")):
        value = value.replace(character, code)
    return value


def as_mermaid(charts: list) -> str:
    """A `flowchart TD` block in a ```mermaid fence (as GitHub renders it), a subgraph per chart."""
    out, links, red = ["```mermaid", "flowchart TD"], 0, []
    for number, chart in enumerate(charts):
        out.append(f'  subgraph build{number}["{mermaid_text(chart.title)}"]')
        for index, node in enumerate(chart.nodes):
            label = "<br/>".join(mermaid_text(line) for line in [node.title, *node.lines])
            out.append(f'    build{number}_{index}["{label}"]')
        for index, edge in enumerate(chart.edges):
            label = "<br/>".join(mermaid_text(line) for line in [edge.label, *edge.problems])
            out.append(f'    build{number}_{index} -->|"{label}"| build{number}_{index + 1}')
            if edge.problems:
                red.append(links)
            links += 1
        out.append("  end")
    out += [f"  linkStyle {index} stroke:{RED},stroke-width:2px,color:{RED}" for index in red]
    return "\n".join(out + ["```"]) + "\n"
