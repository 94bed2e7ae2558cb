"""The building blocks and the whole model: values, shapes, and gradients against finite differences."""
import math
import random

import pytest

from microgpt_lib.autograd import Value
from microgpt_lib.model import GPT, GPTConfig, attention, count_params
from microgpt_lib.nn import linear, nll, relu, rmsnorm, softmax
from microgpt_lib.tokenizer import Tokenizer
from microgpt_lib.train import document_loss


def values(xs):
    return [Value(x) for x in xs]


def test_linear():
    w = [values([1.0, 2.0]), values([-1.0, 0.5]), values([0.0, 3.0])]
    assert [y.data for y in linear(values([3.0, -1.0]), w)] == [1.0, -3.5, -3.0]


def test_softmax_sums_to_one_and_survives_large_logits():
    probs = softmax(values([1000.0, 1001.0, 999.0]))
    assert sum(p.data for p in probs) == pytest.approx(1.0)
    expected = [math.exp(-1) / (1 + math.exp(-1) + math.exp(-2)), 1 / (1 + math.exp(-1) + math.exp(-2))]
    assert [p.data for p in probs[:2]] == pytest.approx(expected)


def test_softmax_and_nll_gradient_is_probs_minus_onehot():
    logits = values([0.5, -1.0, 2.0, 0.1])
    probs = softmax(logits)
    loss = nll(probs, 2)
    loss.backward()
    for i, (z, p) in enumerate(zip(logits, probs)):
        assert z.grad == pytest.approx(p.data - (i == 2), abs=1e-12)


def test_rmsnorm_gives_unit_root_mean_square():
    x = rmsnorm(values([3.0, -4.0, 12.0, 0.5]))
    assert math.sqrt(sum(v.data**2 for v in x) / 4) == pytest.approx(1.0, rel=1e-5)


def test_relu():
    assert [v.data for v in relu(values([-1.0, 0.0, 2.0]))] == [0.0, 0.0, 2.0]


def test_default_parameter_count_is_4192():
    assert sum(count_params(GPTConfig()).values()) == 4192
    assert len(GPT(GPTConfig(), random.Random(0)).params) == 4192


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_embd=10, n_head=4), "n_embd=10 is not divisible by n_head=4"),
        (dict(block_size=0), "block_size must be a whole number of at least 1, got 0"),
        (dict(n_layer=-1), "n_layer must be a whole number of at least 1"),
        (dict(n_embd=2.5), "n_embd must be a whole number"),
        (dict(init_std=0), "init_std must be above 0"),
    ],
)
def test_bad_configs(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GPTConfig(**kwargs)


def test_model_rejects_positions_and_tokens_outside_its_range():
    model = GPT(GPTConfig(vocab_size=5, n_embd=4, n_head=2, block_size=3), random.Random(0))
    keys, values_ = model.empty_cache()
    with pytest.raises(ValueError, match="position 3 is outside the context of block_size=3"):
        model(0, 3, keys, values_)
    with pytest.raises(ValueError, match="token id 5 is outside the vocabulary"):
        model(5, 0, keys, values_)


def test_attention_is_causal():
    """Adding a later position to the cache leaves what earlier positions computed unchanged."""
    rng = random.Random(1)
    vec = lambda: values([rng.gauss(0, 1) for _ in range(4)])
    q, keys, vals = vec(), [vec(), vec()], [vec(), vec()]
    before = [v.data for v in attention(q, keys, vals, n_head=2)]
    weights = []
    attention(q, keys, vals, n_head=2, attn_log=weights)
    assert len(weights) == 2 and all(sum(w) == pytest.approx(1.0) for w in weights)
    assert [v.data for v in attention(q, keys[:1], vals[:1], n_head=2)] != before  # it does use the past
    assert [v.data for v in attention(q, keys, vals, n_head=2)] == before


def test_attention_maps_are_lower_triangular():
    model = GPT(GPTConfig(vocab_size=5, n_embd=4, n_head=2, n_layer=2, block_size=6), random.Random(0))
    maps = model.attention_maps([4, 0, 1, 2])
    assert len(maps) == 2 and len(maps[0]) == 2 and len(maps[0][0]) == 4
    for layer in maps:
        for head in layer:
            for qpos, row in enumerate(head):
                assert sum(row) == pytest.approx(1.0)
                assert all(w == 0.0 for w in row[qpos + 1 :])


def test_whole_model_gradients_match_finite_differences():
    tokenizer = Tokenizer(list("abc"))
    config = GPTConfig(vocab_size=tokenizer.vocab_size, n_embd=4, n_head=2, n_layer=2, block_size=4)
    model = GPT(config, random.Random(3))
    tokens = tokenizer.tokenize("abcab")  # longer than block_size: the loss is cut at 4 positions
    loss = document_loss(model, tokens)
    loss.backward()
    picked = random.Random(7).sample(model.params, 40)
    h = 1e-5
    for p in picked:
        original = p.data
        p.data = original + h
        up = document_loss(model, tokens).data
        p.data = original - h
        down = document_loss(model, tokens).data
        p.data = original
        assert p.grad == pytest.approx((up - down) / (2 * h), rel=1e-4, abs=1e-7)
    assert sum(abs(p.grad) > 0 for p in picked) > 20  # most sampled parameters do matter


def test_document_loss_needs_two_tokens():
    model = GPT(GPTConfig(vocab_size=3, n_embd=2, n_head=1, block_size=2), random.Random(0))
    with pytest.raises(ValueError, match="at least 2 tokens"):
        document_loss(model, [2])
