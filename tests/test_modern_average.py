"""Chapter 13's moving average of the weights (`ModernRunConfig.average`, `ModernAdam.averaged` / `finish`).

a = d a + (1 - d) w after every step; the evaluations measure a, the run ends with a in the weights'
place, and a run with an average resumes exactly (the average is part of the optimizer's state).
"""
import dataclasses
import random

import numpy as np
import pytest

from microgpt_lib import batch_train as bt
from microgpt_lib import modern
from microgpt_lib.data import load_docs, split_docs
from microgpt_lib.tokenizer import Tokenizer


@pytest.fixture(scope="module")
def names():
    split = split_docs(load_docs()[:2000])
    return split, Tokenizer(sorted(set("".join(split.train + split.val + split.test))))


def shape(tokenizer):
    return modern.ModernConfig(vocab_size=tokenizer.vocab_size, n_embd=16, n_head=4, n_layer=1, block_size=16,
                               activation="relu2", dropout=0.1)


RUN = modern.ModernRunConfig(num_steps=20, batch_size=8, lr=0.01, warmup_steps=2, beta1=0.9, beta2=0.99,
                             weight_decay=0.1, eval_every=5, average=0.8, engine="manual")


def test_the_average_is_what_is_measured_and_what_the_run_ends_on(names):
    split, tokenizer = names
    run = modern.start_run(shape(tokenizer), RUN)
    expected, measured = run.model.flat.copy(), []

    def follow(r, val_loss):  # after each step: the average by hand, and what the evaluation saw
        nonlocal expected
        if r.step < RUN.num_steps:
            expected = 0.8 * expected + 0.2 * r.model.flat
            if val_loss is not None:
                with r.optimizer.averaged():
                    assert np.allclose(r.model.flat, expected, rtol=0, atol=1e-12)
                    measured.append(bt.evaluate(r.model, tokenizer, split.val[:40]))

    bt.train_run(run, tokenizer, split.train, split.val[:40], callback=follow)
    assert [v for _, v in run.val_history[:-1]] == measured  # the evaluations measured the average
    # the end: the average in the weights' place (the last step's raw weights folded in first)
    assert np.array_equal(run.model.flat, run.optimizer.average)
    last = run.optimizer.last_weights
    assert last is not None and np.allclose(0.8 * expected + 0.2 * last, run.model.flat, rtol=0, atol=1e-12)
    raw = modern.start_run(shape(tokenizer), dataclasses.replace(RUN, average=0.0))
    bt.train_run(raw, tokenizer, split.train, split.val[:40])
    assert raw.loss_history == run.loss_history  # the average changes no step
    assert not np.allclose(raw.model.flat, run.model.flat)
    assert raw.val_history[-1][1] != run.val_history[-1][1]


@pytest.mark.parametrize("engine", modern.ENGINES)
def test_a_run_with_an_average_resumes_exactly(engine, names, tmp_path):
    split, tokenizer = names
    config = dataclasses.replace(RUN, engine=engine)
    straight = modern.start_run(shape(tokenizer), config)
    bt.train_run(straight, tokenizer, split.train, split.val[:40])
    half = modern.start_run(shape(tokenizer), config)
    bt.train_run(half, tokenizer, split.train, split.val[:40], should_stop=lambda: half.step >= 7)
    bt.save_run(tmp_path / "run.json", half, tokenizer, split.train)
    resumed = modern.resume_run(tmp_path / "run.json", shape(tokenizer), config, tokenizer, split.train)
    assert np.array_equal(resumed.optimizer.average, half.optimizer.average)
    bt.train_run(resumed, tokenizer, split.train, split.val[:40])
    assert resumed.loss_history == straight.loss_history
    assert resumed.val_history == straight.val_history
    assert np.array_equal(resumed.model.flat, straight.model.flat)


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5])
def test_a_bad_average_is_refused(bad):
    with pytest.raises(ValueError, match=rf"average must be at least 0 \(no average\) and below 1, got {bad}"):
        modern.ModernRunConfig(average=bad)
