"""Fused scalar operations: still `Value`s, but one node where the scalar engine makes dozens.

A dot product of 16 numbers is 32 nodes in `nn.linear` (a `*` and a `+` per term); here it
is one node whose children are the 16 weights and the 16 inputs, with one local gradient
per child (the other factor's data). Softmax followed by the negative log-likelihood is one
node (local gradients `p - onehot`); an attention logit is one node, and so is each output
of a head's softmax and weighted sum; rmsnorm's scale factor is one node; a relu that is
off is cut from the graph. About 8 times fewer nodes than the scalar engine for a name,
and `backward` is `Value.backward`, unchanged: the chain rule does not care how much
arithmetic a node hides.

Every forward value is computed in the scalar engine's floating-point order (left-to-right
sums starting from the integer 0, `a / b` as `a * b**-1`), so the logits, the losses and
the samples are the scalar engine's bit for bit. Gradients are added up in another order,
so they agree to about 1e-15, not to the last bit.
"""
import math
from functools import reduce
from operator import add, attrgetter, mul

from .autograd import Value
from .model import GPT
from .optim import Adam, check_num_steps
from .train import diverged

_data = attrgetter("data")


def datas(xs):
    """The plain floats inside a list of `Value`s."""
    return list(map(_data, xs))


def dot(a, b):
    """a[0]*b[0] + a[1]*b[1] + ..., on floats, added left to right from 0 as Python's sum() of `Value`s does.

    Not sum(): from Python 3.12 on, sum() of floats compensates rounding errors, and the
    result could differ from the scalar chain in the last bit.
    """
    return reduce(add, map(mul, a, b), 0)


def total(xs):
    """xs[0] + xs[1] + ..., on floats, left to right from 0 (see `dot`)."""
    return reduce(add, xs, 0)


def softmax_floats(z):
    """`nn.softmax` on plain floats, in the same order: max subtracted, exp, times total**-1."""
    max_val = max(z)
    exps = [math.exp(zi - max_val) for zi in z]  # zi - m is zi + (-m) exactly, as in Value
    inv_total = total(exps) ** -1  # e / total is e * total**-1 in the scalar engine
    return [e * inv_total for e in exps]


# fused operations: the value and its local gradients, side by side


def linear(x, w):
    """w @ x: one node per row of `w`, its children the row's weights and then `x`."""
    # y = sum_i w_i x_i, so dy/dw_i = x_i and dy/dx_i = w_i
    x_data, x = datas(x), tuple(x)
    out = []
    for row in w:
        w_data = datas(row)
        out.append(Value(dot(w_data, x_data), (*row, *x), (*x_data, *w_data), "linear"))
    return out


def rmsnorm(x):
    """x * s with s = (mean(x^2) + 1e-5)^(-1/2): one node for s, then one multiply per element."""
    # ds/dx_j = -1/2 (ms + 1e-5)^(-3/2) * dms/dx_j, with dms/dx_j = 2 x_j / n
    x_data, n = datas(x), len(x)
    ms = dot(x_data, x_data) * n**-1
    ds_dms = -0.5 * (ms + 1e-5) ** -1.5
    scale = Value((ms + 1e-5) ** -0.5, tuple(x), tuple(ds_dms * 2 * xj / n for xj in x_data), "rms_scale")
    return [xi * scale for xi in x]


def relu(x):
    """max(0, x) for each element; a unit that is off becomes a constant, cut from the graph."""
    # d relu/dx is 1 above 0 and 0 elsewhere: a 0 sends nothing back, so backward need not visit x at all
    return [Value(xi.data, (xi,), (1.0,), "relu") if xi.data > 0 else Value(0) for xi in x]  # 0: max(0, x)


def softmax_nll(logits, target):
    """-log(softmax(logits)[target]) as one node, the loss of one position."""
    # L = -z_t + log(sum_j exp(z_j)), so dL/dz_i = p_i - [i == t]
    probs = softmax_floats(datas(logits))
    loss = math.log(probs[target]) * -1  # -a is a * -1 in the scalar engine
    local_grads = tuple(p - (i == target) for i, p in enumerate(probs))
    return Value(loss, tuple(logits), local_grads, "softmax_nll")


def mean(xs):
    """(1 / n) * (xs[0] + ... + xs[n-1]) as one node."""
    # d mean / d x_i = 1 / n
    n = len(xs)
    return Value(total(datas(xs)) * (1 / n), tuple(xs), (1 / n,) * n, "mean")


def attn_logits(q_h, k_h):
    """q_h . k / sqrt(head_dim) for each cached key k: one node each, children q_h then k."""
    # a = c * sum_j q_j k_j with c = 1/sqrt(head_dim), so da/dq_j = c k_j and da/dk_j = c q_j
    c = (len(q_h) ** 0.5) ** -1  # x / d is x * d**-1 in the scalar engine
    q_data, q_h = datas(q_h), tuple(q_h)
    out = []
    for k in k_h:
        k_data = datas(k)
        local_grads = (*[c * kj for kj in k_data], *[c * qj for qj in q_data])
        out.append(Value(dot(q_data, k_data) * c, (*q_h, *k), local_grads, "attn_logit"))
    return out


def attend(logits, v_h, attn_log=None):
    """softmax(logits) @ v_h: one node per output j, its children the logits and then v_h[t][j] for every t."""
    # o_j = sum_t w_t v_tj with w = softmax(a): do_j/dv_tj = w_t, and, since dw_t/da_s = w_t ([t == s] - w_s),
    # do_j/da_s = sum_t v_tj w_t ([t == s] - w_s) = w_s (v_sj - o_j)
    weights = softmax_floats(datas(logits))
    if attn_log is not None:
        attn_log.append(weights)
    logits = tuple(logits)
    out = []
    for j in range(len(v_h[0])):
        v_j = [v[j] for v in v_h]
        v_data = datas(v_j)
        o_j = dot(weights, v_data)
        local_grads = (*[w * (v - o_j) for w, v in zip(weights, v_data)], *weights)
        out.append(Value(o_j, (*logits, *v_j), local_grads, "attend"))
    return out


def attention(q, keys, values, n_head, attn_log=None):
    """`model.attention` with fused nodes: each head's logits against the cached keys, then attend."""
    head_dim = len(q) // n_head
    x_attn = []
    for hs in range(0, n_head * head_dim, head_dim):
        logits = attn_logits(q[hs : hs + head_dim], [k[hs : hs + head_dim] for k in keys])
        x_attn.extend(attend(logits, [v[hs : hs + head_dim] for v in values], attn_log))
    return x_attn


class FusedGPT:
    """A `model.GPT` run with fused nodes: the same parameters (shared, not copied), the same numbers."""

    def __init__(self, model):
        self.model = model
        self.config = model.config
        self.state_dict = model.state_dict
        self.params = model.params

    def empty_cache(self):
        """Fresh per-layer lists of keys and values: a new document starts with no past."""
        return self.model.empty_cache()

    def __call__(self, token_id, pos_id, keys, values, attn_log=None):
        """The logits of the next token, given this token, its position and the cache of the past."""
        c, sd = self.config, self.state_dict
        if not 0 <= token_id < c.vocab_size:
            raise ValueError(f"token id {token_id} is outside the vocabulary of vocab_size={c.vocab_size}")
        if not 0 <= pos_id < c.block_size:
            raise ValueError(f"position {pos_id} is outside the context of block_size={c.block_size}")
        x = [t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])]
        x = rmsnorm(x)
        for li in range(c.n_layer):
            x_residual = x
            x = rmsnorm(x)
            q = linear(x, sd[f"layer{li}.attn_wq"])
            keys[li].append(linear(x, sd[f"layer{li}.attn_wk"]))
            values[li].append(linear(x, sd[f"layer{li}.attn_wv"]))
            x_attn = attention(q, keys[li], values[li], c.n_head, attn_log)
            x = linear(x_attn, sd[f"layer{li}.attn_wo"])
            x = [a + b for a, b in zip(x, x_residual)]
            x_residual = x
            x = linear(relu(linear(rmsnorm(x), sd[f"layer{li}.mlp_fc1"])), sd[f"layer{li}.mlp_fc2"])
            x = [a + b for a, b in zip(x, x_residual)]
        return linear(x, sd["lm_head"])

    attention_maps = GPT.attention_maps  # it only calls the model, so it works on this one unchanged


def document_loss(model, tokens):
    """The mean negative log-likelihood of each next token of a tokenized document (`model`: a FusedGPT)."""
    n = min(model.config.block_size, len(tokens) - 1)
    if n < 1:
        raise ValueError(f"a document needs at least 2 tokens (BOS, ..., BOS), got {tokens!r}")
    keys, values = model.empty_cache()
    losses = [softmax_nll(model(tokens[pos_id], pos_id, keys, values), tokens[pos_id + 1]) for pos_id in range(n)]
    return mean(losses)


def train(model, tokenizer, docs, num_steps, optimizer=None, callback=None, start_step=0):
    """`train.train` with the fused model and loss: the same steps, the same losses, several times faster."""
    check_num_steps(num_steps)
    if not docs:
        raise ValueError("no documents to train on")
    optimizer = Adam(model.params, num_steps) if optimizer is None else optimizer
    loss_history = []
    for step in range(start_step, num_steps):
        tokens = tokenizer.tokenize(docs[step % len(docs)])
        try:
            loss = document_loss(model, tokens)
        except (ArithmeticError, ValueError) as err:  # log(0) or exp overflow: the weights blew up
            raise diverged(step, f"infinite ({err})") from None
        if not math.isfinite(loss.data):
            raise diverged(step, loss.data)
        loss.backward()
        optimizer.step(step)
        loss_history.append(loss.data)
        if callback is not None:
            callback(step, num_steps, loss.data)
    return loss_history
