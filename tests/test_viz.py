import random

import matplotlib

matplotlib.use("Agg")

import pytest

from microgpt_lib.autograd import Value
from microgpt_lib.viz import (MAX_GRAPH_NODES, draw_graph, find_renderer, loss_band, plot_attention, plot_embeddings, plot_head,
                             plot_kv_cache, plot_losses, principal_components, smooth)


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
    assert len(fig.axes) == 7  # six panels and one colour bar


def test_the_loss_band_follows_the_smoothed_line_and_the_baseline_not_the_spikes():
    spiky = [2.5 + (1.5 if i % 7 == 0 else 0.0) - 0.001 * i for i in range(200)]
    low, high = loss_band([smooth(spiky, 50)], 50, baseline=2.2)
    assert low == pytest.approx(2.1) and high < 3.0  # the spikes reach 4.0
    ax = plot_losses(spiky, window=50, baseline=2.2)
    assert ax.get_ylim() == pytest.approx((low, high))
    assert plot_losses(spiky, window=50, ylim=None).get_ylim()[1] > 3.9  # everything, on request


def test_the_legend_sits_beside_the_plot():
    ax = plot_losses([3.0, 2.0, 1.0])
    assert ax.get_legend()._bbox_to_anchor is not None  # anchored outside, not placed on the curves
    assert ax.get_legend()._loc == 2  # upper left, of the anchor beside the axes


def test_plot_attention_wraps_long_names_into_rows_of_two():
    square = [[1.0 if u == 0 else 0.0 for u in range(10)] for _ in range(10)]
    fig = plot_attention([[square] * 4], list("abcdefghij"))
    assert len(fig.axes) == 5 and fig.axes[2].get_subplotspec().rowspan.start == 1  # 2 x 2 panels and a colour bar


def test_plot_attention_annotates_the_past_and_leaves_the_future_blank():
    fig = plot_attention([[[[1.0, 0.0], [0.25, 0.75]]]], ["a", "b"])
    panel = fig.axes[0]
    assert sorted(t.get_text() for t in panel.texts) == ["0.25", "0.75", "1.00"]  # no number above the diagonal
    assert len(fig.axes) == 2  # the panel and its colour bar
    assert [t.get_text() for t in panel.get_xticklabels()] == ["a", "b"]


def test_plot_head_shows_scores_weights_values_and_their_sum():
    fig = plot_head([0.5, -0.5], [0.73, 0.27], [[1.0, 0.0], [0.0, 1.0]], [0.73, 0.27], ["x", "y"], "position 1")
    texts = [t.get_text() for t in fig.axes[2].texts]
    assert texts.count("0.73") == 1 and texts.count("0.27") == 1  # the output row
    assert [t.get_text() for t in fig.axes[2].get_yticklabels()][-1] == "output = sum"


def test_plot_kv_cache_draws_one_entry_more_per_position():
    fig = plot_kv_cache([[1.0], [0.4, 0.6], [0.2, 0.3, 0.5]], ["a", "b", "c"])
    ax = fig.axes[0]
    assert len(ax.patches) == 9  # 1 + 2 + 3 cached entries, and 2 + 1 + 0 not computed yet
    assert len(ax.texts) == 6


def test_principal_components_of_points_on_a_line():
    rows = [[t, 2 * t, 5.0] for t in (-2.0, -1.0, 0.0, 1.0, 2.0)]  # all the variance along (1, 2, 0)
    points, explained = principal_components(rows)
    assert explained[0] == pytest.approx(1.0) and explained[1] == pytest.approx(0.0, abs=1e-12)
    assert [round(p[0], 6) for p in points] == [round(t * 5**0.5, 6) for t in (-2.0, -1.0, 0.0, 1.0, 2.0)]  # sign fixed
    reordered, _ = principal_components([list(reversed(r)) for r in rows])  # the columns in another order: the same map
    assert [x for p in reordered for x in p] == pytest.approx([x for p in points for x in p], abs=1e-12)


def test_plot_embeddings_labels_every_token():
    ax = plot_embeddings([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], ["a", "b", "BOS"], {"a": "vowel", "b": "consonant"})
    assert sorted(t.get_text() for t in ax.texts) == ["BOS", "a", "b"]
    assert len(ax.collections) == 3  # one scatter per group: vowel, consonant, ungrouped
