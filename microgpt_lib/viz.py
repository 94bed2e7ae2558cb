"""Pictures: computation graphs, loss curves, attention maps and heads, the KV cache, embedding maps.

`draw_graph` renders with Graphviz. It uses `graphviz-pure` (installed with the course:
the same picture on every machine), or else a system `dot`. In a notebook the drawing
shows as a PNG, and its text form, the counts of values and operations, is what tests compare.
"""
import pathlib
import shutil
import subprocess
import sys

import graphviz

from .autograd import topological_order

MAX_GRAPH_NODES = 400
INSTALL_HINT = "no Graphviz renderer found: run `pip install graphviz-pure` (or `make lab`, which installs it), then restart the kernel"


def find_renderer():
    """The Graphviz program to render with: graphviz-pure beside this Python, on PATH, or a system `dot`."""
    bindir = pathlib.Path(sys.executable).parent  # a kernel started from a venv may not have it on PATH
    for name in ("graphviz-pure", "dot"):
        for candidate in (bindir / name, bindir / f"{name}.exe"):
            if candidate.is_file():
                return str(candidate)
        found = shutil.which(name)
        if found:
            return found
    return None


class GraphDrawing:
    """A rendered computation graph. Shows itself as a picture in Jupyter; `.source` is the DOT text."""

    def __init__(self, dot, num_values, num_ops):
        self.dot = dot
        self.source = dot.source
        self.num_values, self.num_ops = num_values, num_ops
        self._png = None

    def render(self, fmt="png"):
        """The drawing as bytes of format `fmt` ('png', 'svg', 'pdf', ...)."""
        renderer = find_renderer()
        if renderer is None:
            raise RuntimeError(INSTALL_HINT)
        result = subprocess.run([renderer, f"-T{fmt}"], input=self.source.encode("utf-8"), capture_output=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{renderer} failed: {result.stderr.decode(errors='replace').strip()}")
        return result.stdout

    def save(self, path):
        """Write the drawing to `path`; the format comes from the suffix (.png, .svg, .pdf)."""
        path = pathlib.Path(path)
        path.write_bytes(self.render(path.suffix.lstrip(".") or "png"))
        return path

    def __repr__(self):
        return f"computation graph: {self.num_values} values, {self.num_ops} operations"

    def _repr_mimebundle_(self, include=None, exclude=None):
        if find_renderer() is None:
            return {"text/plain": f"{self!r}\n{INSTALL_HINT}\n{self.source}"}
        if self._png is None:
            self._png = self.render("png")
        return {"image/png": self._png, "text/plain": repr(self)}


def draw_graph(root, labels=None, rankdir="LR"):
    """Draw every node below `root`: a box per Value (label, data, grad) and an oval per operation.

    `labels` maps Values to names shown in their boxes, e.g. {a: "a", b: "b"}. Nodes are
    named by their place in the topological order, so the drawing is the same on every run.
    """
    labels = labels or {}
    nodes = topological_order(root)
    if len(nodes) > MAX_GRAPH_NODES:
        raise ValueError(f"the graph has {len(nodes)} values; draw_graph draws at most {MAX_GRAPH_NODES}: draw a smaller expression")
    index = {node: i for i, node in enumerate(nodes)}
    dot = graphviz.Digraph(graph_attr={"rankdir": rankdir}, node_attr={"fontsize": "12"})
    num_ops = 0
    for node in nodes:
        name = f"v{index[node]}"
        fields = [labels[node]] if node in labels else []
        fields += [f"data {node.data:.4f}", f"grad {node.grad:.4f}"]
        dot.node(name, "{ " + " | ".join(fields) + " }", shape="record")  # one row, left to right
        if node._children:
            num_ops += 1
            dot.node(name + "op", node._op or "?", shape="ellipse")
            dot.edge(name + "op", name)
            for child in node._children:
                dot.edge(f"v{index[child]}", name + "op")
    return GraphDrawing(dot, len(nodes), num_ops)


def smooth(values, window):
    """The mean of each value and the `window - 1` before it (fewer at the start)."""
    out, total = [], 0.0
    for i, x in enumerate(values):
        total += x
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def loss_band(smoothed_histories, window, baseline=None, margin=0.1):
    """The y-range where a loss curve's story happens: the smoothed lines once their mean spans a
    full `window` of steps, and the baseline, with `margin` to spare. Raw spikes fall outside it."""
    values = [x for smoothed in smoothed_histories for x in smoothed[window - 1:]] or [x for s in smoothed_histories for x in s]
    if baseline is not None:
        values.append(baseline)
    return min(values) - margin, max(values) + margin


def plot_losses(loss_histories, window=None, baseline=None, baseline_label="bigram baseline", ax=None, title="training loss",
                ylim="band", legend_outside=True):
    """Loss against step, one line per run; `window` adds a smoothed line, `baseline` a dashed one.

    `loss_histories` is a list of losses, or a dict of them by run name. With a `window`, the y-axis
    shows `loss_band` (the smoothed lines and the baseline; the raw spikes are cut off at its edges);
    `ylim=None` shows everything, or pass `(low, high)`. The legend goes beside the plot, off the curves.
    """
    import matplotlib.pyplot as plt

    if not isinstance(loss_histories, dict):
        loss_histories = {"loss": loss_histories}
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4) if legend_outside else (8, 4))
    smoothed_histories = []
    for i, (name, losses) in enumerate(loss_histories.items()):
        color = f"C{i}"
        steps = range(1, len(losses) + 1)
        if window:
            smoothed_histories.append(smooth(losses, window))
            ax.plot(steps, losses, color=color, alpha=0.2, linewidth=0.7, label=f"{name} (each step)")
            ax.plot(steps, smoothed_histories[-1], color=color, linewidth=2, label=f"{name} (mean of {window})")
        else:
            ax.plot(steps, losses, color=color, label=name)
    if baseline is not None:
        ax.axhline(baseline, color="black", linestyle="--", linewidth=1, label=f"{baseline_label} ({baseline:.4f})")
    if isinstance(ylim, str) and ylim == "band":
        ylim = loss_band(smoothed_histories, window, baseline) if window else None
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats per character)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    place_legend(ax, legend_outside)
    return ax


def place_legend(ax, outside=True):
    """The legend of `ax`, beside the plot (off the curves) or inside it."""
    if outside:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=9)
        ax.figure.tight_layout()
    else:
        ax.legend(fontsize=9)


def plot_attention(attn_maps, token_labels, title="attention weights", annotate=None, heads=None, ncols=None):
    """Heatmaps of attention weights, one per layer and head: rows are queries, columns keys.

    `attn_maps[layer][head]` is a square list of lists, as `GPT.attention_maps` returns. The future
    (above the diagonal) is left blank; `annotate` writes each weight in its square (by default when
    there are at most 10 tokens); `heads` picks some heads (all by default); `ncols` panels a row
    (all of a layer's heads, or 2 for names longer than 6 letters). One colour bar for all.
    """
    import math

    import matplotlib.pyplot as plt

    heads = list(range(len(attn_maps[0]))) if heads is None else list(heads)
    n = len(token_labels)
    annotate = n <= 10 if annotate is None else annotate
    ncols = (len(heads) if n <= 8 else min(2, len(heads))) if ncols is None else ncols
    panels = [(li, h) for li in range(len(attn_maps)) for h in heads]
    nrows = math.ceil(len(panels) / ncols)
    size = max(3.0, 0.42 * n + 1.0)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols + 1.2, size * nrows + 0.6), squeeze=False, layout="constrained")
    cmap = plt.get_cmap("Blues").with_extremes(bad="white")
    for k, ax in enumerate(axes.ravel()):
        if k >= len(panels):
            ax.set_axis_off()
            continue
        li, h = panels[k]
        weights = attn_maps[li][h]
        shown = [[w if u <= t else float("nan") for u, w in enumerate(row)] for t, row in enumerate(weights)]
        image = ax.imshow(shown, cmap=cmap, vmin=0, vmax=1)
        if annotate:
            for t, row in enumerate(weights):
                for u in range(t + 1):
                    ax.text(u, t, f"{row[u]:.2f}", ha="center", va="center", fontsize=8,
                            color="white" if row[u] > 0.6 else "black")
        ax.set_xticks(range(n), token_labels, fontsize=9)
        ax.set_yticks(range(n), [f"{t} {label}" for t, label in enumerate(token_labels)], fontsize=9)
        ax.set_title(f"layer {li}, head {h}" if len(attn_maps) > 1 else f"head {h}", fontsize=10)
        ax.set_xlabel("attends to (key)", fontsize=9)
        if k % ncols == 0:
            ax.set_ylabel("position (query)", fontsize=9)
    fig.suptitle(title)
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, pad=0.02, label="attention weight")
    return fig


def plot_head(scores, weights, values, head_out, key_labels, query_label=""):
    """One attention head for one query, in three panels: the scores q·k/sqrt(d) of each key, their
    softmax (the attention weights), and the values with their weighted sum, the head's output.

    All arguments are plain floats: `scores` and `weights` one per key, `values` one row per key,
    `head_out` one number per dimension of the head.
    """
    import matplotlib.pyplot as plt

    n, head_dim = len(scores), len(head_out)
    fig, (ax_s, ax_w, ax_v) = plt.subplots(1, 3, figsize=(13, 3.6), gridspec_kw={"width_ratios": [1, 1, 1.25]})
    positions = range(n)
    ticks = [f"{u} {label}" for u, label in enumerate(key_labels)]
    for ax, numbers, color, title in ((ax_s, scores, "C7", "1. scores  $q \\cdot k_u / \\sqrt{d}$"),
                                      (ax_w, weights, "C0", "2. weights  softmax(scores)")):
        bars = ax.bar(positions, numbers, color=color)
        ax.bar_label(bars, [f"{x:.2f}" for x in numbers], fontsize=8, padding=2)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_xticks(positions, ticks, fontsize=9)
        ax.set_xlabel("key position $u$")
        ax.set_title(title, fontsize=10)
        ax.margins(y=0.2)
    ax_w.set_ylim(0, 1.15)
    rows = [list(v) for v in values] + [list(head_out)]
    limit = max(abs(x) for row in rows for x in row) or 1.0
    shown = [row for row in values] + [[float("nan")] * head_dim] + [list(head_out)]
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="white")
    image = ax_v.imshow(shown, cmap=cmap, vmin=-limit, vmax=limit, aspect="auto")
    for r, row in enumerate(shown):
        for j, x in enumerate(row):
            if x == x:  # not the blank separator row
                ax_v.text(j, r, f"{x:.2f}", ha="center", va="center", fontsize=8)
    ax_v.set_yticks(list(range(n)) + [n + 1], [f"$v_{u}$ ({key_labels[u]}) x {weights[u]:.2f}" for u in range(n)] + ["output = sum"],
                    fontsize=9)
    ax_v.set_xticks(range(head_dim), [f"{j}" for j in range(head_dim)], fontsize=9)
    ax_v.set_xlabel("number of the head's slice")
    ax_v.set_title("3. values, weighted and summed", fontsize=10)
    fig.colorbar(image, ax=ax_v, shrink=0.9, pad=0.02)
    fig.suptitle(f"one head, the query at {query_label}" if query_label else "one head, one query")
    fig.tight_layout()
    return fig


def plot_kv_cache(attn_rows, token_labels, title="the KV cache, position by position"):
    """Row t: the cache when position t is fed in, its keys 0..t coloured by the weight t's query gives
    them (the new entry outlined in orange); the later positions, not computed yet, dashed.

    `attn_rows[t]` is the list of t + 1 weights of position t, as the attention of one head returns them.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    n = len(attn_rows)
    cmap = plt.get_cmap("Blues")
    fig, ax = plt.subplots(figsize=(1.0 * n + 2.6, 0.62 * n + 1.3))
    for t, row in enumerate(attn_rows):
        for u in range(n):
            y = n - 1 - t  # first position at the top
            if u <= t:
                w = row[u]
                edge = {"edgecolor": "C1", "linewidth": 2.5} if u == t else {"edgecolor": "black", "linewidth": 0.6}
                ax.add_patch(Rectangle((u + 0.05, y + 0.08), 0.9, 0.84, facecolor=cmap(0.1 + 0.85 * w), **edge))
                ax.text(u + 0.5, y + 0.5, f"{token_labels[u]}\n{w:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if w > 0.6 else "black")
            else:
                ax.add_patch(Rectangle((u + 0.05, y + 0.08), 0.9, 0.84, facecolor="none", edgecolor="0.7", linestyle="--"))
    ax.set_xlim(0, n)
    ax.set_ylim(0, n)
    ax.set_xticks([u + 0.5 for u in range(n)], [f"k,v {u}" for u in range(n)], fontsize=9)
    ax.set_yticks([n - 1 - t + 0.5 for t in range(n)], [f"feed {t} ({token_labels[t]})" for t in range(n)], fontsize=9)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_xlabel("cache entries (orange: added at this position; dashed: not computed yet)", fontsize=9)
    ax.set_title(title + "\n(each entry shows its token and the weight the newest query gives it)", fontsize=10)
    fig.tight_layout()
    return fig


def principal_components(rows, k=2):
    """The rows projected on their first `k` principal components, and the share of the variance each explains.

    Each component's sign is chosen so that its largest loading is positive, so the picture is the
    same on every machine.
    """
    import numpy as np

    data = np.array(rows, dtype=float)
    centred = data - data.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:k]
    for i, component in enumerate(components):
        if component[np.argmax(np.abs(component))] < 0:
            components[i] = -component
    points = centred @ components.T
    explained = (singular**2 / np.sum(singular**2))[:k]
    return points.tolist(), explained.tolist()


def plot_embeddings(points, labels, groups=None, ax=None, title="token embeddings", axis_labels=("component 1", "component 2")):
    """A 2-D map of tokens: each token's label at its point; `groups` maps a label to a group name, drawn in its own colour."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 6))
    groups = groups or {}
    names = list(dict.fromkeys(groups.get(label, "") for label in labels))
    for gi, name in enumerate(names):
        members = [i for i, label in enumerate(labels) if groups.get(label, "") == name]
        ax.scatter([points[i][0] for i in members], [points[i][1] for i in members], s=300, color=f"C{gi}", alpha=0.35,
                   label=name or None)
        for i in members:
            ax.text(points[i][0], points[i][1], labels[i], ha="center", va="center", fontsize=11, weight="bold")
    ax.axhline(0, color="0.8", linewidth=0.6, zorder=0)
    ax.axvline(0, color="0.8", linewidth=0.6, zorder=0)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.set_title(title)
    if any(names):
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=9)
    ax.figure.tight_layout()
    return ax
