"""A modern GPT on names (chapter 13): chapter 11's model with today's changes, each one an option.

`ModernConfig`'s defaults are chapter 11's model exactly (same weights drawn in the same order,
same logits as `NumpyGPT`); each option swaps one piece: the normalisation, the MLP's activation,
learned positions for RoPE, QK-norm, dropout, tied embeddings. `ModernRunConfig` adds the
training options: the learning-rate schedule, clipping by global norm, which weights decay.
"""
import contextlib
import dataclasses
import math
import random

import numpy as np

from . import batch_train
from .model import GPTConfig
from .modern_ops import dropout, gelu, layernorm, relu_squared, rope, silu
from .numpy_model import flat_parameters
from .tensor import causal_attention, embedding, linear, rmsnorm

NORMS = {"rmsnorm": rmsnorm, "layernorm": layernorm}
ACTIVATIONS = ("relu", "relu2", "gelu", "swiglu")
POSITIONS = ("learned", "rope")


@dataclasses.dataclass(frozen=True)
class ModernConfig(GPTConfig):
    """The model's shape (`GPTConfig`'s fields) and its modern options; the defaults are chapter 11's model."""

    norm: str = "rmsnorm"  # or "layernorm" (makemore's; here without gain and bias)
    activation: str = "relu"  # or "relu2", "gelu", "swiglu" (three matrices, hidden width for equal parameters)
    position: str = "learned"  # or "rope": no position table, q and k turned by their position
    qk_norm: bool = False  # rmsnorm each head's query and key before their dot product
    tie_weights: bool = False  # the output layer is the token embedding table (no lm_head)
    dropout: float = 0.0  # probability of zeroing each number after the embeddings, attention and MLP

    def __post_init__(self):
        super().__post_init__()
        for name, allowed in (("norm", tuple(NORMS)), ("activation", ACTIVATIONS), ("position", POSITIONS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name}={getattr(self, name)!r} is not one of {', '.join(allowed)}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.position == "rope" and self.head_dim % 2:
            raise ValueError(f"RoPE needs an even head_dim, got n_embd={self.n_embd}, n_head={self.n_head}")

    @property
    def mlp_hidden(self):
        """The MLP's hidden width: 4 n_embd, or 8/3 n_embd for SwiGLU's three matrices (equal parameters)."""
        return round(8 * self.n_embd / 3) if self.activation == "swiglu" else 4 * self.n_embd


def modern_param_shapes(config):
    """(rows, columns) of every matrix by name; with the defaults, microgpt's names in microgpt's order."""
    c = config
    shapes = {"wte": (c.vocab_size, c.n_embd)}
    if c.position == "learned":
        shapes["wpe"] = (c.block_size, c.n_embd)
    if not c.tie_weights:
        shapes["lm_head"] = (c.vocab_size, c.n_embd)
    for li in range(c.n_layer):
        for name in ("attn_wq", "attn_wk", "attn_wv", "attn_wo"):
            shapes[f"layer{li}.{name}"] = (c.n_embd, c.n_embd)
        shapes[f"layer{li}.mlp_fc1"] = (c.mlp_hidden, c.n_embd)
        if c.activation == "swiglu":
            shapes[f"layer{li}.mlp_gate"] = (c.mlp_hidden, c.n_embd)
        shapes[f"layer{li}.mlp_fc2"] = (c.n_embd, c.mlp_hidden)
    return shapes


class ModernGPT:
    """`NumpyGPT` with `ModernConfig`'s options: every matrix a view of one flat array, `state_dict` by name."""

    def __init__(self, config, rng=None, flat=None):
        self.config = config
        # microgpt's draws: with the defaults, the weights of NumpyGPT(config, rng)
        self.flat, self.state_dict = flat_parameters(config, modern_param_shapes(config), rng, flat)
        self.params = list(self.state_dict.values())

    @property
    def needs_rng(self):
        """True when a training step draws from the run's generator (dropout's masks)."""
        return self.config.dropout > 0

    def __call__(self, ids, rng=None):
        """The logits of the next token at every position: ids (B, T) -> (B, T, vocab_size).

        `rng` (the run's `random.Random`), given while training, turns dropout on: one number drawn
        from it seeds the step's masks, so a run and its resume draw the same masks.
        """
        c, sd = self.config, self.state_dict
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"ids must be a (batch, positions) array of token ids, got shape {ids.shape}")
        B, T = ids.shape
        if T > c.block_size:
            raise ValueError(f"{T} positions do not fit in the context of block_size={c.block_size}")
        if ids.size and not (0 <= ids.min() and ids.max() < c.vocab_size):
            raise ValueError(f"token ids must be in 0..{c.vocab_size - 1}, got {ids.min()}..{ids.max()}")
        p = c.dropout if rng is not None else 0.0
        generator = np.random.default_rng(rng.getrandbits(64)) if p else None
        norm = NORMS[c.norm]
        x = embedding(sd["wte"], ids)
        if c.position == "learned":
            x = x + embedding(sd["wpe"], np.arange(T))
        x = dropout(norm(x), p, generator)
        for li in range(c.n_layer):
            x = x + dropout(self.attention(norm(x), li), p, generator)
            x = x + dropout(self.mlp(norm(x), li), p, generator)
        return linear(x, sd["wte"] if c.tie_weights else sd["lm_head"])

    def attention(self, x, li):
        c, sd = self.config, self.state_dict
        q = linear(x, sd[f"layer{li}.attn_wq"])
        k = linear(x, sd[f"layer{li}.attn_wk"])
        v = linear(x, sd[f"layer{li}.attn_wv"])
        if c.qk_norm:  # each head's query and key to root-mean-square 1
            B, T, C = q.shape
            q = rmsnorm(q.reshape(B, T, c.n_head, c.head_dim)).reshape(B, T, C)
            k = rmsnorm(k.reshape(B, T, c.n_head, c.head_dim)).reshape(B, T, C)
        if c.position == "rope":
            q, k = rope(q, c.n_head), rope(k, c.n_head)
        return linear(causal_attention(q, k, v, c.n_head), sd[f"layer{li}.attn_wo"])

    def mlp(self, x, li):
        c, sd = self.config, self.state_dict
        h = linear(x, sd[f"layer{li}.mlp_fc1"])
        if c.activation == "relu":
            h = h.relu()
        elif c.activation == "relu2":
            h = relu_squared(h)
        elif c.activation == "gelu":
            h = gelu(h)
        else:  # swiglu: silu(x W1) * (x W3)
            h = silu(h) * linear(x, sd[f"layer{li}.mlp_gate"])
        return linear(h, sd[f"layer{li}.mlp_fc2"])


# ---------------------------------------------------------------- training: schedules, clipping, decay

SCHEDULES = ("linear", "cosine", "wsd", "constant")
ENGINES = ("numpy", "manual")  # what computes a training step (see `model_class`)


def lr_at(schedule, step, num_steps, lr, warmup_steps=0, cooldown_fraction=0.2):
    """The learning rate of step `step` (from 0): warm-up from lr / warmup_steps to lr, then

    linear: down to 0 in a straight line (chapter 11's); cosine: lr (1 + cos(pi f)) / 2, f the fraction
    of the decay done; wsd (warm-up, stable, decay): lr until the last `cooldown_fraction` of the run,
    then straight to 0; constant: lr throughout (makemore's).
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule={schedule!r} is not one of {', '.join(SCHEDULES)}")
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    done = (step - warmup_steps) / (num_steps - warmup_steps)  # 0 at the end of warm-up, -> 1 at the end
    if schedule == "linear":
        return lr * (1 - done)
    if schedule == "cosine":
        return lr * 0.5 * (1 + math.cos(math.pi * done))
    if schedule == "wsd":
        cooldown_steps = cooldown_fraction * num_steps
        return lr * min(1.0, (num_steps - step) / cooldown_steps)
    return lr


def clip_by_global_norm(grads, max_norm):
    """The gradients scaled by min(1, max_norm / ||g||), ||g|| the norm of all of them as one vector; and ||g||."""
    norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
    if norm <= max_norm:
        return list(grads), norm
    return [g * (max_norm / norm) for g in grads], norm


@dataclasses.dataclass(frozen=True)
class ModernRunConfig(batch_train.RunConfig):
    """Chapter 11's `RunConfig` and the training options of chapter 13."""

    schedule: str = "linear"  # linear, cosine, wsd or constant (see `lr_at`)
    clip_norm: float = 0.0  # clip the gradient to this global norm (0: never)
    decay: str = "all"  # which weights weight decay shrinks: "all" (chapter 11) or "matrices" (not embeddings)
    engine: str = "numpy"  # "numpy": ModernGPT's Tensor graph (float64); "manual": modern_fast (float32, backward by hand)
    average: float = 0.0  # keep a moving average of the weights, this much of it kept each step (0: none; see ModernAdam)

    def __post_init__(self):
        super().__post_init__()
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule={self.schedule!r} is not one of {', '.join(SCHEDULES)}")
        if not self.clip_norm >= 0:
            raise ValueError(f"clip_norm must be 0 (no clipping) or more, got {self.clip_norm!r}")
        if self.decay not in ("all", "matrices"):
            raise ValueError(f"decay={self.decay!r} is not 'all' or 'matrices'")
        if self.engine not in ENGINES:
            raise ValueError(f"engine={self.engine!r} is not one of {', '.join(ENGINES)}")
        if not 0 <= self.average < 1:
            raise ValueError(f"average must be at least 0 (no average) and below 1, got {self.average!r}")


EMBEDDINGS = ("wte", "wpe")


class ModernAdam(batch_train.AdamW):
    """Chapter 11's Adam with a choice of schedule, clipping by global norm, decay of the matrices only, and a
    moving average of the weights.

    With `average` = d > 0, after every step a = d a + (1 - d) w: the average of the last ~1 / (1 - d)
    steps' weights. The evaluations measure it (`averaged`), and at the end of the run it takes the
    weights' place (`finish`): the run's result is the average, which is what is saved, sampled and evaluated.
    """

    def __init__(self, model, config):
        super().__init__(model, config.num_steps, config.lr, config.beta1, config.beta2,
                         warmup_steps=config.warmup_steps)  # its weight decay is done here, by mask
        self.schedule, self.clip_norm, self.decayed_by = config.schedule, config.clip_norm, config.weight_decay
        self.decay_mask = np.ones(model.flat.size, dtype=bool)
        if config.decay == "matrices":  # embeddings are lookups, not maps: many modern recipes leave them be
            start = 0
            for name, p in model.state_dict.items():
                if name in EMBEDDINGS:
                    self.decay_mask[start : start + p.data.size] = False
                start += p.data.size
        self.average_decay = config.average
        self.average = model.flat.copy() if config.average else None
        self.last_weights = None  # the weights the average replaced at the end (see finish)

    def lr_at(self, step):
        return lr_at(self.schedule, step, self.num_steps, self.lr, self.warmup_steps)

    def step(self, step):
        params = [p for p in self.model.params if p.grad is not None]
        if self.clip_norm:
            for p, g in zip(params, clip_by_global_norm([p.grad for p in params], self.clip_norm)[0]):
                p.grad = g
        if self.decayed_by:  # AdamW's decoupled decay, before the step (as chapter 11's Adam orders it)
            self.model.flat[self.decay_mask] *= 1 - self.lr_at(step) * self.decayed_by
        super().step(step)
        if self.average is not None:  # a = d a + (1 - d) w
            self.average *= self.average_decay
            self.average += (1 - self.average_decay) * self.model.flat

    @contextlib.contextmanager
    def averaged(self):
        """Inside, the model's weights are their moving average (to evaluate or save it); after, the run's own."""
        if self.average is None:
            yield
            return
        kept = self.model.flat.copy()
        self.model.flat[:] = self.average  # in place: every matrix is a view of flat
        try:
            yield
        finally:
            self.model.flat[:] = kept

    def finish(self):
        """The end of the run: the average takes the weights' place (the last weights kept, to compare)."""
        if self.average is not None:
            self.last_weights = self.model.flat.copy()
            self.model.flat[:] = self.average

    def state_dict(self):
        state = super().state_dict()
        if self.average is not None:
            state["average"] = self.average.copy()
        return state

    def load_state_dict(self, state):
        super().load_state_dict(state)
        if self.average is not None:
            average = np.asarray(state.get("average", ()), dtype=np.float64)
            if average.shape != self.model.flat.shape:
                raise ValueError(f"the weights' average holds {average.size} numbers; the model has "
                                 f"{self.model.flat.size} parameters")
            self.average = average.copy()


def model_class(config):
    """The class that trains a run of `config.engine`: `ModernGPT` (this chapter's Tensor graph), or for
    "manual" `modern_fast.FastModernGPT` (the same model and weights; its step written out by hand, float32)."""
    if config.engine == "manual":
        from .modern_fast import FastModernGPT

        return FastModernGPT
    return ModernGPT


def start_run(model_config, config):
    """A fresh run of a `ModernGPT`: weights drawn from `random.Random(config.seed)`, which then draws
    the batches and (with dropout) each step's masks; trained by `batch_train.train_run`."""
    rng = random.Random(config.seed)
    model = model_class(config)(model_config, rng)
    return batch_train.Run(model, ModernAdam(model, config), rng, config)


def resume_run(path, model_config, config, tokenizer, train_docs):
    """The `ModernGPT` run that `batch_train.save_run` wrote to `path`, ready to continue exactly.

    chapter 11's `resume_run` with this chapter's optimizer: the checkpoint's model is a `ModernGPT`
    (its config records the options), rebuilt with the same checks: the same model and run settings,
    tokenizer and training data.
    """
    return batch_train.resume_run(path, model_config, config, tokenizer, train_docs,
                                  make_optimizer=ModernAdam, make_model=model_class(config))


def split_settings(settings):
    """A flat dict of settings (a preset) -> the `ModernConfig` fields and the `ModernRunConfig` fields."""
    model_fields = {f.name for f in dataclasses.fields(ModernConfig)}
    run_fields = {f.name for f in dataclasses.fields(ModernRunConfig)}
    unknown = set(settings) - model_fields - run_fields
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; the model takes {sorted(model_fields)}, the run {sorted(run_fields)}")
    return ({k: v for k, v in settings.items() if k in model_fields}, {k: v for k, v in settings.items() if k in run_fields})


# chapter 11's --preset big, and makemore's transformer as near as this engine builds it: 4 layers of
# 64, LayerNorm (without gain and bias), GELU (tanh form), AdamW 5e-4 with weight decay 0.01, a constant
# learning rate, batches of 32; it differs from makemore's in its biases (none), its init (ours) and its
# weights' decay (all of them here; makemore decays all of them too, through torch's AdamW)
BIG = dict(batch_train.PRESETS["big"])
MAKEMORE = dict(n_embd=64, n_head=4, n_layer=4, block_size=16, norm="layernorm", activation="gelu", batch_size=32,
                lr=5e-4, beta1=0.9, beta2=0.99, weight_decay=0.01, schedule="constant", warmup_steps=0,
                eval_every=250, save_every=1000)

# the changes that helped alone over a short budget (500 of big's steps; data/ablations.json): ReLU^2,
# wider and shallower (96 x 2 instead of 64 x 3), batches of 16. Combined and trained 11 times as long,
# they lost to --preset big (data/final_table.json, validation); of them only ReLU^2 kept a gain at that
# budget (data/ablations_long.json, validation). At the target's budget (5 minutes: the time of 18,000
# of big's steps) the runs overfit, and dropout, worse over a short budget, is what gains: the search of
# data/recipe_search.json (validation) chose ReLU^2 with dropout 0.1, chapter 11's shape and settings
# (the first recipe: 15,598 steps, data/final_table_5min.json).
SHORT_BUDGET_WINNERS = dict(activation="relu2", n_embd=96, n_layer=2, batch_size=16)
FIRST_RECIPE_CHANGES = dict(activation="relu2", dropout=0.1)
# On chapter 13's fast engine (modern_fast: a step about twice as cheap) the same 5 minutes buy a fourth
# layer (data/recipe_search_fast.json), and a moving average of the weights with d = 0.9998 gains more than
# any other change (data/recipe_averages.json: validation 1.9631 -> 1.9422 on the same run); all chosen on
# validation. The recipe: big with ReLU^2, 4 layers, dropout 0.1 and the average, on the fast engine.
MODERN_CHANGES = dict(activation="relu2", n_layer=4, dropout=0.1, average=0.9998, engine="manual")
# as long as 18,000 of big's steps take on the numpy engine: the final table's bench
# (data/final_table_fast.json) timed a step of this recipe at 0.665 of big's, and makemore's (on the fast
# engine too) at 0.652; warm-up 200/5500 of the run, as big's
MODERN = {**BIG, **MODERN_CHANGES, "num_steps": 27068, "warmup_steps": 984, "eval_every": 2500, "save_every": 2500}
PRESETS = {"modern": MODERN, "makemore": {**MAKEMORE, "num_steps": 27607, "eval_every": 2500, "engine": "manual"}}
