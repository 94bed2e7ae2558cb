"""Batched training (chapter 11): the masked loss, the schedule, checkpoints that resume exactly."""
import dataclasses
import json
import math
import random

import numpy as np
import pytest

from microgpt_lib import batch_train as bt
from microgpt_lib.checkpoint import load_checkpoint
from microgpt_lib.model import GPTConfig
from microgpt_lib.batch_train import AdamW
from microgpt_lib.numpy_model import Adam, NumpyGPT
from microgpt_lib.tokenizer import Tokenizer

TOKENIZER = Tokenizer("abcdefghijklmnopqrstuvwxyz")
NAMES = ["al", "emma", "christopher", "bo", "zoe", "ava", "liam", "noah", "mia", "eli", "ivy", "max"]
TRAIN, VAL = NAMES[:9], NAMES[9:]
SMALL = GPTConfig(TOKENIZER.vocab_size, n_embd=8, n_head=2, n_layer=2, block_size=12)


def row_nll(model, tokens):
    """-log p of each next token of one unpadded name, straight from the logits."""
    logits = model(np.asarray([tokens[:-1]])).data[0]
    log_probs = logits - logits.max(-1, keepdims=True)
    log_probs -= np.log(np.exp(log_probs).sum(-1, keepdims=True))
    return -log_probs[np.arange(len(tokens) - 1), tokens[1:]]


def test_masked_loss_is_the_mean_over_every_real_prediction():
    model = NumpyGPT(SMALL, random.Random(0))
    token_lists = [TOKENIZER.tokenize(n) for n in ["al", "christopher", "bo"]]  # 3, 12 and 3 predictions
    per_token = np.concatenate([row_nll(model, tokens) for tokens in token_lists])
    assert per_token.size == 18
    assert abs(float(bt.masked_loss(model, token_lists).data) - per_token.mean()) < 1e-12


def test_padding_gets_no_gradient_and_changes_nothing():
    # the short name alone, and padded beside a long one: its share of the gradient is the same
    model = NumpyGPT(SMALL, random.Random(0))
    short, long = TOKENIZER.tokenize("al"), TOKENIZER.tokenize("christopher")
    grads = []
    for batch, weight in (([short], 3 / 15), ([long], 12 / 15)):
        loss = bt.masked_loss(model, batch)
        loss.backward()
        grads.append(weight * np.concatenate([p.grad.ravel() for p in model.params]))
        for p in model.params:
            p.grad = None
    both = bt.masked_loss(model, [short, long])
    both.backward()
    np.testing.assert_allclose(np.concatenate([p.grad.ravel() for p in model.params]), grads[0] + grads[1], rtol=0, atol=1e-12)


def test_warmup_then_linear_decay_and_microgpts_schedule_unchanged():
    model = NumpyGPT(SMALL, random.Random(0))
    plain = Adam(model, 10, lr=0.01)
    assert [plain.lr_at(s) for s in range(10)] == [0.01 * (1 - s / 10) for s in range(10)]
    assert [AdamW(model, 10, lr=0.01).lr_at(s) for s in range(10)] == [plain.lr_at(s) for s in range(10)]
    warm = AdamW(model, 10, lr=0.01, warmup_steps=4)
    assert [round(warm.lr_at(s), 12) for s in range(10)] == [0.0025, 0.005, 0.0075, 0.01, 0.01, 0.008333333333,
                                                              0.006666666667, 0.005, 0.003333333333, 0.001666666667]
    with pytest.raises(ValueError, match="warmup_steps must be a whole number from 0 to num_steps - 1 = 9, got 10"):
        AdamW(model, 10, warmup_steps=10)


def test_adamw_without_warmup_or_decay_is_microgpts_adam_bit_for_bit():
    models = [NumpyGPT(SMALL, random.Random(0)) for _ in range(2)]
    optimizers = [Adam(models[0], 6, lr=0.02), AdamW(models[1], 6, lr=0.02)]
    for step in range(6):
        for model, optimizer in zip(models, optimizers):
            bt.masked_loss(model, [TOKENIZER.tokenize(n) for n in ("emma", "olivia")]).backward()
            optimizer.step(step)
    assert np.array_equal(models[0].flat, models[1].flat) and not np.array_equal(models[0].flat, NumpyGPT(SMALL, random.Random(0)).flat)


def test_adam_state_round_trips_and_is_checked():
    model = NumpyGPT(SMALL, random.Random(0))
    adam = AdamW(model, 5)
    bt.masked_loss(model, [TOKENIZER.tokenize("emma")]).backward()
    adam.step(0)
    other = AdamW(model, 5)
    other.load_state_dict(json.loads(json.dumps({k: v.tolist() for k, v in adam.state_dict().items()})))
    assert np.array_equal(other.m, adam.m) and np.array_equal(other.v, adam.v) and other.m.any()
    with pytest.raises(ValueError, match="Adam's m holds 3 numbers; the model has"):
        other.load_state_dict({"m": [0.0] * 3, "v": adam.v})


def config(**changes):
    return dataclasses.replace(bt.RunConfig(num_steps=12, batch_size=3, lr=0.02, warmup_steps=2, eval_every=4), **changes)


def run_state(run):
    return (run.model.flat.tobytes(), run.optimizer.m.tobytes(), run.optimizer.v.tobytes(), run.rng.getstate(),
            run.step, run.loss_history, run.val_history, run.pending)


@pytest.mark.parametrize("pool_batches", [1, 3])
def test_a_run_stopped_saved_and_resumed_ends_exactly_as_one_never_stopped(tmp_path, pool_batches):
    whole = bt.train_run(bt.start_run(SMALL, config(pool_batches=pool_batches)), TOKENIZER, TRAIN, VAL)
    assert whole.step == 12 and [s for s, _ in whole.val_history] == [4, 8, 12]
    path = tmp_path / "run.json"
    first = bt.start_run(SMALL, config(pool_batches=pool_batches))
    bt.train_run(first, TOKENIZER, TRAIN, VAL, should_stop=lambda: first.step == 5)  # between evaluations, mid-pool
    assert first.step == 5 and len(first.pending) == (1 if pool_batches == 3 else 0)
    bt.save_run(path, first, TOKENIZER, TRAIN)
    resumed = bt.resume_run(path, SMALL, config(pool_batches=pool_batches), TOKENIZER, TRAIN)
    assert run_state(resumed) == run_state(first)  # everything the next step needs came back
    bt.train_run(resumed, TOKENIZER, TRAIN, VAL)
    assert run_state(resumed) == run_state(whole)


def test_periodic_and_best_checkpoints(tmp_path):
    path = tmp_path / "run.json"
    run = bt.train_run(bt.start_run(SMALL, config(save_every=5)), TOKENIZER, TRAIN, VAL, save_path=path)
    saved = load_checkpoint(path, engine="numpy")
    assert saved.step == 12 and np.array_equal(saved.model.flat, run.model.flat)
    best = load_checkpoint(bt.best_path(path), engine="numpy")
    assert bt.best_path(path).name == "run.best.json" and "optimizer" not in best.extra
    best_step, best_val = min(run.val_history, key=lambda pair: pair[1])
    assert best.step == best_step and abs(min(v for _, v in best.extra["val_history"]) - best_val) < 1e-15


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(config=config(batch_size=4)), "it was trained with batch_size=3 (this run: 4)"),
        (dict(config=config(lr=0.05)), "lr=0.02 (this run: 0.05)"),
        (dict(gpt=dataclasses.replace(SMALL, n_embd=12, n_head=2)), "n_embd=8 (this run: 12)"),
        (dict(docs=TRAIN[::-1]), "other training data"),
        (dict(tokenizer=Tokenizer("-abcdefghijklmnopqrstuvwxyz")), "another tokenizer"),
        (dict(weights_only=True), "it holds weights only"),
    ],
    ids=["batch-size", "lr", "n_embd", "data", "tokenizer", "weights-only"],
)
def test_a_mismatched_resume_says_what_differs(tmp_path, changes, message):
    path = tmp_path / "run.json"
    run = bt.start_run(SMALL, config())
    bt.train_run(run, TOKENIZER, TRAIN, VAL, should_stop=lambda: run.step == 3)
    bt.save_run(path, run, TOKENIZER, TRAIN, resumable=not changes.get("weights_only"))
    with pytest.raises(ValueError, match=r"^cannot resume from .*" + message.replace("(", r"\(").replace(")", r"\)")):
        bt.resume_run(path, changes.get("gpt", SMALL), changes.get("config", config()), changes.get("tokenizer", TOKENIZER),
                      changes.get("docs", TRAIN))
    # eval_every and save_every only decide when to look: resuming with others is fine
    if not changes.get("weights_only"):
        bt.resume_run(path, SMALL, config(eval_every=2, save_every=3), TOKENIZER, TRAIN)


def test_compact_checkpoints_round_weights_and_keep_the_loss(tmp_path):
    run = bt.train_run(bt.start_run(SMALL, config()), TOKENIZER, TRAIN, VAL)
    sizes, losses = {}, {}
    for dtype in ("float64", "float32", "float16"):
        path = tmp_path / f"{dtype}.json"
        bt.save_run(path, run, TOKENIZER, TRAIN, dtype=dtype, resumable=False)
        loaded = load_checkpoint(path, engine="numpy")
        sizes[dtype] = path.stat().st_size
        losses[dtype] = bt.evaluate(loaded.model, loaded.tokenizer, VAL)
        error = np.abs(loaded.model.flat - run.model.flat).max()
        assert error == 0 if dtype == "float64" else 0 < error < {"float32": 1e-7, "float16": 1e-3}[dtype]
    assert sizes["float16"] < sizes["float32"] < sizes["float64"]
    assert losses["float64"] == run.val_history[-1][1]
    assert abs(losses["float16"] - losses["float64"]) < 1e-3


def test_scalar_model_from_a_version_2_checkpoint_gives_the_same_logits(tmp_path):
    run = bt.train_run(bt.start_run(SMALL, config()), TOKENIZER, TRAIN, VAL)
    bt.save_run(tmp_path / "run.json", run, TOKENIZER, TRAIN)
    scalar = load_checkpoint(tmp_path / "run.json").model
    assert [p.data for p in scalar.params] == run.model.flat.tolist()


def test_pooled_batches_are_sorted_by_length_and_use_each_drawn_name_once():
    docs = [letter * n for n, letter in zip(range(1, 13), "abcdefghijkl")] * 2  # 24 names of 12 lengths
    run = bt.start_run(SMALL, config(batch_size=4, pool_batches=3))
    batches = [[docs[i] for i in bt.next_batch(run, docs)] for _ in range(6)]
    for pool in (batches[:3], batches[3:]):
        drawn = sorted(len(d) for batch in pool for d in batch)
        spans = sorted((min(map(len, b)), max(map(len, b))) for b in pool)
        assert all(hi <= lo2 for (_, hi), (lo2, _) in zip(spans, spans[1:]))  # the batches do not overlap in length
        assert len(drawn) == 12 and sorted(len(d) for d in sum(pool, [])) == drawn


def test_bad_settings_and_too_few_documents():
    with pytest.raises(ValueError, match="batch_size must be a whole number of at least 1, got 0"):
        bt.RunConfig(batch_size=0)
    with pytest.raises(ValueError, match="save_every must be a whole number, 0 or more, got -1"):
        bt.RunConfig(save_every=-1)
    with pytest.raises(ValueError, match="batch_size=20 is more than the 9 training documents"):
        bt.train_run(bt.start_run(SMALL, config(batch_size=20)), TOKENIZER, TRAIN, VAL)


def test_a_loss_that_is_not_finite_stops_the_run_with_its_step():
    run = bt.start_run(SMALL, config())
    bt.train_run(run, TOKENIZER, TRAIN, VAL, should_stop=lambda: run.step == 2)
    run.model.flat[5] = math.nan  # as if the weights had blown up
    with pytest.raises(FloatingPointError, match="the loss became nan at step 3; training stopped: lower the learning rate"):
        bt.train_run(run, TOKENIZER, TRAIN, VAL)
    assert run.step == 2 and len(run.loss_history) == 2


def test_weight_decay_shrinks_every_weight_and_zero_changes_nothing():
    model = NumpyGPT(SMALL, random.Random(0))
    before = model.flat.copy()
    AdamW(model, 10, lr=0.01, weight_decay=0.5).step(0)  # no gradients: only the decay acts
    np.testing.assert_array_equal(model.flat, before * (1 - 0.01 * 0.5))
    plain, decayed = (bt.train_run(bt.start_run(SMALL, config(weight_decay=wd)), TOKENIZER, TRAIN, VAL) for wd in (0.0, 0.5))
    assert np.linalg.norm(decayed.model.flat) < np.linalg.norm(plain.model.flat)
    with pytest.raises(ValueError, match="weight_decay must be 0 or more, got -1"):
        AdamW(model, 10, weight_decay=-1)


def test_compact_copy_keeps_the_histories_and_drops_the_resume_state(tmp_path):
    run = bt.train_run(bt.start_run(SMALL, config()), TOKENIZER, TRAIN, VAL)
    bt.save_run(tmp_path / "run.json", run, TOKENIZER, TRAIN)
    bt.compact_copy(tmp_path / "run.json", tmp_path / "small.json", "float16")
    small = load_checkpoint(tmp_path / "small.json", engine="numpy")
    assert small.loss_history == run.loss_history and small.extra["val_history"] == run.val_history
    assert not {"optimizer", "rng_state", "pending"} & set(small.extra)
    assert (tmp_path / "small.json").stat().st_size < (tmp_path / "run.json").stat().st_size / 3
    with pytest.raises(ValueError, match="it holds weights only"):
        bt.resume_run(tmp_path / "small.json", SMALL, config(), TOKENIZER, TRAIN)


def test_the_shipped_big_model_is_the_presets_and_reaches_the_target():
    from microgpt_lib.data import data_path, split_docs

    big = load_checkpoint(data_path("microgpt_big.json"), engine="numpy")
    preset = bt.PRESETS["big"]
    assert {k: getattr(big.model.config, k) for k in ("n_embd", "n_head", "n_layer", "block_size")} == \
        {k: preset[k] for k in ("n_embd", "n_head", "n_layer", "block_size")}
    assert {k: v for k, v in big.extra["run"].items() if k in preset} == {k: v for k, v in preset.items() if k in big.extra["run"]}
    assert big.step == preset["num_steps"] and len(big.loss_history) == big.step
    val = bt.evaluate(big.model, big.tokenizer, split_docs().val)
    assert val <= 2.00 and abs(val - big.extra["val_history"][-1][1]) < 1e-4  # float16 rounding moves it by less


def test_resuming_a_plain_runs_checkpoint_says_what_it_is_and_what_resumes_it(tmp_path):
    """A plain run's checkpoint (microgpt's training, one name a step) given to a batched resume: not "weights
    only", but what it holds: a finished run's weights (which sample and evaluate read), or a run stopped half
    way, with the command that resumes it on the plain engines."""
    from microgpt_lib.checkpoint import save_checkpoint
    from microgpt_lib.model import GPT

    model = GPT(SMALL, random.Random(0))
    finished, stopped = tmp_path / "finished.json", tmp_path / "stopped.json"
    save_checkpoint(finished, model, TOKENIZER, 3, [3.0, 2.9, 2.8])
    save_checkpoint(stopped, model, TOKENIZER, 3, [3.0, 2.9, 2.8], optimizer={"m": [], "v": []},
                    plain_run={"steps": 10}, command=["train", "--steps", "10", "--save", str(stopped)])
    config = bt.RunConfig(num_steps=10, batch_size=4)
    with pytest.raises(ValueError, match=r"finished.json': it holds the weights of a plain run \(microgpt's "
                                         r"training, one name a step; step 3\), with no optimizer.*`sample` and "
                                         r"`evaluate` read it"):
        bt.resume_run(finished, SMALL, config, TOKENIZER, TRAIN)
    with pytest.raises(ValueError, match=r"stopped.json': it holds a plain run .*, stopped after step 3 of 10; "
                                         r"the plain engines resume it, with: its options and --resume "):
        bt.resume_run(stopped, SMALL, config, TOKENIZER, TRAIN)
