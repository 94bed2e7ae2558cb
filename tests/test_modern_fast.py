"""Chapter 13's fast engine (modern_fast.FastModernGPT) against ModernGPT, the Tensor graph it must equal.

In float64 a run on the fast engine is ModernGPT's run to rounding (its hand-written backward, the padding
left out, dropout's masks drawn the same way); in float32 it stays within float32's rounding; runs on it
resume exactly, and a checkpoint says which engine trained it.
"""
import dataclasses
import json
import random

import numpy as np
import pytest

from microgpt_lib import batch_train as bt
from microgpt_lib import modern
from microgpt_lib.data import load_docs, split_docs
from microgpt_lib.modern_fast import FastModernGPT
from microgpt_lib.tokenizer import Tokenizer

OPTIONS = {
    "recipe": dict(activation="relu2", dropout=0.2),
    "makemore's": dict(norm="layernorm", activation="gelu", dropout=0.1),
    "chapter 11's": {},
}


@pytest.fixture(scope="module")
def names():
    split = split_docs(load_docs()[:2000])
    return split, Tokenizer(sorted(set("".join(split.train + split.val + split.test))))


def config_of(tokenizer, **options):
    return modern.ModernConfig(vocab_size=tokenizer.vocab_size, n_embd=16, n_head=4, n_layer=2, block_size=16,
                               **options)


RUN = modern.ModernRunConfig(num_steps=15, batch_size=8, lr=0.01, warmup_steps=2, beta1=0.9, beta2=0.99,
                             weight_decay=0.1, eval_every=15)


def train(model, split, tokenizer, config=RUN):
    rng = random.Random(3)
    model = model(rng)
    run = bt.Run(model, modern.ModernAdam(model, config), rng, config)
    return bt.train_run(run, tokenizer, split.train, split.val[:40])


@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
def test_a_float64_run_is_modern_gpts_run(options, names):
    split, tokenizer = names
    config = config_of(tokenizer, **options)
    graph = train(lambda rng: modern.ModernGPT(config, rng), split, tokenizer)
    fast = train(lambda rng: FastModernGPT(config, rng, dtype=np.float64), split, tokenizer)
    assert np.allclose(fast.loss_history, graph.loss_history, rtol=0, atol=1e-12)
    assert np.allclose(fast.model.flat, graph.model.flat, rtol=0, atol=1e-12)
    assert fast.val_history == graph.val_history  # evaluation is ModernGPT's own forward, on equal weights


@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
def test_one_gradient_is_modern_gpts(options, names):
    """The gradient of one batch's loss (dropout on), weight by weight."""
    split, tokenizer = names
    config = config_of(tokenizer, **options)
    graph, fast = modern.ModernGPT(config, random.Random(5)), FastModernGPT(config, random.Random(5), dtype=np.float64)
    token_lists = [tokenizer.tokenize(doc) for doc in split.train[:12]]  # names of many lengths: padding
    graph_loss = bt.masked_loss(graph, token_lists, random.Random(9) if config.dropout else None)
    graph_loss.backward()
    fast_loss = fast.masked_loss(token_lists, random.Random(9) if config.dropout else None)
    fast_loss.backward()
    assert abs(float(fast_loss.data) - float(graph_loss.data)) < 1e-12
    expected = np.concatenate([p.grad.ravel() for p in graph.params])
    assert np.abs(expected).max() > 1e-3  # a gradient worth comparing
    assert np.allclose(fast.grad, expected, rtol=0, atol=1e-12)


def test_float32_is_the_same_run_to_float32s_rounding(names):
    split, tokenizer = names
    config = config_of(tokenizer, **OPTIONS["recipe"])
    graph = train(lambda rng: modern.ModernGPT(config, rng), split, tokenizer)
    fast = train(lambda rng: FastModernGPT(config, rng), split, tokenizer)
    assert fast.model.dtype == np.float32 and fast.model.flat.dtype == np.float64  # weights and Adam: float64
    difference = np.abs(np.subtract(fast.loss_history, graph.loss_history)).max()
    assert 0 < difference < 1e-5  # not float64's run, and not another run either


@pytest.mark.parametrize("option", [dict(position="rope"), dict(qk_norm=True), dict(activation="swiglu"),
                                    dict(tie_weights=True)])
def test_options_it_does_not_build_are_refused(option, names):
    _, tokenizer = names
    (key, value), = option.items()
    with pytest.raises(ValueError, match=rf"not {key}={value!r}: train this model on the numpy engine"):
        FastModernGPT(config_of(tokenizer, **option), random.Random(0))


def test_a_run_on_the_manual_engine_resumes_exactly(names, tmp_path):
    split, tokenizer = names
    config = config_of(tokenizer, **OPTIONS["recipe"])
    run_config = dataclasses.replace(RUN, num_steps=12, engine="manual")
    straight = modern.start_run(config, run_config)
    assert type(straight.model) is FastModernGPT
    bt.train_run(straight, tokenizer, split.train, split.val[:40])
    half = modern.start_run(config, run_config)
    bt.train_run(half, tokenizer, split.train, split.val[:40], should_stop=lambda: half.step >= 5)
    bt.save_run(tmp_path / "run.json", half, tokenizer, split.train)
    resumed = modern.resume_run(tmp_path / "run.json", config, run_config, tokenizer, split.train)
    assert type(resumed.model) is FastModernGPT and resumed.step == 5
    bt.train_run(resumed, tokenizer, split.train, split.val[:40])
    assert resumed.loss_history == straight.loss_history  # bit for bit
    assert np.array_equal(resumed.model.flat, straight.model.flat)
    # the other engine is another run (float64 steps): refused, with the difference named
    with pytest.raises(ValueError, match=r"engine='manual' \(this run: 'numpy'\)"):
        modern.resume_run(tmp_path / "run.json", config, dataclasses.replace(run_config, engine="numpy"),
                          tokenizer, split.train)


def test_a_checkpoint_older_than_the_engine_setting_resumes_on_numpy(names, tmp_path):
    """Checkpoints written before `engine` existed record no engine: they ran ModernGPT's graph."""
    split, tokenizer = names
    config = config_of(tokenizer, **OPTIONS["recipe"])
    run_config = dataclasses.replace(RUN, num_steps=12)
    run = modern.start_run(config, run_config)
    bt.train_run(run, tokenizer, split.train, split.val[:40], should_stop=lambda: run.step >= 4)
    path = tmp_path / "old.json"
    bt.save_run(path, run, tokenizer, split.train)
    payload = json.loads(path.read_text(encoding="utf-8"))
    del payload["run"]["engine"]
    path.write_text(json.dumps(payload), encoding="utf-8")
    resumed = modern.resume_run(path, config, run_config, tokenizer, split.train)
    assert type(resumed.model) is modern.ModernGPT and resumed.step == 4
    with pytest.raises(ValueError, match=r"engine='numpy' \(this run: 'manual'\)"):
        modern.resume_run(path, config, dataclasses.replace(run_config, engine="manual"), tokenizer, split.train)


def test_a_bad_engine_is_refused():
    with pytest.raises(ValueError, match="engine='fast' is not one of numpy, manual"):
        modern.ModernRunConfig(engine="fast")
