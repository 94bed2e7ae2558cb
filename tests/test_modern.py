"""Chapter 13's modern GPT: each new operation against finite differences, the options against chapter 11."""
import copy
import dataclasses
import math
import random

import numpy as np
import pytest

from microgpt_lib import batch_train as bt
from microgpt_lib import modern
from microgpt_lib.model import GPTConfig
from microgpt_lib.modern_ops import dropout, gelu, layernorm, relu_squared, rope, silu
from microgpt_lib.numpy_model import NumpyGPT
from microgpt_lib.tensor import Tensor
from microgpt_lib.tokenizer import Tokenizer

TOKENIZER = Tokenizer("abcdefghijklmnopqrstuvwxyz")
NAMES = ["al", "emma", "christopher", "bo", "zoe", "ava", "liam", "noah", "mia", "eli", "ivy", "max"]
SMALL = dict(vocab_size=TOKENIZER.vocab_size, n_embd=8, n_head=2, n_layer=2, block_size=12)


def numeric_grad(f, x, eps=1e-6):
    """d f / d x by central differences, one element at a time (f returns a number)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f()
        x[i] = old - eps
        down = f()
        x[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


def check_op(op, x_data, seed=0):
    """The op's backward against finite differences of sum(op(x) * w), w a fixed random weighting."""
    x = Tensor(x_data.copy())
    w = np.random.default_rng(seed).normal(size=op(x).shape)
    loss = (op(x) * w).sum()
    loss.backward()
    numeric = numeric_grad(lambda: float((op(Tensor(x.data)).data * w).sum()), x.data)
    np.testing.assert_allclose(x.grad, numeric, rtol=1e-6, atol=1e-8)


X = np.random.default_rng(1).normal(size=(2, 3, 8))  # no element at 0, where ReLU's derivative jumps


@pytest.mark.parametrize("op", [relu_squared, gelu, silu, layernorm], ids=lambda op: op.__name__)
def test_activation_and_norm_gradients_match_finite_differences(op):
    check_op(op, X)


def test_rope_gradient_matches_finite_differences_and_it_is_a_rotation():
    check_op(lambda x: rope(x, n_head=2), X)
    y = rope(Tensor(X), n_head=2).data
    # each head's length is kept at every position, and position 0 is not turned at all
    norms = lambda a: np.linalg.norm(a.reshape(2, 3, 2, 4), axis=-1)  # noqa: E731
    np.testing.assert_allclose(norms(y), norms(X), rtol=1e-12)
    np.testing.assert_array_equal(y[:, 0], X[:, 0])


def test_rope_scores_depend_on_the_distance_only():
    rng = np.random.default_rng(2)
    q, k = rng.normal(size=4), rng.normal(size=4)
    def score(t, s):  # a query at position t meets a key at position s (one head, T = 8)
        qs, ks = np.zeros((1, 8, 4)), np.zeros((1, 8, 4))
        qs[0, t], ks[0, s] = q, k
        return rope(Tensor(qs), 1).data[0, t] @ rope(Tensor(ks), 1).data[0, s]
    assert abs(score(5, 2) - score(4, 1)) < 1e-12 and abs(score(5, 2) - score(3, 0)) < 1e-12
    assert abs(score(5, 2) - score(5, 3)) > 1e-3
    with pytest.raises(ValueError, match="head_dim=3 must be even"):
        rope(Tensor(np.zeros((1, 2, 6))), n_head=2)


def test_dropout_keeps_its_mask_for_the_gradient_and_keeps_the_mean():
    generator = np.random.default_rng(3)
    check_op(lambda x: dropout(x, 0.25, copy.deepcopy(generator)), X)  # the same mask on every call
    big = dropout(Tensor(np.ones(200_000)), 0.25, np.random.default_rng(4)).data
    assert abs((big == 0).mean() - 0.25) < 0.01 and abs(big.mean() - 1) < 0.01
    x = Tensor(X)
    assert dropout(x, 0.0, None) is x
    with pytest.raises(ValueError, match="dropout p must be in"):
        dropout(x, 1.0, generator)


def test_defaults_are_chapter_11s_model():
    ids = np.array([[0, 5, 9, 2, 0, 0], [0, 1, 2, 3, 4, 5]])
    numpy_model = NumpyGPT(GPTConfig(**SMALL), random.Random(7))
    model = modern.ModernGPT(modern.ModernConfig(**SMALL), random.Random(7))
    assert list(model.state_dict) == list(numpy_model.state_dict)
    np.testing.assert_array_equal(model.flat, numpy_model.flat)
    np.testing.assert_array_equal(model(ids).data, numpy_model(ids).data)


ALL_OPTIONS = [dict(norm="layernorm"), dict(activation="relu2"), dict(activation="gelu"), dict(activation="swiglu"),
               dict(position="rope"), dict(qk_norm=True), dict(tie_weights=True),
               dict(position="rope", qk_norm=True, activation="relu2", tie_weights=True)]


@pytest.mark.parametrize("options", ALL_OPTIONS, ids=lambda o: "+".join(f"{k}={v}" for k, v in o.items()))
def test_every_option_gradient_matches_finite_differences(options):
    config = modern.ModernConfig(**{**SMALL, "n_layer": 1}, **options)
    model = modern.ModernGPT(config, random.Random(0))
    token_lists = [TOKENIZER.tokenize(n) for n in ["emma", "bo"]]
    bt.masked_loss(model, token_lists).backward()
    analytic = np.concatenate([p.grad.ravel() for p in model.params])
    picks = np.random.default_rng(0).choice(model.flat.size, 40, replace=False)  # 40 of the weights, any matrix
    flat = model.flat
    def loss():
        return float(bt.masked_loss(model, token_lists).data)
    for i in picks:
        old = flat[i]
        flat[i] = old + 1e-6
        up = loss()
        flat[i] = old - 1e-6
        down = loss()
        flat[i] = old
        assert abs((up - down) / 2e-6 - analytic[i]) < 1e-6 + 1e-5 * abs(analytic[i])


def test_swiglu_and_tying_change_the_parameters_as_said():
    base = modern.ModernConfig(n_embd=48, n_head=4, n_layer=2)
    count = lambda c: modern.ModernGPT(c, flat=np.zeros(sum(r * k for r, k in modern.modern_param_shapes(c).values()))).flat.size  # noqa: E731
    swiglu = dataclasses.replace(base, activation="swiglu")
    assert swiglu.mlp_hidden == 128 and count(swiglu) == count(base)  # 3 * 48 * 128 = 2 * 48 * 192
    tied = dataclasses.replace(base, tie_weights=True, position="rope")
    assert count(base) - count(tied) == 2 * 27 * 48 - 27 * 48 + 16 * 48  # no lm_head, no wpe
    with pytest.raises(ValueError, match="activation='tanh' is not one of relu, relu2, gelu, swiglu"):
        modern.ModernConfig(activation="tanh")


def test_schedules():
    lrs = {s: [modern.lr_at(s, step, 10, 1.0, warmup_steps=2) for step in range(10)] for s in modern.SCHEDULES}
    assert lrs["linear"][:3] == [0.5, 1.0, 1.0] and abs(lrs["linear"][9] - 0.125) < 1e-12
    assert abs(lrs["cosine"][6] - 0.5) < 1e-12  # half-way through the decay, half the rate
    assert lrs["wsd"][:8] == [0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] and lrs["wsd"][8:] == [1.0, 0.5]
    assert lrs["constant"][2:] == [1.0] * 8
    # linear is chapter 11's Adam, bit for bit
    model = NumpyGPT(GPTConfig(**SMALL), random.Random(0))
    from microgpt_lib.batch_train import AdamW
    adam = AdamW(model, 10, lr=1.0, warmup_steps=2)
    assert lrs["linear"] == [adam.lr_at(s) for s in range(10)]
    with pytest.raises(ValueError, match="schedule='step' is not one of"):
        modern.lr_at("step", 0, 10, 1.0)


def test_clip_by_global_norm():
    grads = [np.array([3.0, 0.0]), np.array([[4.0]])]  # one vector of norm 5
    clipped, norm = modern.clip_by_global_norm(grads, 1.0)
    assert norm == 5.0 and np.allclose(clipped[0], [0.6, 0.0]) and np.allclose(clipped[1], [[0.8]])
    kept, _ = modern.clip_by_global_norm(grads, 10.0)
    assert all(np.array_equal(a, b) for a, b in zip(kept, grads))


def run_config(**changes):
    return modern.ModernRunConfig(**{**dict(num_steps=8, batch_size=3, lr=0.02, warmup_steps=2, eval_every=4), **changes})


def test_defaults_train_as_chapter_11():
    config = bt.RunConfig(num_steps=8, batch_size=3, lr=0.02, warmup_steps=2, eval_every=4, weight_decay=0.1)
    old = bt.train_run(bt.start_run(GPTConfig(**SMALL), config), TOKENIZER, NAMES[:9], NAMES[9:])
    new = bt.train_run(modern.start_run(modern.ModernConfig(**SMALL), run_config(weight_decay=0.1)), TOKENIZER,
                       NAMES[:9], NAMES[9:])
    np.testing.assert_allclose(new.model.flat, old.model.flat, rtol=0, atol=1e-15)
    assert new.val_history == old.val_history or np.allclose(new.val_history, old.val_history, rtol=0, atol=1e-14)


def test_decay_of_matrices_only_leaves_the_embeddings():
    model = modern.ModernGPT(modern.ModernConfig(**SMALL), random.Random(0))
    adam = modern.ModernAdam(model, run_config(weight_decay=0.5, decay="matrices"))
    before = {name: p.data.copy() for name, p in model.state_dict.items()}
    adam.step(1)  # no gradients at all: only the decay moves anything
    assert np.array_equal(model.state_dict["wte"].data, before["wte"])
    assert np.array_equal(model.state_dict["wpe"].data, before["wpe"])
    np.testing.assert_allclose(model.state_dict["lm_head"].data, before["lm_head"] * (1 - 0.02 * 0.5), rtol=1e-15)


def test_clipping_inside_adam_bounds_the_gradient():
    model = modern.ModernGPT(modern.ModernConfig(**SMALL), random.Random(0))
    adam = modern.ModernAdam(model, run_config(clip_norm=1e-3))
    bt.masked_loss(model, [TOKENIZER.tokenize("emma")]).backward()
    adam.step(0)
    assert abs(math.sqrt((adam.m**2).sum()) / (1 - adam.beta1) - 1e-3) < 1e-12  # m = (1 - beta1) * the clipped g


def test_dropout_runs_are_exact_and_a_split_run_continues_the_same():
    model_config = modern.ModernConfig(**SMALL, dropout=0.2)
    whole = bt.train_run(modern.start_run(model_config, run_config()), TOKENIZER, NAMES[:9], NAMES[9:])
    again = bt.train_run(modern.start_run(model_config, run_config()), TOKENIZER, NAMES[:9], NAMES[9:])
    assert np.array_equal(whole.model.flat, again.model.flat)
    stopped = modern.start_run(model_config, run_config())
    bt.train_run(stopped, TOKENIZER, NAMES[:9], NAMES[9:], should_stop=lambda: stopped.step == 3)
    # everything the next step depends on, copied: weights, Adam's moments, the generator
    model = modern.ModernGPT(model_config, flat=stopped.model.flat.copy())
    optimizer = modern.ModernAdam(model, run_config())
    optimizer.load_state_dict(stopped.optimizer.state_dict())
    resumed = bt.Run(model, optimizer, copy.deepcopy(stopped.rng), stopped.config, stopped.step)
    bt.train_run(resumed, TOKENIZER, NAMES[:9], NAMES[9:])
    assert np.array_equal(resumed.model.flat, whole.model.flat)
    plain = bt.train_run(modern.start_run(modern.ModernConfig(**SMALL), run_config()), TOKENIZER, NAMES[:9], NAMES[9:])
    assert not np.allclose(plain.model.flat, whole.model.flat)  # dropout changed the training
    # evaluation (no generator) sees no dropout: the same logits twice
    ids = np.array([[0, 1, 2]])
    assert np.array_equal(whole.model(ids).data, whole.model(ids).data)


def test_presets_split_into_the_two_configs():
    model_settings, run_settings = modern.split_settings(modern.MAKEMORE)
    assert modern.ModernConfig(vocab_size=27, **model_settings).activation == "gelu"
    assert modern.ModernRunConfig(**run_settings).schedule == "constant"
    for name, preset in modern.PRESETS.items():  # every preset builds, and its warm-up fits its steps
        model_settings, run_settings = modern.split_settings(preset)
        model = modern.ModernGPT(modern.ModernConfig(vocab_size=27, **model_settings), random.Random(0))
        modern.ModernAdam(model, modern.ModernRunConfig(**run_settings))
    changed = {k: v for k, v in modern.MODERN.items() if modern.BIG.get(k) != v}
    # big's model and settings but for the recipe's changes and the run's length (and when it looks)
    assert {k: changed.pop(k) for k in modern.MODERN_CHANGES} == modern.MODERN_CHANGES
    assert set(changed) <= {"num_steps", "warmup_steps", "eval_every", "save_every"}
    assert modern.MODERN["num_steps"] > modern.BIG["num_steps"]  # the 5-minute budget: longer than big's run
    with pytest.raises(ValueError, match="unknown settings"):
        modern.split_settings({"n_embed": 64})


def test_a_saved_dropout_run_resumes_exactly(tmp_path):
    model_config = modern.ModernConfig(**SMALL, dropout=0.2, position="rope", activation="relu2")
    config = run_config(schedule="cosine", clip_norm=0.5, weight_decay=0.1, decay="matrices")
    whole = bt.train_run(modern.start_run(model_config, config), TOKENIZER, NAMES[:9], NAMES[9:])
    stopped = modern.start_run(model_config, config)
    bt.train_run(stopped, TOKENIZER, NAMES[:9], NAMES[9:], should_stop=lambda: stopped.step == 5)
    path = tmp_path / "run.json"
    bt.save_run(path, stopped, TOKENIZER, NAMES[:9])
    resumed = bt.train_run(modern.resume_run(path, model_config, config, TOKENIZER, NAMES[:9]), TOKENIZER,
                           NAMES[:9], NAMES[9:])
    assert resumed.step == 8 and np.array_equal(resumed.model.flat, whole.model.flat)
    assert resumed.val_history == whole.val_history
    with pytest.raises(ValueError, match=r"it was trained with dropout=0.2 \(this run: 0.1\)"):
        modern.resume_run(path, dataclasses.replace(model_config, dropout=0.1), config, TOKENIZER, NAMES[:9])
