"""Checks for the exercises of chapter 11 (scaling up): the padding mask, a batched loss, a validation
loop, what a checkpoint must hold to resume a run exactly, and early stopping with patience.

Each check compares with an independent computation: `numpy_model.pad_batch`, the scalar engine's
per-name losses, `batch_train.evaluate`, a run of `batch_train` that was never interrupted, or a
reference written here. Every check takes `cases=None` (None: the cases the learner sees; the
hidden cases of the check cells pass others) and computes each expected value itself.
`__tracebackhide__ = True` keeps the check's own frames out of a learner's traceback.
"""
import json
import random

import numpy as np

from .. import batch_train as bt
from .. import train
from ..model import GPTConfig
from ..batch_train import evaluate
from ..numpy_model import NumpyGPT, pad_batch
from ..tokenizer import Tokenizer
from . import call, close, fail, passed
from .ch09 import as_array, fmt_array

TOKENIZER = Tokenizer("abcdefghijklmnopqrstuvwxyz")
NAMES = ["al", "emma", "christopher", "bo", "zoe", "ava", "liam", "noah", "mia", "eli", "ivy", "max", "isabella"]


# ---------------------------------------------------------------- exercise 1: the padding mask

def check_padding_mask(padding_mask, cases=None):
    """padding_mask(lengths, T) -> (B, T) array: 1.0 at the first lengths[b] positions of row b, 0.0 after.

    cases: (lengths, T) pairs; by default batches whose rectangle is wider than their longest name.
    """
    __tracebackhide__ = True
    name = "padding_mask"
    cases = cases or [([2, 5, 3], 6), ([4], 7), ([1, 1], 3), ([2, 3], 5)]
    for lengths, T in cases:
        mask = pad_batch([[0] * (n + 1) for n in lengths], block_size=max(lengths), pad_id=0)[2]
        expected = np.zeros((len(lengths), T))
        expected[:, : mask.shape[1]] = mask  # pad_batch's rectangle, widened to T columns
        got = as_array(name, call(name, padding_mask, list(lengths), T), expected.shape, f"lengths {lengths}, T={T}")
        if not np.array_equal(got, expected):
            fail(name, f"{fmt_array(expected)} for lengths {lengths}, T={T}", fmt_array(got),
                 "row b is 1 at positions t < lengths[b] (a name of n predictions fills positions 0..n-1), "
                 "0 after, up to T columns; a name may fill its row")
    passed(name, f"{len(cases)} batches, the same mask as pad_batch")


# ---------------------------------------------------------------- exercise 2: a batched loss

def check_batch_loss(batch_loss_from_nll, cases=None):
    """batch_loss_from_nll(nll, mask): the mean over names of each name's mean loss, padding ignored.

    cases: (names, padding) pairs: the names of a batch, and the loss that its padding positions hold.
    """
    __tracebackhide__ = True
    name = "batch_loss_from_nll"
    config = GPTConfig(TOKENIZER.vocab_size, n_embd=8, n_head=2, n_layer=1, block_size=12)
    model = NumpyGPT(config, random.Random(3))
    scalar = model.to_gpt()
    cases = cases or [(NAMES[:4], 0.0), (["christopher", "al"], 0.0), (["ava"], 0.0)]
    for names, padding in cases:
        token_lists = [TOKENIZER.tokenize(n) for n in names]
        inputs, targets, mask = pad_batch(token_lists, config.block_size, pad_id=0)
        logits = model(inputs).data
        log_probs = logits - logits.max(-1, keepdims=True)
        log_probs -= np.log(np.exp(log_probs).sum(-1, keepdims=True))
        nll = -np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
        nll = nll * mask + (1 - mask) * padding  # padding may hold a loss too (of a made-up target): it must not count
        per_name = [train.document_loss(scalar, tokens).data for tokens in token_lists]
        expected = sum(per_name) / len(per_name)
        got = call(name, batch_loss_from_nll, nll.copy(), mask.copy())
        try:
            got = float(got)
        except (TypeError, ValueError):
            fail(name, "one number", fmt_array(got), "sum to a single number: a loss is a scalar")
        if not close(got, expected, 1e-9):
            per_char = float((nll * mask).sum() / mask.sum())
            hint = ("that is the mean per character: each name must weigh the same, so average within each name first"
                    if close(got, per_char, 1e-9) else
                    "multiply by the mask so padding adds nothing, divide each row by its own number of predictions, "
                    "then average the rows")
            fail(name, f"{expected:.6f} for {names} (the mean of the scalar engine's per-name losses)", f"{got:.6f}", hint)
    passed(name, f"{len(cases)} batches, equal to the mean of the scalar engine's per-name losses")


# ---------------------------------------------------------------- exercise 3: a validation loop

def check_validation_loss(validation_loss, cases=None):
    """validation_loss(model, tokenizer, docs) -> nats per predicted character, the closing BOS counted.

    cases: (seed, n_layer, docs, characters) tuples: a model drawn with `seed`, on a vocabulary of
    `characters` (and BOS).
    """
    __tracebackhide__ = True
    name = "validation_loss"
    letters = "abcdefghijklmnopqrstuvwxyz"
    cases = cases or [(1, 1, NAMES, letters), (2, 2, ["isabella", "bo"], letters), (4, 1, ["x"], letters)]
    for seed, n_layer, docs, characters in cases:
        tokenizer = Tokenizer(characters)
        config = GPTConfig(tokenizer.vocab_size, n_embd=8, n_head=2, n_layer=n_layer, block_size=12)
        model = NumpyGPT(config, random.Random(seed))
        expected = evaluate(model, tokenizer, docs)
        got = call(name, validation_loss, model, tokenizer, list(docs))
        try:
            got = float(got)
        except (TypeError, ValueError):
            fail(name, "one number", repr(got)[:80], "return the total loss divided by the number of predicted characters")
        if not close(got, expected, 1e-9):
            fail(name, f"{expected:.6f} on {len(docs)} names, vocabulary {characters!r} + BOS (batch_train.evaluate)",
                 f"{got:.6f}",
                 "every name predicts len(name) + 1 tokens (its characters, then the closing BOS); add up -log p of each "
                 "and divide the grand total by the number of predictions of all names together; take BOS and the "
                 "ids from the tokenizer you are given")
    passed(name, f"{len(cases)} models and sets of names, equal to batch_train.evaluate")


# ---------------------------------------------------------------- exercise 4: resuming a run

def check_resume(save_state, load_state, cases=None):
    """save_state(run) -> JSON-able dict; load_state(state, run) makes a fresh run continue exactly.

    cases: (stop_step, pool_batches) pairs: where the run stops, and how it draws its batches.
    """
    __tracebackhide__ = True
    for stop_step, pool_batches in cases or [(6, 1)]:
        resume_case(save_state, load_state, stop_step, pool_batches)
    passed("save_state / load_state", f"stopped at step {stop_step} of 16, saved as JSON, resumed: weights, "
                                      "moments and losses identical")


def resume_case(save_state, load_state, stop_step, pool_batches):
    """One stop, save, load and resume, compared with a run that was never interrupted."""
    __tracebackhide__ = True
    name = "save_state / load_state"
    docs, val_docs = NAMES[:10], NAMES[10:]
    gpt_config = GPTConfig(TOKENIZER.vocab_size, n_embd=8, n_head=2, n_layer=1, block_size=12)
    config = bt.RunConfig(num_steps=16, batch_size=3, lr=0.02, warmup_steps=2, eval_every=8, seed=7,
                          pool_batches=pool_batches)
    whole = bt.train_run(bt.start_run(gpt_config, config), TOKENIZER, docs, val_docs)
    first = bt.start_run(gpt_config, config)
    bt.train_run(first, TOKENIZER, docs, val_docs, should_stop=lambda: first.step == stop_step)
    state = call(name, save_state, first, hint="return a dict of lists and numbers")
    try:
        state = json.loads(json.dumps(state))  # what a file on disk keeps
    except (TypeError, ValueError) as err:
        fail(name, "a state that JSON can store", f"{type(err).__name__}: {err}",
             "turn arrays into lists (.tolist()) and the generator's state tuple into lists")
    fresh = bt.start_run(gpt_config, config)  # as a new process would build it before loading
    fresh.rng.seed(12345)  # ... with whatever its generator happens to hold
    call(name, load_state, state, fresh, hint="load_state changes `run` in place")
    bt.train_run(fresh, TOKENIZER, docs, val_docs)
    checks = [
        (fresh.step == whole.step and len(fresh.loss_history) == len(whole.loss_history), "16 steps in all",
         f"save run.step and run.loss_history and set them back: training continues from step {stop_step}, not 0"),
        (np.array_equal(fresh.optimizer.m, whole.optimizer.m) and np.array_equal(fresh.optimizer.v, whole.optimizer.v),
         "Adam's m and v", "save run.optimizer.m and .v; without them Adam restarts from zero moments"),
        (np.array_equal(fresh.model.flat, whole.model.flat), "the final weights",
         "write the saved weights into run.model.flat[:] (the parameters are views of that array: a new array "
         "would leave them behind), and restore the generator with rng.setstate so the same batches come next; "
         "with pool_batches > 1 the batches already drawn but not yet used (run.pending) are part of the state too"),
        (fresh.loss_history == whole.loss_history, "the loss of every step", "restore the loss history as it was saved"),
    ]
    for ok, what, hint in checks:
        if not ok:
            fail(name, f"{what} equal to a run that was never interrupted (pool_batches={pool_batches})",
                 f"{what} differ after resuming at step {stop_step}", hint)


# ---------------------------------------------------------------- exercise 5: early stopping

def reference_early_stopping(val_history, patience):
    """(stop_step, best_step): stop after `patience` evaluations in a row that do not beat the best."""
    best_step, best_val, waited = None, float("inf"), 0
    for step, val in val_history:
        if val < best_val:
            best_step, best_val, waited = step, val, 0
        else:
            waited += 1
            if waited == patience:
                return step, best_step
    return val_history[-1][0], best_step


# chapter 11's 300-name overfit (its validation loss every 50 steps, on 500 validation names), rounded
OVERFIT_300 = [[50, 2.4749], [100, 2.4448], [150, 2.4721], [200, 2.5742], [250, 2.6993], [300, 2.9211],
               [350, 3.2082], [400, 3.385], [450, 3.5867], [500, 3.7743], [550, 3.875], [600, 3.9212]]


def check_early_stopping(early_stopping, cases=None):
    """early_stopping(val_history, patience) -> (stop_step, best_step).

    cases: (val_history, patience) pairs; val_history is a list of [step, validation loss] pairs.
    """
    __tracebackhide__ = True
    name = "early_stopping"
    cases = cases or [(OVERFIT_300, 2), (OVERFIT_300, 4), ([[10, 3.0], [20, 2.5], [30, 2.2], [40, 2.1]], 1),
                      ([[100, 2.4], [200, 2.3], [300, 2.35], [400, 2.2], [500, 2.3], [600, 2.4]], 2)]
    for val_history, patience in cases:
        expected = reference_early_stopping(val_history, patience)
        got = call(name, early_stopping, [list(pair) for pair in val_history], patience)
        try:
            got = tuple(int(x) for x in got)
        except (TypeError, ValueError):
            fail(name, "a pair (stop_step, best_step)", repr(got)[:80], "return two step numbers")
        if got != expected:
            fail(name, f"(stop_step, best_step) = {expected} with patience {patience} on {val_history}", f"{got}",
                 "walk the evaluations in order; an evaluation that is not strictly below the best so far adds one "
                 "to a counter, a new best resets it; stop at the evaluation where the counter reaches patience "
                 "(or at the last one); keep the best step's weights")
    passed(name, f"{len(cases)} validation curves: where training stops, and which weights it keeps")
