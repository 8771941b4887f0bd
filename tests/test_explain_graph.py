"""`explain --format svg|html|mermaid`: the steps of a build drawn as a chain, the breaking edge red with the finding.

LeNet on 28x28 MNIST (fixtures/lenet_mnist.py) as a user draws it; the shapes each box must show are written by hand
(28 -conv5-> 24 -pool2-> 12 -conv5-> 8 -pool2-> 4; 16*4*4 = 256), and the table they come from is checked against
torch in test_explain.py. The HTML page is rendered by a real browser (headless Chromium) where one is installed.
"""

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser

import pytest

from conftest import ROOT, cli

LENET = "fixtures/lenet_mnist.py::<module>"
SVG = "{http://www.w3.org/2000/svg}"
# By hand, the input and then each step's output: conv1, pool, conv2, pool, flatten, fc1, fc2, fc3.
LENET_SHAPES = ["(64, 1, 28, 28)", "(64, 6, 24, 24)", "(64, 6, 12, 12)", "(64, 16, 8, 8)", "(64, 16, 4, 4)",
                "(64, 256)", "(64, 120)", "(64, 84)", "(64, 10)"]
LENET_LAYERS = ["input", "Conv2d", "MaxPool2d", "Conv2d", "MaxPool2d", "torch.flatten", "Linear", "Linear", "Linear"]
BREAKS = "TSL001 Linear(in_features=400) but 256 features arrive"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def svg_parts(document):
    """(boxes, edges) of an SVG: each box as its lines of text, each edge as (its colour, its lines of text)."""
    root = ElementTree.fromstring(document)
    groups = list(root.iter(f"{SVG}g"))

    def lines(group):
        return [t.text for t in group.iter(f"{SVG}text")]

    boxes = [lines(g) for g in groups if g.get("class") == "step"]
    edges = [(g.find(f"{SVG}line").get("stroke"), lines(g)) for g in groups if g.get("class", "").startswith("edge")]
    return boxes, edges


def test_svg_draws_each_step_and_the_red_edge_into_the_broken_linear():
    result = cli("explain", LENET, "--format", "svg")
    assert result.returncode == 1 and result.stderr == ""
    assert result.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')
    boxes, edges = svg_parts(result.stdout)
    assert [box[0] for box in boxes] == LENET_LAYERS
    assert [box[-1] for box in boxes] == LENET_SHAPES
    assert [box[1] for box in boxes][1:3] == ["line 11 · 156 params", "line 18"]  # 6*1*5*5 + 6; a pool has none
    assert [lines[0] for _, lines in edges] == LENET_SHAPES[:-1]  # each edge: the shape that passes
    red = [i for i, (colour, _) in enumerate(edges) if colour != edges[0][0]]
    assert red == [5]  # flatten → fc1, the Linear at line 13
    assert BREAKS in " ".join(edges[5][1]) and "use 16 * 4 * 4" in " ".join(edges[5][1])
    assert boxes[6][1].startswith("line 13")


def test_committed_svg_is_what_the_tool_draws_today():
    """docs/lenet_mnist.svg, shown in the README, is regenerated with
    `torchshape-lint explain 'fixtures/lenet_mnist.py::<module>' --format svg > docs/lenet_mnist.svg`."""
    committed = (ROOT / "docs" / "lenet_mnist.svg").read_text(encoding="utf-8")
    assert committed == cli("explain", LENET, "--format", "svg").stdout, (
        "docs/lenet_mnist.svg is stale: torchshape-lint explain 'fixtures/lenet_mnist.py::<module>' --format svg "
        "> docs/lenet_mnist.svg")
    assert "docs/lenet_mnist.svg" in (ROOT / "README.md").read_text(encoding="utf-8")


NAMES_TO_ESCAPE = '''import torch
import torch.nn as nn


class Quoted(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(12, 4)

    def forward(self, x):
        return self.fc(x.flatten(1))


Quoted()(torch.zeros(2, 3, 5))
'''


def test_text_is_escaped_for_xml_and_mermaid(tmp_path):
    """A folder named with &, <, >, both quotes, # and | ends up in every title; the SVG still parses and says it as written,
    and no mermaid label is cut short by a quote or a bar."""
    folder = tmp_path / 'R&D <v2> "x" \'q\' #1 | y'
    folder.mkdir()
    (folder / "model.py").write_text(NAMES_TO_ESCAPE)
    target = f"{folder / 'model.py'}::<module>"
    svg = cli("explain", target, "--format", "svg").stdout
    root = ElementTree.fromstring(svg)
    titles = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "title"]
    assert titles == [f"{folder / 'model.py'}::<module>"]
    _, edges = svg_parts(svg)
    assert " ".join(edges[-1][1]).startswith("(2, 15) TSL001 Linear(in_features=12) but 15 features arrive")

    mermaid = cli("explain", target, "--format", "mermaid").stdout.splitlines()
    assert mermaid[:2] == ["```mermaid", "flowchart TD"] and mermaid[-1] == "```"
    quoted = re.compile(r'^ +(subgraph build0\["[^"|]*"\]|build0_\d+\["[^"|]*"\]|'
                        r'build0_(\d+) -->\|"[^"|]*"\| build0_(\d+)|end|linkStyle \d+ .*)$')
    assert all(quoted.match(line) for line in mermaid[2:-1]), mermaid
    assert "R&D #lt;v2#gt; #quot;x#quot; 'q' #35;1 #124; y" in mermaid[2]


def test_mermaid_chains_the_steps_and_colours_the_breaking_link():
    result = cli("explain", LENET, "--format", "mermaid")
    lines = result.stdout.splitlines()
    nodes = [re.match(r' +build0_\d+\["(.*)"\]$', line) for line in lines]
    labels = [m[1].split("<br/>") for m in nodes if m]
    assert [label[0] for label in labels] == LENET_LAYERS and [label[-1] for label in labels] == LENET_SHAPES
    links = [re.match(r' +build0_(\d+) -->\|"(.*)"\| build0_(\d+)$', line) for line in lines]
    links = [m for m in links if m]
    assert [(int(m[1]), int(m[3])) for m in links] == [(i, i + 1) for i in range(8)]
    assert BREAKS in links[5][2] and BREAKS not in "".join(m[2] for i, m in enumerate(links) if i != 5)
    assert [line.split()[:2] for line in lines if "linkStyle" in line] == [["linkStyle", "5"]]


def test_pictures_need_no_torch(tmp_path):
    """Drawn in static mode: with torch made unimportable, the SVG and HTML still come out."""
    run = ("import sys; sys.modules['torch'] = None; from torchshape_lint.frontends.cli import main; "
           "sys.exit(main(sys.argv[1:]))")
    for form in ("svg", "html", "mermaid"):
        result = subprocess.run([sys.executable, "-c", run, "explain", LENET, "--format", form], cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
        assert (result.returncode, result.stderr) == (1, "") and BREAKS in result.stdout.replace("&#39;", "'")


class Page(HTMLParser):
    """The rendered page's SVG groups (class, the stroke of their line, their text) and every URL it names."""

    def __init__(self):
        super().__init__()
        self.groups, self.urls, self.open = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.urls += [value for name, value in attrs.items() if name in ("src", "href", "xlink:href")]
        if tag == "g" and attrs.get("class", "") in ("step", "edge", "edge breaking"):
            self.groups.append({"class": attrs["class"], "stroke": None, "text": []})
            self.open.append(len(self.groups) - 1)
        elif tag == "g":
            self.open.append(None)
        elif tag == "line" and self.open and self.open[-1] is not None:
            self.groups[self.open[-1]]["stroke"] = attrs.get("stroke")

    def handle_endtag(self, tag):
        if tag == "g":
            self.open.pop()

    def handle_data(self, data):
        if self.open and self.open[-1] is not None and data.strip():
            self.groups[self.open[-1]]["text"].append(data.strip())


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no headless Chromium (apt-get install chromium)")
def test_html_renders_in_chromium_with_the_red_edge(tmp_path):
    page = tmp_path / "lenet.html"
    result = cli("explain", LENET, "--format", "html")
    page.write_text(result.stdout, encoding="utf-8")
    rendered = subprocess.run(["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                               "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    dom = Page()
    dom.feed(rendered.stdout)
    steps = [g["text"] for g in dom.groups if g["class"] == "step"]
    # each box: a tooltip title, then its lines; the last is its output shape
    assert [lines[1] for lines in steps] == LENET_LAYERS and [lines[-1] for lines in steps] == LENET_SHAPES
    edges = [g for g in dom.groups if g["class"].startswith("edge")]
    breaking = [g for g in edges if g["class"] == "edge breaking"]
    assert len(edges) == 8 and len(breaking) == 1 and breaking[0] is edges[5]
    assert breaking[0]["stroke"] == "#c8102e" and {g["stroke"] for g in edges if g is not edges[5]} == {"#555555"}
    assert BREAKS in " ".join(breaking[0]["text"])
    assert dom.urls == []  # self-contained: nothing to fetch
