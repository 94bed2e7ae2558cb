"""Checks for the exercises of chapter 11 (scaling up): the padding mask, a batched loss, a validation
loop, and what a checkpoint must hold to resume a run exactly.

Each check compares with an independent computation: `numpy_model.pad_batch`, the scalar engine's
per-name losses, `numpy_model.evaluate`, or a run of `batch_train` that was never interrupted.
`__tracebackhide__ = True` keeps the check's own frames out of a learner's traceback.
"""
import json
import random

import numpy as np

from .. import batch_train as bt
from .. import train
from ..model import GPTConfig
from ..numpy_model import NumpyGPT, evaluate, pad_batch
from ..tokenizer import Tokenizer
from . import call, close, fail, passed
from .ch09 import as_array, fmt_array

TOKENIZER = Tokenizer("abcdefghijklmnopqrstuvwxyz")
NAMES = ["al", "emma", "christopher", "bo", "zoe", "ava", "liam", "noah", "mia", "eli", "ivy", "max", "isabella"]


# ---------------------------------------------------------------- exercise 1: the padding mask

def check_padding_mask(padding_mask):
    """padding_mask(lengths, T) -> (B, T) array: 1.0 at the first lengths[b] positions of row b, 0.0 after."""
    __tracebackhide__ = True
    name = "padding_mask"
    cases = [[2, 5, 3], [4], [1, 1], [7, 2, 7, 5]]
    for lengths in cases:
        T = max(lengths)
        token_lists = [[0] * (n + 1) for n in lengths]  # n predictions need n + 1 tokens
        expected = pad_batch(token_lists, block_size=T, pad_id=0)[2]
        got = as_array(name, call(name, padding_mask, list(lengths), T), expected.shape, f"lengths {lengths}, T={T}")
        if not np.array_equal(got, expected):
            fail(name, f"{fmt_array(expected)} for lengths {lengths}", fmt_array(got),
                 "row b is 1 at positions t < lengths[b] (a name of n predictions fills positions 0..n-1), 0 after")
    got = as_array(name, call(name, padding_mask, [2, 3], 5), (2, 5), "lengths [2, 3] with T=5 (T longer than any name)")
    if got[:, 3:].any():
        fail(name, "zeros after the longest name when T is larger", fmt_array(got), "use T for the width, not max(lengths)")
    passed(name, f"{len(cases) + 1} batches, the same mask as pad_batch")


# ---------------------------------------------------------------- exercise 2: a batched loss

def check_batch_loss(batch_loss_from_nll):
    """batch_loss_from_nll(nll, mask): the mean over names of each name's mean loss, padding ignored."""
    __tracebackhide__ = True
    name = "batch_loss_from_nll"
    config = GPTConfig(TOKENIZER.vocab_size, n_embd=8, n_head=2, n_layer=1, block_size=12)
    model = NumpyGPT(config, random.Random(3))
    scalar = model.to_gpt()
    for names in (NAMES[:4], ["christopher", "al"], ["ava"]):
        token_lists = [TOKENIZER.tokenize(n) for n in names]
        inputs, targets, mask = pad_batch(token_lists, config.block_size, pad_id=0)
        logits = model(inputs).data
        log_probs = logits - logits.max(-1, keepdims=True)
        log_probs -= np.log(np.exp(log_probs).sum(-1, keepdims=True))
        nll = -np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
        nll = nll * mask + (1 - mask) * 7.0  # padding holds a loss too (of a made-up target): it must not count
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
    passed(name, "3 batches, equal to the mean of the scalar engine's per-name losses")


# ---------------------------------------------------------------- exercise 3: a validation loop

def check_validation_loss(validation_loss):
    """validation_loss(model, tokenizer, docs) -> nats per predicted character, the closing BOS counted."""
    __tracebackhide__ = True
    name = "validation_loss"
    for seed, n_layer, docs in ((1, 1, NAMES), (2, 2, ["isabella", "bo"]), (4, 1, ["x"])):
        model = NumpyGPT(GPTConfig(TOKENIZER.vocab_size, n_embd=8, n_head=2, n_layer=n_layer, block_size=12), random.Random(seed))
        expected = evaluate(model, TOKENIZER, docs)
        got = call(name, validation_loss, model, TOKENIZER, list(docs))
        try:
            got = float(got)
        except (TypeError, ValueError):
            fail(name, "one number", repr(got)[:80], "return the total loss divided by the number of predicted characters")
        if not close(got, expected, 1e-9):
            fail(name, f"{expected:.6f} on {len(docs)} names (numpy_model.evaluate)", f"{got:.6f}",
                 "every name predicts len(name) + 1 tokens (its characters, then the closing BOS); add up -log p of each "
                 "and divide the grand total by the number of predictions of all names together")
    passed(name, "3 models and sets of names, equal to numpy_model.evaluate")


# ---------------------------------------------------------------- exercise 4: resuming a run

def check_resume(save_state, load_state):
    """save_state(run) -> JSON-able dict; load_state(state, run) makes a fresh run continue exactly."""
    __tracebackhide__ = True
    name = "save_state / load_state"
    docs, val_docs = NAMES[:10], NAMES[10:]
    gpt_config = GPTConfig(TOKENIZER.vocab_size, n_embd=8, n_head=2, n_layer=1, block_size=12)
    config = bt.RunConfig(num_steps=16, batch_size=3, lr=0.02, warmup_steps=2, eval_every=8, seed=7)
    whole = bt.train_run(bt.start_run(gpt_config, config), TOKENIZER, docs, val_docs)
    first = bt.start_run(gpt_config, config)
    bt.train_run(first, TOKENIZER, docs, val_docs, should_stop=lambda: first.step == 6)
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
         "save run.step and run.loss_history and set them back: training continues from step 6, not from 0"),
        (np.array_equal(fresh.optimizer.m, whole.optimizer.m) and np.array_equal(fresh.optimizer.v, whole.optimizer.v),
         "Adam's m and v", "save run.optimizer.m and .v; without them Adam restarts from zero moments"),
        (np.array_equal(fresh.model.flat, whole.model.flat), "the final weights",
         "write the saved weights into run.model.flat[:] (the parameters are views of that array: a new array "
         "would leave them behind), and restore the generator with rng.setstate so the same batches come next"),
        (fresh.loss_history == whole.loss_history, "the loss of every step", "restore the loss history as it was saved"),
    ]
    for ok, what, hint in checks:
        if not ok:
            fail(name, f"{what} equal to a run that was never interrupted", f"{what} differ after resuming at step 6", hint)
    passed(name, "stopped at step 6 of 16, saved as JSON, resumed: weights, moments and losses identical")
