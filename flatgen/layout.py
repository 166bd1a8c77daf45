"""A layered layout, left to right, for circuits (the Sugiyama scheme, kept small and deterministic).

1. Layers are given (inputs first, each gate after what it reads).  An edge that spans several layers
   gets a dummy node in each layer it crosses, so it can bend around the gates in between; to stay
   fast on large graphs, an edge longer than SPAN (once the dummies would pass BUDGET) is drawn
   straight instead.
2. Order within each layer: barycenter sweeps, down and up, keeping the order with the fewest
   crossings (counted exactly, by inversions).  (A loop's or a branch's box is laid out on its own
   and takes part here as one node of its size: geometry.py.)
3. Coordinates: each layer's x from the gaps the caller asks for; y by isotonic regression (pool
   adjacent violators), which puts each node as near the mean of its neighbours as the order and
   the spacing allow, in sweeps down and up.
Ties are broken by the nodes' order of creation, never by a hash: the same graph, the same picture.
"""

from __future__ import annotations

from dataclasses import dataclass

SWEEPS = 8  # barycenter passes (each one down and one up)
BUDGET = 20000  # dummy nodes allowed before long edges are drawn straight
SPAN = 6  # over the budget, edges spanning at most this many layers still get dummies


@dataclass
class Layout:
    x: list[float]  # per node given (dummies left out)
    y: list[float]
    routes: list[list[tuple[float, float]]]  # per edge: its points, source to target (through its dummies)
    width: float
    height: float


def place(layers: list[int], edges: list[tuple[int, int]], sizes: list[float], gaps: list[float],
          spacing: float = 24.0, margin: float = 20.0) -> Layout:
    """Positions for nodes `0..n-1` in `layers` (edges go from a lower layer to a higher one).

    `sizes`: each node's height (a circle's diameter, a box's height); `gaps[l]`: the distance from
    layer l to layer l + 1.
    """
    n = len(layers)
    depth = max(layers, default=0) + 1
    layer, size = list(layers), list(sizes)
    chains: list[list[int]] = []  # per edge: the nodes it passes through, source and target included
    spans = [layers[v] - layers[u] for u, v in edges]
    dummies = sum(max(s - 1, 0) for s in spans)
    for (u, v), s in zip(edges, spans):
        chain = [u]
        if s > 1 and (dummies <= BUDGET or s <= SPAN):
            for k in range(layers[u] + 1, layers[v]):
                layer.append(k)
                size.append(2.0)
                chain.append(len(layer) - 1)
        chain.append(v)
        chains.append(chain)
    order = _order(layer, chains, depth)
    ys = _coordinates(order, layer, chains, size, spacing)
    xs = [margin]
    for k in range(1, depth):
        xs.append(xs[-1] + (gaps[k - 1] if k - 1 < len(gaps) else 100.0))
    top = min((ys[i] - size[i] / 2 for i in range(len(layer))), default=0.0)
    shift = margin - top
    x = [xs[layer[i]] for i in range(len(layer))]
    y = [v + shift for v in ys]
    routes = [[(x[i], y[i]) for i in chain] for chain in chains]
    height = max((y[i] + size[i] / 2 for i in range(len(layer))), default=0.0) + margin
    return Layout(x[:n], y[:n], routes, xs[-1] + margin, height)


def _order(layer: list[int], chains: list[list[int]], depth: int) -> list[list[int]]:
    """Each layer's nodes, top to bottom, with few crossings."""
    rows: list[list[int]] = [[] for _ in range(depth)]
    for i, k in enumerate(layer):
        rows[k].append(i)
    up: list[list[int]] = [[] for _ in layer]  # neighbours in the layer before (segments of chains)
    down: list[list[int]] = [[] for _ in layer]
    for chain in chains:
        for a, b in zip(chain, chain[1:]):
            if layer[b] == layer[a] + 1:  # a segment between adjacent layers (long straight edges are left out)
                up[b].append(a)
                down[a].append(b)
    pos = {i: p for r in rows for p, i in enumerate(r)}
    best, best_rows = _crossings(rows, down, pos), [list(r) for r in rows]
    for _ in range(SWEEPS):
        if best == 0:
            break
        for k, near in _sweeps(depth, up, down):
            rows[k] = _sorted(rows[k], near, pos)
            pos.update({i: p for p, i in enumerate(rows[k])})
        count = _crossings(rows, down, pos)
        if count < best:
            best, best_rows = count, [list(r) for r in rows]
    return best_rows


def _sweeps(depth: int, up: list, down: list):
    """One pass: down the layers, each placed after the layer before (its `up` neighbours), then back up."""
    return [(k, up) for k in range(1, depth)] + [(k, down) for k in range(depth - 2, -1, -1)]


def _sorted(row: list[int], near: list[list[int]], pos: dict) -> list[int]:
    """The barycenter step: each node moves to the mean position of its neighbours in the layer swept
    from (a node without any keeps its place); ties keep the order they had."""
    bary = {}
    for i in row:
        nb = near[i]
        bary[i] = sum(pos[j] for j in nb) / len(nb) if nb else float(pos[i])
    return [i for _, i in sorted(enumerate(row), key=lambda p_i: (bary[p_i[1]], p_i[0]))]


def _crossings(rows: list[list[int]], down: list[list[int]], pos: dict) -> int:
    """Crossings between adjacent layers: inversions of the targets when the segments are sorted by source."""
    total = 0
    for r in rows:
        targets = [pos[j] for i in r for j in sorted(down[i], key=pos.__getitem__)]
        total += _inversions(targets)
    return total


def _inversions(seq: list[int]) -> int:
    """Pairs i < j with seq[i] > seq[j], with a Fenwick tree: O(n log n)."""
    if len(seq) < 2:
        return 0
    size = max(seq) + 2
    tree = [0] * (size + 1)
    count = 0
    for seen, v in enumerate(seq):
        k, below = v + 1, 0
        while k > 0:  # how many seen so far are <= v
            below += tree[k]
            k -= k & -k
        count += seen - below
        k = v + 1
        while k <= size:
            tree[k] += 1
            k += k & -k
    return count


def _coordinates(order: list[list[int]], layer: list[int], chains, size: list[float], spacing: float) -> list[float]:
    """Each node's y: near its neighbours' mean, in its layer's order, at least `spacing` apart."""
    up: list[list[int]] = [[] for _ in layer]
    down: list[list[int]] = [[] for _ in layer]
    for chain in chains:
        for a, b in zip(chain, chain[1:]):
            up[b].append(a)
            down[a].append(b)
    y = [0.0] * len(layer)
    for r in order:
        at = 0.0
        for p, i in enumerate(r):
            if p:
                at += (size[r[p - 1]] + size[i]) / 2 + spacing
            y[i] = at
    depth = len(order)
    for _ in range(4):
        for k, near in _sweeps(depth, up, down):
            _fit(order[k], near, y, size, spacing)
    return y


def _fit(row: list[int], near: list[list[int]], y: list[float], size: list[float], spacing: float) -> None:
    """Pool adjacent violators: y as near the wanted places as the order and the spacing allow."""
    if not row:
        return
    offsets = [0.0]
    for a, b in zip(row, row[1:]):
        offsets.append(offsets[-1] + (size[a] + size[b]) / 2 + spacing)
    blocks: list[list[float]] = []  # [sum of weighted targets, total weight, count]
    for p, i in enumerate(row):
        nb = near[i]
        want = (sum(y[j] for j in nb) / len(nb)) if nb else y[i]
        w = float(len(nb)) if nb else 0.25
        blocks.append([(want - offsets[p]) * w, w, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, w2, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += w2
            blocks[-1][2] += c
    p = 0
    for s, w, c in blocks:
        level = s / w
        for _ in range(c):
            y[row[p]] = level + offsets[p]
            p += 1
