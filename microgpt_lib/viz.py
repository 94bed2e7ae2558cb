"""Pictures: computation graphs, loss curves, attention maps.

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


def plot_losses(loss_histories, window=None, baseline=None, baseline_label="bigram baseline", ax=None, title="training loss"):
    """Loss against step, one line per run; `window` adds a smoothed line, `baseline` a dashed one.

    `loss_histories` is a list of losses, or a dict of them by run name.
    """
    import matplotlib.pyplot as plt

    if not isinstance(loss_histories, dict):
        loss_histories = {"loss": loss_histories}
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    for i, (name, losses) in enumerate(loss_histories.items()):
        color = f"C{i}"
        steps = range(1, len(losses) + 1)
        if window:
            ax.plot(steps, losses, color=color, alpha=0.25, linewidth=0.8, label=f"{name} (raw)")
            ax.plot(steps, smooth(losses, window), color=color, linewidth=2, label=f"{name} (mean of {window})")
        else:
            ax.plot(steps, losses, color=color, label=name)
    if baseline is not None:
        ax.axhline(baseline, color="black", linestyle="--", linewidth=1, label=f"{baseline_label} ({baseline:.4f})")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats per character)")
    ax.set_title(title)
    ax.legend()
    return ax


def plot_attention(attn_maps, token_labels, title="attention weights"):
    """Heatmaps of attention weights, one per layer and head: rows are queries, columns keys.

    `attn_maps[layer][head]` is a square list of lists, as `GPT.attention_maps` returns.
    """
    import matplotlib.pyplot as plt

    n_layer, n_head = len(attn_maps), len(attn_maps[0])
    fig, axes = plt.subplots(n_layer, n_head, figsize=(3.2 * n_head, 3.2 * n_layer), squeeze=False)
    for li in range(n_layer):
        for h in range(n_head):
            ax = axes[li][h]
            ax.imshow(attn_maps[li][h], cmap="Blues", vmin=0, vmax=1)
            ax.set_xticks(range(len(token_labels)), token_labels)
            ax.set_yticks(range(len(token_labels)), token_labels)
            ax.set_title(f"layer {li}, head {h}", fontsize=10)
            ax.set_xlabel("attends to (key)", fontsize=8)
            if h == 0:
                ax.set_ylabel("position (query)", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
