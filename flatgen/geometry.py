"""Where everything in a circuit goes: boxes laid out inside out, as nodes of the layout around them.

A loop's or a branch's box is laid out first (its gates, its inner boxes, a port on its left edge for
each wire coming in and one on its right edge for each wire going out), and then takes part in the
layout around it as one node of its size.  So a box holds exactly its own gates: nothing from outside
lands inside it.  A wire is the chain of its pieces, from the innermost box of its source, out through
ports, across, and in through ports to its target.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .circuit import CHAR, Circuit, Node, Wire
from .layout import place

SPACING = 44.0  # between the nodes of one layer
PAD, HEAD, ARC = 12.0, 22.0, 38.0  # a box's padding, its label's line, and room for the arcs of loops


def radius(node: Node) -> float:
    if node.kind == "gate":
        return max(15.0, 4.2 * len(node.label) + 7.0)
    return 3.0 if node.kind == "output" else 0.0


def above(w: Wire) -> str:
    """The text over a wire: its name, and its value (the space around `=` unbreakable, so SVG keeps it)."""
    return f"{w.name}\u00a0=\u00a0{w.value}" if w.value else w.name


def label_width(w: Wire) -> float:
    return CHAR * max(len(above(w)), len(w.grad))


def keys(node: Node) -> tuple:
    return tuple(frame_key(f) for f in node.frames)


def frame_key(f) -> tuple:
    return ("branch", id(f.cond), f.want) if hasattr(f, "want") else ("loop", id(f))


@dataclass
class Block:
    """One box's content (or the whole picture's), laid out in its own coordinates, then moved."""

    key: tuple
    width: float = 0.0
    height: float = 0.0
    at: dict = field(default_factory=dict)  # item -> (x, y): ("n", node) or ("b", box key)
    routes: dict = field(default_factory=dict)  # id(wire) -> [points] of its piece in this block
    back: bool = False  # are there loop arcs to make room for?
    x0: float = 0.0  # the content's left edge
    inner: dict = field(default_factory=dict)  # the boxes in it, by key

    def move(self, dx: float, dy: float) -> None:
        self.at = {k: (x + dx, y + dy) for k, (x, y) in self.at.items()}
        self.routes = {k: [(x + dx, y + dy) for x, y in pts] for k, pts in self.routes.items()}


class Geometry:
    """Positions of nodes, the points of each wire, and the rectangle of each box (absolute)."""

    def __init__(self, c: Circuit):
        self.c = c
        for node in c.nodes:
            node.radius = radius(node)
        self.keys = [keys(n) for n in c.nodes]
        self.forward = [w for w in c.wires if not w.back]
        self.blocks: dict[tuple, Block] = {}
        self.rects: dict[tuple, tuple] = {}  # box key -> (x0, y0, x1, y1)
        root = self._block(())
        self._place(root, 0.0, 0.0)
        self.pos = [self.blocks[self.keys[i]].at[("n", i)] for i in range(len(c.nodes))]

    # -- one block ---------------------------------------------------------------------------------

    def _item(self, i: int, key: tuple):
        """Node i as the block `key` sees it: itself, the inner box holding it, or None (outside)."""
        k = self.keys[i]
        if k[: len(key)] != key:
            return None
        return ("n", i) if len(k) == len(key) else ("b", k[: len(key) + 1])

    def _block(self, key: tuple) -> Block:
        c = self.c
        block = Block(key)
        items: list = []
        for i, k in enumerate(self.keys):
            item = self._item(i, key)
            if item is not None and item not in items:
                items.append(item)
        inner = {item[1]: self._block(item[1]) for item in items if item[0] == "b"}
        edges, pieces = [], []  # (source item, target item), and per edge: the wire and which piece it is
        for w in self.forward:
            s, t = self._item(w.src, key), self._item(w.dst, key)
            if s is None and t is None or s == t:
                continue
            if s is None:
                s = ("in", id(w))
                items.append(s)
            if t is None:
                t = ("out", id(w))
                items.append(t)
            edges.append((s, t))
            pieces.append(w)
        index = {item: k for k, item in enumerate(items)}
        layer = self._layers(items, edges, key)
        size = [self._size(item, inner) for item in items]
        depth = max(layer, default=0) + 1
        wide = [0.0] * depth
        labels = [0.0] * depth
        for k, item in enumerate(items):
            wide[layer[k]] = max(wide[layer[k]], size[k][0])
        for (s, t), w in zip(edges, pieces):
            if t == ("n", w.dst):  # the label sits on the piece that reaches the gate
                labels[layer[index[t]]] = max(labels[layer[index[t]]], label_width(w))
        gaps = [max(64.0, (wide[k] + wide[k + 1]) / 2 + labels[k + 1] + 24.0) for k in range(depth - 1)]
        lay = place(layer, [(index[s], index[t]) for s, t in edges], [h for _, h in size], gaps, SPACING, 0.0)
        for k, item in enumerate(items):
            block.at[item] = (lay.x[k], lay.y[k])
        for (s, t), w, pts in zip(edges, pieces, lay.routes):
            block.routes[id(w)] = pts
        x0 = min((lay.x[k] - size[k][0] / 2 for k in range(len(items))), default=0.0)
        x1 = max((lay.x[k] + size[k][0] / 2 for k in range(len(items))), default=0.0)
        block.x0, block.width, block.height = x0, x1 - x0, lay.height
        block.back = any(w.back and self._item(w.src, key) is not None and self._item(w.dst, key) is not None
                         for w in c.wires)
        self.blocks[key] = block
        block.inner = inner
        return block

    def _size(self, item, inner) -> tuple[float, float]:
        kind, what = item
        if kind == "n":
            node = self.c.nodes[what]
            if node.kind == "input":
                return 0.0, 30.0
            return 2 * node.radius, max(2 * node.radius, 6.0)
        if kind == "b":
            b = inner[what]
            label = CHAR * len(self._box(what).label) + 2 * PAD
            return max(b.width + 2 * PAD, label), b.height + HEAD + PAD + (ARC if b.back else 0.0)
        return 0.0, 0.0  # a port

    def _box(self, key: tuple):
        return next(b for b in self.c.boxes if b.key == key)

    def _layers(self, items: list, edges: list, key: tuple) -> list[int]:
        """Ports and inputs first; each item one layer after the latest it reads; outputs and ports out last."""
        index = {item: k for k, item in enumerate(items)}
        into: list[list[int]] = [[] for _ in items]
        for s, t in edges:
            into[index[t]].append(index[s])
        layer = [0] * len(items)
        order = sorted(range(len(items)), key=lambda k: self._rank(items[k]))
        for k in order:
            kind, what = items[k]
            if kind in ("n", "b") and not (kind == "n" and self.c.nodes[what].kind in ("input", "output")):
                layer[k] = 1 + max((layer[j] for j in into[k]), default=0)
        last = max((layer[k] for k, it in enumerate(items) if it[0] in ("n", "b")), default=0)
        for k, (kind, what) in enumerate(items):
            if kind == "out" or (kind == "n" and self.c.nodes[what].kind == "output"):
                layer[k] = last + 1
        return layer

    def _rank(self, item) -> int:
        """Items in the order wires run (circuit order: a node's inputs come before it)."""
        kind, what = item
        if kind == "n":
            return what
        if kind == "b":
            return min(i for i, k in enumerate(self.keys) if k[: len(what)] == what)
        return -1

    # -- absolute positions ------------------------------------------------------------------------

    def _place(self, block: Block, dx: float, dy: float) -> None:
        block.move(dx, dy)
        for key, b in block.inner.items():
            cx, cy = block.at[("b", key)]
            w, h = self._size(("b", key), block.inner)
            x0, y0 = cx - w / 2, cy - h / 2
            top = y0 + HEAD + (ARC if b.back else 0.0)
            self.rects[key] = (x0, y0, x0 + w, y0 + h)
            self._place(b, x0 + (w - b.width) / 2 - b.x0, top)

    def route(self, w: Wire) -> list[tuple[float, float]]:
        """The wire's points, source to target, through the ports of the boxes it leaves and enters."""
        src, dst = self.keys[w.src], self.keys[w.dst]
        common = 0
        while common < min(len(src), len(dst)) and src[common] == dst[common]:
            common += 1
        pts: list[tuple[float, float]] = []
        for depth in range(len(src), common - 1, -1):  # out of the source's boxes, then across
            pts += self._piece(src[:depth], w, drop_first=depth < len(src), drop_last=depth == common < len(dst))
        for depth in range(common + 1, len(dst) + 1):  # in through the target's boxes
            pts += self._piece(dst[:depth], w, drop_first=False, drop_last=depth < len(dst))
        s, t = self.c.nodes[w.src], self.c.nodes[w.dst]
        pts[0] = (pts[0][0] + s.radius, pts[0][1])
        pts[-1] = (pts[-1][0] - t.radius, pts[-1][1])
        return pts

    def _piece(self, key: tuple, w: Wire, drop_first: bool, drop_last: bool) -> list:
        pts = list(self.blocks[key].routes[id(w)])
        if drop_first:
            pts = pts[1:]  # the centre of the box it came out of: its port stands for it
        if drop_last:
            pts = pts[:-1]  # the centre of the box it goes into
        return pts
