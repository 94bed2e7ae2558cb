"""Training at scale (chapter 11): minibatches, a validation split, checkpoints that resume exactly.

microgpt trains on one name a step and never holds anything out. Here, on the NumPy engine:
each step averages the loss over a batch of names (padded, with a mask); `evaluate` measures a
split per character, every `eval_every` steps; `AdamW` is microgpt's Adam with a warm-up and
weight decay; and a checkpoint holds everything the next step depends
on (weights, Adam's moments, the step, the random generator's state), so a run that is
interrupted and resumed ends with exactly the weights of one that was not.
"""
import contextlib
import dataclasses
import hashlib
import json
import math
import pathlib
import random
import time

import numpy as np

from .checkpoint import load_checkpoint, save_run_checkpoint
from .model import GPTConfig
from .numpy_model import Adam, NumpyGPT, pad_batch
from .tensor import log_softmax, pick
from .train import diverged


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """How to train; the model's own shape is a `GPTConfig`."""

    num_steps: int = 1000
    batch_size: int = 32  # names per step
    lr: float = 0.01  # peak learning rate
    warmup_steps: int = 0  # steps of linear warm-up before the linear decay to 0
    beta1: float = 0.85
    beta2: float = 0.99
    weight_decay: float = 0.0  # AdamW's decoupled decay of every weight (0: none, as microgpt)
    seed: int = 42  # the generator of the initial weights and of every batch
    pool_batches: int = 1  # draw this many batches' names at once and sort them by length (1: plain random batches)
    eval_every: int = 100  # measure the validation split every this many steps (and at the end)
    save_every: int = 0  # write the resumable checkpoint every this many steps (0: only at the end)

    def __post_init__(self):
        for name in ("num_steps", "batch_size", "pool_batches", "eval_every"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise ValueError(f"{name} must be a whole number of at least 1, got {getattr(self, name)!r}")
        if not (isinstance(self.save_every, int) and self.save_every >= 0):
            raise ValueError(f"save_every must be a whole number, 0 or more, got {self.save_every!r}")


# the bigger model: `python -m microgpt_lib train --preset big` (flags override any of these)
PRESETS = {
    "big": dict(n_embd=64, n_head=4, n_layer=3, block_size=16, num_steps=5500, batch_size=32, lr=0.003,
                warmup_steps=200, beta1=0.9, beta2=0.99, weight_decay=0.1, eval_every=250, save_every=1000),
}


def masked_loss(model, token_lists, rng=None):
    """The mean next-token loss over every real prediction of the batch; padding counts for nothing.

    Every predicted character weighs the same (a long name counts more than a short one), which
    is what `evaluate` measures; microgpt's `batch_loss` instead gives each name the same weight.
    `rng`, for a model that draws while training (chapter 13's dropout), is passed on to it.
    """
    inputs, targets, mask = pad_batch(token_lists, model.config.block_size, pad_id=0)
    log_probs = log_softmax(model(inputs) if rng is None else model(inputs, rng=rng))  # (B, T, vocab_size)
    return -(pick(log_probs, targets) * (mask / mask.sum())).sum()


def evaluate(model, tokenizer, docs, batch_size=500):
    """The mean negative log-likelihood per predicted character of `docs`, in nats.

    Each document counts its characters plus the closing BOS (which the model must also
    predict), whatever the tokenizer: a subword token that covers three characters adds its
    loss once but three characters to the count. A document too long for the context is an
    error, not silently cut. With a subword tokenizer this scores the encoder's split of each
    name only; `exact_loss.exact_evaluate` sums over every split (chapter 12).
    """
    if not docs:
        raise ValueError("no documents to evaluate on")
    total_nll, total_chars = 0.0, 0
    for start in range(0, len(docs), batch_size):
        batch = docs[start : start + batch_size]
        token_lists = [tokenizer.tokenize(doc) for doc in batch]
        for doc, tokens in zip(batch, token_lists):
            if len(tokens) - 1 > model.config.block_size:
                raise ValueError(f"{doc!r} needs {len(tokens) - 1} predictions; "
                                 f"block_size={model.config.block_size} holds fewer")
        total_nll += float(sequence_nll(model, token_lists).sum())
        total_chars += sum(len(doc) + 1 for doc in batch)
    return total_nll / total_chars


def sequence_nll(model, token_lists):
    """The negative log-likelihood of each whole token list (BOS, ..., BOS): an array, one per list."""
    inputs, targets, mask = pad_batch(token_lists, model.config.block_size, pad_id=0)
    logits = model(inputs).data
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    nll = -np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
    return (nll * mask).sum(axis=1)


class AdamW(Adam):
    """microgpt's Adam with chapter 11's two additions, and its state to save and resume.

    `warmup_steps` > 0 first raises the learning rate linearly from lr / warmup_steps to lr, then
    decays it linearly to 0 as before; 0 is microgpt's schedule exactly. `weight_decay` > 0 also
    pulls every weight towards 0 by lr_t * weight_decay of itself each step (AdamW's decoupled
    decay, which fights overfitting); 0 leaves microgpt's update as it was.
    """

    def __init__(self, model, num_steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8, warmup_steps=0,
                 weight_decay=0.0):
        super().__init__(model, num_steps, lr, beta1, beta2, eps)
        if not (isinstance(warmup_steps, int) and 0 <= warmup_steps < num_steps):
            raise ValueError(f"warmup_steps must be a whole number from 0 to num_steps - 1 = {num_steps - 1}, "
                             f"got {warmup_steps!r}")
        if not weight_decay >= 0:
            raise ValueError(f"weight_decay must be 0 or more, got {weight_decay!r}")
        self.warmup_steps, self.weight_decay = warmup_steps, weight_decay

    def lr_at(self, step):
        """The learning rate of training step `step` (counted from 0): warm-up, then linear decay to 0."""
        if self.warmup_steps == 0:
            return super().lr_at(step)
        if step < self.warmup_steps:
            return self.lr * (step + 1) / self.warmup_steps
        return self.lr * (1 - (step - self.warmup_steps) / (self.num_steps - self.warmup_steps))

    def step(self, step):
        """Adam's update, and first the decay: every weight shrinks by lr_t * weight_decay of itself."""
        lr_t = self.lr_at(step)
        update = self.update(step, lr_t)
        if self.weight_decay:
            self.model.flat *= 1 - lr_t * self.weight_decay
        self.model.flat -= update
        self.zero_grad()

    def state_dict(self):
        """Everything the next step depends on besides the weights: the moments m and v (copies)."""
        return {"m": self.m.copy(), "v": self.v.copy()}

    def load_state_dict(self, state):
        """Continue from `state_dict()`'s moments (the step number is passed to `step` as before)."""
        for name in ("m", "v"):
            value = np.asarray(state[name], dtype=np.float64)
            if value.shape != self.model.flat.shape:
                raise ValueError(f"Adam's {name} holds {value.size} numbers; the model has "
                                 f"{self.model.flat.size} parameters")
            setattr(self, name, value.copy())


def fingerprint(docs):
    """A short hash of the training documents, in order: a resumed run must train on the same data."""
    return hashlib.sha256("\n".join(docs).encode("utf-8")).hexdigest()[:16]


@dataclasses.dataclass
class Run:
    """A run in progress: everything the next step depends on, and what was measured so far."""

    model: NumpyGPT
    optimizer: AdamW
    rng: random.Random
    config: RunConfig
    step: int = 0  # steps done
    loss_history: list = dataclasses.field(default_factory=list)  # the training loss of every step
    pending: list = dataclasses.field(default_factory=list)  # batches drawn but not yet used (lists of document indices)
    val_history: list = dataclasses.field(default_factory=list)  # [step, validation loss] pairs
    seconds: float = 0.0  # time spent in train_run so far, evaluations and saving included
    command: list = None  # the command line's words that started it (saved, to say how to resume it)

    @property
    def best_val(self):
        return min((loss for _, loss in self.val_history), default=math.inf)


def start_run(gpt_config, config):
    """A fresh run: weights drawn from `random.Random(config.seed)`, which then draws the batches."""
    rng = random.Random(config.seed)
    model = NumpyGPT(gpt_config, rng)
    return Run(model, make_optimizer(model, config), rng, config)


def make_optimizer(model, config):
    """The run's Adam, with its schedule and weight decay, on `model`'s weights."""
    return AdamW(model, config.num_steps, config.lr, config.beta1, config.beta2,
                 warmup_steps=config.warmup_steps, weight_decay=config.weight_decay)


def save_run(path, run, tokenizer, train_docs, dtype="float64", resumable=True):
    """Write `run` to `path`; `resumable` adds Adam's moments and the generator's state (exact resume)."""
    extra = {"run": dataclasses.asdict(run.config), "data": fingerprint(train_docs), "val_history": run.val_history,
             "seconds": round(run.seconds, 1)}
    if run.command is not None:
        extra["command"] = list(run.command)
    if resumable:
        version, internal, gauss_next = run.rng.getstate()
        extra["optimizer"] = run.optimizer.state_dict()
        extra["rng_state"] = [version, list(internal), gauss_next]
        extra["pending"] = run.pending
    save_run_checkpoint(path, run.model, tokenizer, run.step, run.loss_history, dtype=dtype, **extra)


def check_batched_checkpoint(path, how_to_resume=None, engine=None):
    """Nothing if `path` may hold a batched run to resume (batch_train.resume_run checks the rest); a
    ValueError that says what it holds instead, and what can be done with it, if it is a plain run's
    (microgpt's training, one name a step: a version-1 checkpoint). `how_to_resume(command, path)` gives
    the command line that resumes a plain run stopped half way; `engine` (e.g. "--engine torch") is named in
    the message."""
    try:
        with open(path, encoding="utf-8") as f:
            payload = json.load(f)
    except (OSError, ValueError):
        return  # load_checkpoint says what is wrong with it
    if not isinstance(payload, dict) or payload.get("version") != 1:
        return
    where = f"cannot resume from {str(path)!r}{f' with {engine}' if engine else ''}:"
    batched = ("A batched run (--engine torch, or numpy) continues only from a checkpoint that a batched run "
               "saved with --save before its last step")
    step, total = payload.get("step"), payload.get("plain_run", {}).get("steps")
    if "optimizer" in payload and isinstance(step, int) and isinstance(total, int) and step < total:
        command = payload.get("command")
        how = how_to_resume(command, path) if how_to_resume and command else f"its options and --resume {path}"
        raise ValueError(f"{where} it holds a plain run (microgpt's training, one name a step), stopped "
                         f"after step {step} of {total}; the plain engines resume it, with: {how}. {batched}")
    raise ValueError(f"{where} it holds the weights of a plain run (microgpt's training, one name a step; "
                     f"step {step}), with no optimizer or generator state: `sample` and `evaluate` read it, "
                     f"but no run continues from it. {batched}")


def resume_run(path, gpt_config, config, tokenizer, train_docs, make_optimizer=make_optimizer, make_model=None):
    """The run saved at `path`, ready to continue; an error in one line if it was another run.

    The model is the one the checkpoint holds (a `NumpyGPT`, or chapter 13's `ModernGPT`), which must
    be of `gpt_config`'s kind; `make_optimizer(model, config)` rebuilds its optimizer (chapter 13
    gives its own), and `make_model(config, flat=weights)`, if given, the model's engine (chapter 13's
    fast one).
    """
    check_batched_checkpoint(path)  # a plain run's checkpoint: say what it is, and what resumes it
    saved = load_checkpoint(path, engine="numpy")
    where = f"cannot resume from {str(path)!r}:"
    if "optimizer" not in saved.extra or "rng_state" not in saved.extra:
        raise ValueError(f"{where} it holds weights only (no optimizer or generator state); it was not saved to resume")
    if type(saved.model.config) is not type(gpt_config):
        started = saved.extra.get("command")
        how = "resume it as the kind of run it is"
        if started:
            how = f"resume it with the options it was started with: {' '.join(started)} --resume {path}"
        raise ValueError(f"{where} it holds a run of {model_kind(saved.model.config)}, and this run "
                         f"would build {model_kind(gpt_config)}: {how}")
    wanted = {**dataclasses.asdict(gpt_config), **dataclasses.asdict(config)}
    # a setting that a checkpoint does not record is younger than it: the checkpoint ran its default
    defaults = {f.name: f.default for f in dataclasses.fields(config)}
    had = {**defaults, **dataclasses.asdict(saved.model.config), **saved.extra.get("run", {})}
    # save_every and eval_every only decide when to look, not what is computed
    diffs = [f"{k}={had.get(k)!r} (this run: {v!r})" for k, v in wanted.items() if k not in ("save_every", "eval_every") and had.get(k) != v]
    if saved.tokenizer.to_dict() != tokenizer.to_dict():
        diffs.append("another tokenizer")
    if saved.extra.get("data") != fingerprint(train_docs):
        diffs.append("other training data")
    if diffs:
        raise ValueError(f"{where} it was trained with {', '.join(diffs)}")
    model = saved.model if make_model is None else make_model(saved.model.config, flat=saved.model.flat)
    optimizer = make_optimizer(model, config)
    optimizer.load_state_dict(saved.extra["optimizer"])
    version, internal, gauss_next = saved.extra["rng_state"]
    rng = random.Random()
    rng.setstate((version, tuple(internal), gauss_next))
    pending = [list(batch) for batch in saved.extra.get("pending", [])]
    return Run(model, optimizer, rng, config, saved.step, list(saved.loss_history), pending,
               [list(p) for p in saved.extra["val_history"]], saved.extra.get("seconds", 0.0))


def model_kind(config):
    """What a run trains, in words: chapter 11's model, or chapter 13's ModernGPT (norm=..., ...)."""
    if type(config) is GPTConfig:
        return "chapter 11's model"
    from .checkpoint import modern_options

    return f"chapter 13's ModernGPT ({modern_options(config)})"


def compact_copy(source, destination, dtype="float16"):
    """A small copy of the checkpoint at `source` to ship: its weights rounded to `dtype`, its histories
    and settings kept, no optimizer or generator state (so it samples and evaluates, but does not resume)."""
    saved = load_checkpoint(source, engine="numpy")
    extra = {k: v for k, v in saved.extra.items() if k not in ("optimizer", "rng_state", "pending")}
    save_run_checkpoint(destination, saved.model, saved.tokenizer, saved.step, saved.loss_history, dtype=dtype, **extra)


def best_path(path):
    """Where the best-validation weights of a run saved at `path` go: run.json -> run.best.json."""
    path = pathlib.Path(path)
    return path.with_name(f"{path.stem}.best{path.suffix or '.json'}")


def train_run(run, tokenizer, train_docs, val_docs, save_path=None, callback=None, should_stop=None, on_save=None):
    """Train `run` from its current step to `run.config.num_steps`; returns it.

    Each step: a batch of `batch_size` names drawn with `run.rng`, the masked loss, backward,
    Adam. Every `eval_every` steps and at the end the validation loss is measured, and with
    `save_path` the best weights so far go to `best_path(save_path)`; every `save_every` steps
    and at the end the whole run goes to `save_path`. `callback(run, val_loss)` after each step
    (val_loss is None between evaluations). `should_stop()` is asked before each step: True
    ends the run early at a step boundary, in a state that resumes exactly (the caller saves it).
    `on_save(path, run)` after each file written (so the caller can say what was saved).
    """
    config = run.config
    if len(train_docs) < config.batch_size:
        raise ValueError(f"batch_size={config.batch_size} is more than the {len(train_docs)} training documents")
    if not val_docs:
        raise ValueError("no validation documents")
    started = time.perf_counter() - run.seconds
    while run.step < config.num_steps:
        if should_stop is not None and should_stop():
            break
        step = run.step
        batch = [train_docs[i] for i in next_batch(run, train_docs)]
        with np.errstate(all="ignore"):  # an overflow shows up as a loss that is not finite, below
            rng = run.rng if getattr(run.model, "needs_rng", False) else None  # dropout's masks (chapter 13)
            token_lists = [tokenizer.tokenize(doc) for doc in batch]
            # an engine with its own backward (chapter 13's fast engine) brings its own loss
            own = getattr(run.model, "masked_loss", None)
            loss = own(token_lists, rng) if own is not None else masked_loss(run.model, token_lists, rng)
        loss_value = float(loss.data)
        if not math.isfinite(loss_value):
            raise diverged(step, loss_value)
        loss.backward()
        run.optimizer.step(step)
        run.loss_history.append(loss_value)
        run.step = step + 1
        if run.step == config.num_steps and hasattr(run.optimizer, "finish"):
            run.optimizer.finish()  # chapter 13: the weights' moving average takes their place at the end
        val_loss = None
        run.seconds = time.perf_counter() - started
        if run.step % config.eval_every == 0 or run.step == config.num_steps:
            # chapter 13's optimizer may keep a moving average of the weights: it is what is measured
            with getattr(run.optimizer, "averaged", contextlib.nullcontext)():
                val_loss = evaluate(run.model, tokenizer, val_docs)
                improved = val_loss < run.best_val
                run.val_history.append([run.step, val_loss])
                if improved and save_path is not None:
                    save_run(best_path(save_path), run, tokenizer, train_docs, resumable=False)
                    if on_save is not None:
                        on_save(best_path(save_path), run)
        run.seconds = time.perf_counter() - started
        if save_path is not None and ((config.save_every and run.step % config.save_every == 0) or run.step == config.num_steps):
            save_run(save_path, run, tokenizer, train_docs)
            if on_save is not None:
                on_save(save_path, run)
        if callback is not None:
            callback(run, val_loss)
    return run


def next_batch(run, docs):
    """The document indices of the next batch, drawn with `run.rng`.

    With pool_batches = k > 1, k batches' worth of documents are drawn at once, sorted by
    length and cut into k batches, used in a random order: names of similar length share a
    batch, so little of it is padding (each step costs less), and over k steps every name
    drawn is still used once.
    """
    config = run.config
    if config.pool_batches == 1:
        return run.rng.sample(range(len(docs)), config.batch_size)  # without repeats within a step
    if not run.pending:
        pool = run.rng.sample(range(len(docs)), min(len(docs), config.batch_size * config.pool_batches))
        pool.sort(key=lambda i: len(docs[i]))  # stable: names of one length stay in their random order
        run.pending = [pool[start : start + config.batch_size] for start in range(0, len(pool) - config.batch_size + 1, config.batch_size)]
        run.rng.shuffle(run.pending)
    return run.pending.pop()


def gpt_config_for(tokenizer, n_embd=16, n_head=4, n_layer=1, block_size=16):
    """The model's shape for this tokenizer."""
    return GPTConfig(tokenizer.vocab_size, n_embd, n_head, n_layer, block_size)
