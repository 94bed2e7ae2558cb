import random

import matplotlib

matplotlib.use("Agg")

import pytest

from microgpt_lib.autograd import Value
from microgpt_lib.viz import MAX_GRAPH_NODES, draw_graph, find_renderer, plot_attention, plot_losses, smooth


def neuron():
    x1, x2, w1, w2, b = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(6.88)
    out = (x1 * w1 + x2 * w2 + b).relu()
    out.backward()
    return out, {x1: "x1", x2: "x2", w1: "w1", w2: "w2", b: "b"}


def test_two_drawings_of_the_same_graph_are_identical():
    first, second = draw_graph(*neuron()), draw_graph(*neuron())  # different objects, different ids
    assert first.source == second.source
    assert repr(first) == "computation graph: 10 values, 5 operations"
    assert "x1 | data 2.0000 | grad -3.0000" in first.source
    assert "0x" not in first.source


@pytest.mark.skipif(find_renderer() is None, reason="no Graphviz renderer installed")
def test_rendering_is_byte_for_byte_repeatable():
    first, second = draw_graph(*neuron()), draw_graph(*neuron())
    png = first.render("png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == second.render("png")
    bundle = first._repr_mimebundle_()
    assert bundle["text/plain"] == repr(first) and bundle["image/png"] == png


def test_without_a_renderer_the_drawing_says_how_to_get_one(monkeypatch):
    import microgpt_lib.viz as viz

    monkeypatch.setattr(viz, "find_renderer", lambda: None)
    bundle = draw_graph(*neuron())._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and "pip install graphviz-pure" in bundle["text/plain"]


def test_large_graphs_are_refused_with_a_reason():
    x = Value(1.0)
    out = x
    for _ in range(MAX_GRAPH_NODES):
        out = out + 1.0
    with pytest.raises(ValueError, match="draws at most"):
        draw_graph(out)


def test_smooth():
    assert smooth([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]


def test_plot_losses_draws_raw_smoothed_and_baseline():
    losses = [3.0 - 0.01 * i + random.Random(i).random() * 0.1 for i in range(50)]
    ax = plot_losses({"adam": losses, "sgd": losses[::-1]}, window=10, baseline=2.4547)
    assert len(ax.lines) == 5  # raw and smoothed per run, and the baseline
    assert "bigram baseline (2.4547)" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_plot_attention_has_a_panel_per_layer_and_head():
    square = [[1.0, 0.0], [0.5, 0.5]]
    fig = plot_attention([[square, square, square], [square, square, square]], ["a", "b"])
    assert len(fig.axes) == 6
