"""Checks for the exercises of chapter 11 (scaling up): the share of padding in a batch, sorted by
length or not; a batched loss; a warm-up, stable, decay learning-rate schedule; gradient accumulation;
and early stopping with patience.

Each check compares with an independent computation: a reference written here, the scalar engine's
per-name losses, `batch_train.AdamW.lr_at`, or the gradient of `batch_train.masked_loss` on the
whole batch. Every check takes `cases=None` (None: the cases the learner sees; the hidden cases of
the check cells pass others) and computes each expected value itself.
`__tracebackhide__ = True` keeps the check's own frames out of a learner's traceback.
"""
import random

import numpy as np

from .. import batch_train as bt
from .. import train
from ..model import GPTConfig
from ..numpy_model import NumpyGPT, pad_batch
from ..tokenizer import Tokenizer
from . import call, close, fail, fmt, passed
from .ch09 import fmt_array

TOKENIZER = Tokenizer("abcdefghijklmnopqrstuvwxyz")
NAMES = ["al", "emma", "christopher", "bo", "zoe", "ava", "liam", "noah", "mia", "eli", "ivy", "max", "isabella"]


# ---------------------------------------------------------------- exercise 1: the share of padding

def reference_padding_share(lengths, batch_size, sort):
    """Padded positions / all positions, the batches cut in order (sorted first if `sort`)."""
    lengths = sorted(lengths) if sort else list(lengths)
    padded = total = 0
    for start in range(0, len(lengths), batch_size):
        batch = lengths[start : start + batch_size]
        total += max(batch) * len(batch)
        padded += max(batch) * len(batch) - sum(batch)
    return padded / total


def some_lengths(count, seed):
    """Predictions per name (letters + the closing BOS) of `count` names drawn from NAMES' range of lengths."""
    rng = random.Random(seed)
    return [rng.choice([3, 4, 4, 5, 5, 5, 6, 6, 6, 7, 7, 8, 9, 12]) for _ in range(count)]


def check_padding_share(padding_share, cases=None):
    """padding_share(lengths, batch_size, sort) -> the share of padded positions of the batches.

    cases: (lengths, batch_size, sort) tuples; by default numbers of names divisible by batch_size.
    """
    __tracebackhide__ = True
    name = "padding_share"
    cases = cases or [([3, 7, 4, 7, 2, 5], 2, False), ([3, 7, 4, 7, 2, 5], 2, True), ([5, 5, 5], 3, False),
                      (some_lengths(64, 1), 8, False), (some_lengths(64, 1), 8, True)]
    for lengths, batch_size, sort in cases:
        expected = reference_padding_share(lengths, batch_size, sort)
        got = call(name, padding_share, list(lengths), batch_size, sort)
        try:
            got = float(got)
        except (TypeError, ValueError):
            fail(name, "one number", repr(got)[:80], "return padded positions / all positions of the rectangles")
        if not close(got, expected, 1e-9):
            shown = fmt(list(lengths))
            fail(name, f"{expected:.6f} for lengths {shown}, batch_size {batch_size}, sort={sort}", f"{got:.6f}",
                 "cut the lengths (sorted from shortest to longest if sort) into consecutive batches of batch_size, "
                 "the last one possibly shorter; each batch is as wide as its own longest name; divide the padded "
                 "positions of all batches by all their positions (padding included)")
    passed(name, f"{len(cases)} sets of lengths, sorted and not")


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


# ---------------------------------------------------------------- exercise 3: warm-up, stable, decay

def reference_wsd(step, num_steps, lr, warmup_steps, decay_steps):
    """Warm-up as AdamW's, then lr, then a linear decay over the last decay_steps steps (from lr)."""
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    decay_start = num_steps - decay_steps
    if step < decay_start:
        return lr
    return lr * (1 - (step - decay_start) / decay_steps)


def check_wsd_lr(wsd_lr, cases=None):
    """wsd_lr(step, num_steps, lr, warmup_steps, decay_steps) at every step of each case.

    cases: (num_steps, lr, warmup_steps, decay_steps) tuples. Where warm-up and decay fill the run
    (warmup_steps + decay_steps == num_steps, warmup_steps > 0) the expected values are
    `batch_train.AdamW.lr_at`'s, the chapter's schedule.
    """
    __tracebackhide__ = True
    name = "wsd_lr"
    cases = cases or [(20, 0.01, 4, 4), (12, 1.0, 3, 3), (10, 0.5, 5, 5)]
    model = NumpyGPT(GPTConfig(TOKENIZER.vocab_size, n_embd=4, n_head=1, n_layer=1, block_size=4), random.Random(0))
    for num_steps, lr, warmup_steps, decay_steps in cases:
        chapter = warmup_steps > 0 and warmup_steps + decay_steps == num_steps
        adamw = bt.AdamW(model, num_steps, lr, warmup_steps=warmup_steps)
        for step in range(num_steps):
            expected = (adamw.lr_at(step) if chapter else
                        reference_wsd(step, num_steps, lr, warmup_steps, decay_steps))
            got = call(name, wsd_lr, step, num_steps, lr, warmup_steps, decay_steps)
            try:
                got = float(got)
            except (TypeError, ValueError):
                fail(name, "one number", repr(got)[:80], "return the learning rate of this step")
            if not close(got, expected, 1e-12):
                fail(name, f"{expected:.6g} at step {step} (num_steps={num_steps}, lr={lr}, warmup_steps={warmup_steps}, "
                     f"decay_steps={decay_steps})" + (" (AdamW.lr_at's value: the chapter's schedule)" if chapter else ""),
                     f"{got:.6g}",
                     "steps count from 0; warm-up: lr * (step + 1) / warmup_steps; then lr; the decay starts at step "
                     "num_steps - decay_steps with lr and loses lr / decay_steps a step; a phase of 0 steps is skipped")
    passed(name, f"{len(cases)} schedules, every step")


# ---------------------------------------------------------------- exercise 4: gradient accumulation

def flat_gradient(model, token_lists):
    """The gradient of batch_train.masked_loss on these names, as one flat array."""
    loss = bt.masked_loss(model, token_lists)
    loss.backward()
    grad = np.concatenate([p.grad.ravel() for p in model.params])
    for p in model.params:
        p.grad = None
    return grad


def check_accumulate(accumulate, cases=None):
    """accumulate(grads, masks) -> the gradient of masked_loss on all the micro-batches' names at once.

    cases: lists of micro-batches (lists of names); by default micro-batches whose names share a
    length within each (no padding), of different numbers of predictions.
    """
    __tracebackhide__ = True
    name = "accumulate"
    config = GPTConfig(TOKENIZER.vocab_size, n_embd=8, n_head=2, n_layer=1, block_size=12)
    model = NumpyGPT(config, random.Random(5))
    cases = cases or [[["emma", "liam", "noah"], ["bo", "al"]],
                      [["ava", "mia", "eli", "ivy"], ["christopher"], ["zoe", "max"]]]
    for micro_batches in cases:
        token_lists = [[TOKENIZER.tokenize(n) for n in names] for names in micro_batches]
        expected = flat_gradient(model, [t for tokens in token_lists for t in tokens])
        grads = [flat_gradient(model, tokens) for tokens in token_lists]
        masks = [pad_batch(tokens, config.block_size, pad_id=0)[2] for tokens in token_lists]
        got = call(name, accumulate, [g.copy() for g in grads], [m.copy() for m in masks])
        got = np.asarray(got, dtype=float) if np.shape(got) == expected.shape else got
        if np.shape(got) != expected.shape or not np.allclose(got, expected, rtol=1e-9, atol=1e-12):
            fail(name, f"the gradient of one batch of {micro_batches}: {fmt_array(expected)}", fmt_array(got),
                 "each micro-batch's gradient is of a mean over its own real predictions; the whole batch's loss "
                 "weighs every real prediction the same: weight each gradient by its micro-batch's number of "
                 "real predictions (the mask's sum, padding excluded) over the total, and add them up")
    passed(name, f"{len(cases)} batches: the same gradient as one batch of all their names")


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
