"""microgpt in PyTorch: a one-to-one port (`MicroGPT`), then the way PyTorch is usually written (`IdiomaticGPT`).

`MicroGPT` keeps microgpt's parameter names and shapes (its state_dict keys are `wte`, `wpe`,
`lm_head`, `layer0.attn_wq`, ...) and runs one position at a time over a KV cache, exactly as
`microgpt_lib.model.GPT` does, in float64: the same logits, loss and gradients, to rounding.
`IdiomaticGPT` is the same function written as nanoGPT writes it: `nn.Embedding`,
`nn.Linear(bias=False)`, one `CausalSelfAttention` module, a whole (padded) batch of names at once.
Both train with `torch.optim.Adam` and a `LambdaLR` schedule for microgpt's linear decay, and both
load from and export to the course's checkpoints.

PyTorch is an optional extra of the course (`make torch`); this module is the only one that imports it.
"""
import math

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ModuleNotFoundError as err:
    if err.name != "torch":
        raise
    raise ModuleNotFoundError(
        "PyTorch is not installed: run `make torch`, or `pip install torch --index-url https://download.pytorch.org/whl/cpu` "
        "(the CPU build, a few hundred MB)", name="torch"
    ) from None

from .autograd import Value
from .checkpoint import load_checkpoint
from .model import GPT, param_shapes
from .numpy_model import pad_batch
from .optim import check_num_steps
from .sample import check_temperature
from .train import diverged

DTYPE = torch.float64  # microgpt's Python floats are 64-bit


# ---------------------------------------------------------------- one to one: microgpt's names, one position at a time


def rmsnorm(x):
    """x scaled to a root-mean-square of 1, written as microgpt writes it."""
    ms = (x * x).sum() / x.shape[-1]
    return x * (ms + 1e-5) ** -0.5


def softmax(logits):
    """exp(logit - max), divided by the sum (as a * b**-1, as `Value` divides)."""
    exps = (logits - logits.max().detach()).exp()
    return exps * exps.sum() ** -1


class Layer(nn.Module):
    """The six matrices of one transformer layer, named as in microgpt (`attn_wq`, ..., `mlp_fc2`)."""

    def __init__(self, n_embd):
        super().__init__()
        for name, (nout, nin) in [("attn_wq", (n_embd, n_embd)), ("attn_wk", (n_embd, n_embd)),
                                  ("attn_wv", (n_embd, n_embd)), ("attn_wo", (n_embd, n_embd)),
                                  ("mlp_fc1", (4 * n_embd, n_embd)), ("mlp_fc2", (n_embd, 4 * n_embd))]:
            self.register_parameter(name, nn.Parameter(torch.zeros(nout, nin, dtype=DTYPE)))


class MicroGPT(nn.Module):
    """microgpt's model as a torch Module: `state_dict()` has microgpt's names, order and shapes."""

    def __init__(self, config, rng=None):
        """Zeros to load weights into, or, given `rng`, microgpt's draws in microgpt's order (the weights of GPT(config, rng))."""
        super().__init__()
        self.config = config
        c = config
        self.wte = nn.Parameter(torch.zeros(c.vocab_size, c.n_embd, dtype=DTYPE))
        self.wpe = nn.Parameter(torch.zeros(c.block_size, c.n_embd, dtype=DTYPE))
        self.lm_head = nn.Parameter(torch.zeros(c.vocab_size, c.n_embd, dtype=DTYPE))
        for li in range(c.n_layer):
            self.add_module(f"layer{li}", Layer(c.n_embd))  # its parameters are "layer0.attn_wq", ...
        if rng is not None:
            shapes = param_shapes(config)
            draws = {name: [[rng.gauss(0, c.init_std) for _ in range(nin)] for _ in range(nout)]
                     for name, (nout, nin) in shapes.items()}
            self.load_state_dict({name: torch.tensor(rows, dtype=DTYPE) for name, rows in draws.items()})

    @classmethod
    def from_gpt(cls, gpt):
        """The weights of a scalar `GPT` (copied: the two then train independently)."""
        model = cls(gpt.config)
        model.load_state_dict(state_dict_of(gpt))
        return model

    @classmethod
    def from_checkpoint(cls, path):
        """(model, tokenizer) from a file written by `save_checkpoint` or `python -m microgpt_lib train --save`."""
        checkpoint = load_checkpoint(path)
        return cls.from_gpt(checkpoint.model), checkpoint.tokenizer

    def to_gpt(self):
        """A scalar `GPT` with a copy of these weights (to save with `save_checkpoint`, or to check against)."""
        return gpt_from_state_dict(self.state_dict(), self.config)

    def empty_cache(self):
        """Fresh per-layer lists of keys and values: a new document starts with no past."""
        return [[] for _ in range(self.config.n_layer)], [[] for _ in range(self.config.n_layer)]

    def forward(self, token_id, pos_id, keys, values):
        """The logits of the next token (vocab_size,), given this token, its position and the cache of the past."""
        c = self.config
        if not 0 <= token_id < c.vocab_size:
            raise ValueError(f"token id {token_id} is outside the vocabulary of vocab_size={c.vocab_size}")
        if not 0 <= pos_id < c.block_size:
            raise ValueError(f"position {pos_id} is outside the context of block_size={c.block_size}")
        x = rmsnorm(self.wte[token_id] + self.wpe[pos_id])
        for li in range(c.n_layer):
            layer = getattr(self, f"layer{li}")
            x_residual = x
            x = rmsnorm(x)
            q = layer.attn_wq @ x  # linear(x, w) is w @ x
            keys[li].append(layer.attn_wk @ x)
            values[li].append(layer.attn_wv @ x)
            x_attn = attention(q, keys[li], values[li], c.n_head)
            x = layer.attn_wo @ x_attn + x_residual
            x_residual = x
            x = layer.mlp_fc2 @ (layer.mlp_fc1 @ rmsnorm(x)).relu() + x_residual
        return self.lm_head @ x

    def document_loss(self, tokens):
        """The mean negative log-likelihood of each next token of a tokenized document, position by position."""
        n = min(self.config.block_size, len(tokens) - 1)
        if n < 1:
            raise ValueError(f"a document needs at least 2 tokens (BOS, ..., BOS), got {tokens!r}")
        keys, values = self.empty_cache()
        losses = [-softmax(self(tokens[pos_id], pos_id, keys, values))[tokens[pos_id + 1]].log() for pos_id in range(n)]
        return (1 / n) * torch.stack(losses).sum()


def attention(q, keys, values, n_head):
    """Each head's query against every cached key; the heads' weighted values, concatenated."""
    head_dim = q.shape[0] // n_head
    k = torch.stack(keys)  # (positions so far, n_embd): the cache is what makes it causal
    v = torch.stack(values)
    heads = []
    for h in range(n_head):
        hs = slice(h * head_dim, (h + 1) * head_dim)
        attn_logits = (k[:, hs] @ q[hs]) / head_dim**0.5
        attn_weights = softmax(attn_logits)
        heads.append(attn_weights @ v[:, hs])
    return torch.cat(heads)


def state_dict_of(gpt):
    """The weights of a scalar `GPT` as float64 tensors under microgpt's names."""
    return {name: torch.tensor([[p.data for p in row] for row in mat], dtype=DTYPE) for name, mat in gpt.state_dict.items()}


def gpt_from_state_dict(state_dict, config):
    """A scalar `GPT` from tensors under microgpt's names (what `save_checkpoint` takes)."""
    shapes = param_shapes(config)
    if list(state_dict) != list(shapes):
        raise ValueError(f"expected the matrices {list(shapes)} in this order, got {list(state_dict)}")
    scalar = {}
    for name, tensor in state_dict.items():
        if tuple(tensor.shape) != shapes[name]:
            raise ValueError(f"{name} is {tuple(tensor.shape)}, the config needs {shapes[name]}")
        scalar[name] = [[Value(float(x)) for x in row] for row in tensor.detach().cpu().tolist()]
    return GPT(config, state_dict=scalar)


# ---------------------------------------------------------------- the usual way: nanoGPT's layout, a batch at once


class CausalSelfAttention(nn.Module):
    """Every head, every position at once; a position sees only itself and the past."""

    def __init__(self, config):
        super().__init__()
        self.n_head, self.n_embd = config.n_head, config.n_embd
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=False, dtype=DTYPE)  # q, k, v in one matrix
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=False, dtype=DTYPE)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        # (B, T, C) -> (B, n_head, T, head_dim): the heads become a batch dimension
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # softmax(q k^T / sqrt(head_dim) + mask) v
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # the heads side by side again
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=False, dtype=DTYPE)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=False, dtype=DTYPE)

    def forward(self, x):
        return self.c_proj(F.relu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.attn = CausalSelfAttention(config)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(F.rms_norm(x, (x.shape[-1],), eps=1e-5))
        return x + self.mlp(F.rms_norm(x, (x.shape[-1],), eps=1e-5))


class IdiomaticGPT(nn.Module):
    """microgpt written as nanoGPT's model.py: ids (B, T) -> logits (B, T, vocab_size), and the loss given targets."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd, dtype=DTYPE),
            wpe=nn.Embedding(config.block_size, config.n_embd, dtype=DTYPE),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False, dtype=DTYPE)

    @classmethod
    def from_micro(cls, model):
        """The weights of a `MicroGPT` (or of a scalar `GPT`), copied into nanoGPT's layout."""
        idiomatic = cls(model.config)
        idiomatic.load_state_dict(to_idiomatic_names(model.state_dict() if isinstance(model, nn.Module) else state_dict_of(model)))
        return idiomatic

    def to_micro(self):
        """A `MicroGPT` with a copy of these weights under microgpt's names."""
        model = MicroGPT(self.config)
        model.load_state_dict(to_microgpt_names(self.state_dict(), self.config))
        return model

    def forward(self, idx, targets=None, mask=None):
        """(logits, loss): loss is None without targets; `mask` (B, T) is 1 for a real prediction, 0 for padding.

        The loss is microgpt's: each name's mean loss over its own positions, then the mean over names.
        """
        B, T = idx.shape
        if T > self.config.block_size:
            raise ValueError(f"{T} positions do not fit in the context of block_size={self.config.block_size}")
        pos = torch.arange(T, device=idx.device)
        x = F.rms_norm(self.transformer.wte(idx) + self.transformer.wpe(pos), (self.config.n_embd,), eps=1e-5)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(x)
        if targets is None:
            return logits, None
        mask = torch.ones(B, T, dtype=DTYPE) if mask is None else mask.to(DTYPE)
        nll = F.cross_entropy(logits.view(B * T, -1), targets.view(B * T), reduction="none").view(B, T)
        loss = ((nll * mask).sum(dim=1) / mask.sum(dim=1)).mean()
        return logits, loss

    def batch_loss(self, token_lists, pad_id=0):
        """microgpt's loss of several tokenized documents at once, padded to the longest."""
        inputs, targets, mask = (torch.from_numpy(a) for a in pad_batch(token_lists, self.config.block_size, pad_id))
        return self(inputs, targets, mask)[1]

    def document_loss(self, tokens):
        return self.batch_loss([tokens])


def to_idiomatic_names(state_dict):
    """microgpt's names -> nanoGPT's: q, k and v stack into c_attn; each matrix keeps its (out, in) shape."""
    sd = dict(state_dict)
    layers = sorted({name.split(".")[0] for name in sd if name.startswith("layer")}, key=lambda s: int(s[5:]))
    out = {"transformer.wte.weight": sd["wte"], "transformer.wpe.weight": sd["wpe"]}
    for li, layer in enumerate(layers):
        h = f"transformer.h.{li}."
        out[h + "attn.c_attn.weight"] = torch.cat([sd[f"{layer}.attn_wq"], sd[f"{layer}.attn_wk"], sd[f"{layer}.attn_wv"]])
        out[h + "attn.c_proj.weight"] = sd[f"{layer}.attn_wo"]
        out[h + "mlp.c_fc.weight"] = sd[f"{layer}.mlp_fc1"]
        out[h + "mlp.c_proj.weight"] = sd[f"{layer}.mlp_fc2"]
    out["lm_head.weight"] = sd["lm_head"]
    return out


def to_microgpt_names(state_dict, config):
    """nanoGPT's names -> microgpt's, in microgpt's order (c_attn splits into q, k and v)."""
    sd = state_dict
    out = {"wte": sd["transformer.wte.weight"], "wpe": sd["transformer.wpe.weight"], "lm_head": sd["lm_head.weight"]}
    for li in range(config.n_layer):
        h = f"transformer.h.{li}."
        out[f"layer{li}.attn_wq"], out[f"layer{li}.attn_wk"], out[f"layer{li}.attn_wv"] = sd[h + "attn.c_attn.weight"].split(config.n_embd)
        out[f"layer{li}.attn_wo"] = sd[h + "attn.c_proj.weight"]
        out[f"layer{li}.mlp_fc1"] = sd[h + "mlp.c_fc.weight"]
        out[f"layer{li}.mlp_fc2"] = sd[h + "mlp.c_proj.weight"]
    return out


# ---------------------------------------------------------------- training and sampling, for both models


def make_optimizer(model, num_steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8):
    """torch.optim.Adam with microgpt's settings, and a LambdaLR scheduler for its linear decay to 0."""
    check_num_steps(num_steps)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(beta1, beta2), eps=eps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / num_steps)  # lr * (1 - step/num_steps)
    return optimizer, scheduler


def train(model, tokenizer, docs, num_steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8, callback=None):
    """microgpt's training loop in PyTorch: one document a step; returns the loss of every step.

    `callback(step, num_steps, loss)` after each step, as in `microgpt_lib.train.train`.
    """
    check_num_steps(num_steps)
    if not docs:
        raise ValueError("no documents to train on")
    optimizer, scheduler = make_optimizer(model, num_steps, lr, beta1, beta2, eps)
    loss_history = []
    for step in range(num_steps):
        tokens = tokenizer.tokenize(docs[step % len(docs)])
        loss = model.document_loss(tokens)
        if not math.isfinite(loss.item()):
            raise diverged(step, loss.item())
        optimizer.zero_grad()  # torch adds into .grad, as Value's backward does: clear it first
        loss.backward()
        optimizer.step()
        scheduler.step()
        loss_history.append(loss.item())
        if callback is not None:
            callback(step, num_steps, loss.item())
    return loss_history


@torch.no_grad()
def sample(model, tokenizer, rng, temperature=0.5):
    """One new document, drawn with Python's generator `rng` exactly as microgpt draws it."""
    check_temperature(temperature)
    ids = [tokenizer.BOS]
    keys, values = model.empty_cache() if isinstance(model, MicroGPT) else (None, None)
    for pos_id in range(model.config.block_size):
        if isinstance(model, MicroGPT):  # one position at a time, over the cache
            logits = model(ids[-1], pos_id, keys, values)
            probs = softmax(logits * temperature**-1)
        else:  # the whole name so far, every time
            logits = model(torch.tensor([ids]))[0][0, -1]
            probs = F.softmax(logits / temperature, dim=-1)
        token_id = rng.choices(range(tokenizer.vocab_size), weights=probs.tolist())[0]
        if token_id == tokenizer.BOS:
            break
        ids.append(token_id)
    return tokenizer.decode(ids)


def sample_names(model, tokenizer, rng, num_samples=20, temperature=0.5):
    """`num_samples` new documents, one after another from the same generator."""
    if not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"num_samples must be a whole number of at least 1, got {num_samples!r}")
    return [sample(model, tokenizer, rng, temperature) for _ in range(num_samples)]
