"""microgpt the llm.c way: every layer's backward derived by hand, a fixed sequence of array operations, no graph.

The Tensor engine (`tensor.py`) records a graph of ~50 nodes a step and walks it back. Here each layer
is a pair of functions, as in llm.c's `train_gpt2.c`: `*_forward` returns its output and a cache (what
the backward needs), `*_backward` takes the gradient of the output and the cache and returns the
gradient of the input, adding (`+=`) the gradients of its parameters into the model's one flat
gradient array. The whole backward pass is written out in `ManualGPT.backward`, in reverse order
of the forward. Chapter 09b derives each formula; tests/test_manual.py checks each one against
finite differences and the whole model against the Tensor engine.

Activations are 2-D: every position of every name is a row, (B*T, C), so each linear layer is one
matrix product; only attention looks at the (B, T) structure. Same parameters, in the same flat
layout, as `NumpyGPT` (this class is one), so weights, checkpoints and Adam are shared.
"""

import numpy as np

from . import numpy_model
from .numpy_model import Adam, NumpyGPT, pad_batch
from .tensor import Tensor

LAYER_MATRICES = ("attn_wo", "mlp_fc1", "mlp_fc2")  # after wq, wk, wv, which go as one matrix

__all__ = ["ManualGPT", "Adam", "document_loss", "batch_loss", "masked_loss", "train", "sample_names"]


# ---------------------------------------------------------------- embedding: x[b, t] = wte[ids[b, t]] + wpe[t]

def embedding_forward(wte, wpe, ids):
    """(B, T) token ids -> (B*T, C): each position's token row plus its position row."""
    B, T = ids.shape
    return (wte[ids] + wpe[:T]).reshape(B * T, -1), ids


def embedding_backward(dout, ids, dwte, dwpe):
    """A picked row receives the gradient of every position that picked it (added: a token can repeat)."""
    B, T = ids.shape
    np.add.at(dwte, ids.ravel(), dout)
    dwpe[:T] += dout.reshape(B, T, -1).sum(axis=0)


# ---------------------------------------------------------------- rmsnorm: y = x * s, s = (mean(x^2) + eps)^-1/2

def row_mean(x, columns={}):
    """The mean of each row of x (N, C), as (N, 1), by one matrix product with a column of 1/C (made once per C):
    one NumPy call, where x.sum(axis=-1, keepdims=True) / C is two and the first goes through a Python wrapper
    (rmsnorm's forward measured about a quarter faster at microgpt's size)."""
    C = x.shape[-1]
    if C not in columns:
        columns[C] = np.full((C, 1), 1 / C)
    return x @ columns[C]


def rmsnorm_forward(x, eps=1e-5):
    """Each row divided by its root mean square (no gain: microgpt's rmsnorm has none)."""
    scale = (row_mean(x * x) + eps) ** -0.5
    out = x * scale
    return out, (out, scale)


def rmsnorm_backward(dout, cache):
    """dx = s * (dy - y * mean(dy * y)) per row: the s^3 x x^T / n of the Jacobian, written with y = s x."""
    out, scale = cache
    return scale * (dout - out * row_mean(dout * out))


# ---------------------------------------------------------------- linear: y = x W^T (W is nout x nin, no bias)

def linear_forward(x, w):
    """Every row of x times every row of w: (N, nin) -> (N, nout). The cache is x."""
    return x @ w.T, x


def linear_backward(dout, x, w, dw):
    """dW += dy^T x (each weight sums over the rows it touched); returns dx = dy W."""
    dw += dout.T @ x
    return dout @ w


# ---------------------------------------------------------------- relu: y = max(x, 0)

def relu_forward(x):
    out = np.maximum(x, 0.0)
    return out, out


def relu_backward(dout, out):
    """The gradient passes where the input was positive, which is where the output is."""
    return dout * (out > 0)


# ---------------------------------------------------------------- causal attention, every head at once

def causal_mask(T, cache={}):
    """(T, T): 0 on and below the diagonal, -inf above (a position never sees its future); made once per T."""
    if T not in cache:
        cache[T] = np.triu(np.full((T, T), -np.inf), k=1)
    return cache[T]


def attention_forward(qkv, B, T, n_head):
    """qkv (B*T, 3C), the three projections side by side -> (B*T, C), every head's output in order.

    Per head: att = softmax(q k^T / sqrt(head_dim) + mask), out = att v; head h is the slice
    h*head_dim:(h+1)*head_dim of each vector, as in the scalar model.
    """
    C = qkv.shape[1] // 3
    head_dim = C // n_head
    # (B*T, 3C) -> (3, B, n_head, T, head_dim): q, k and v of each head, as views
    q, k, v = qkv.reshape(B, T, 3, n_head, head_dim).transpose(2, 0, 3, 1, 4)
    scale = (head_dim**0.5) ** -1  # microgpt divides by sqrt(head_dim): x / y is x * y**-1
    att = q @ k.swapaxes(-1, -2)
    att *= scale
    att += causal_mask(T)  # the scores
    att -= att.max(axis=-1, keepdims=True)  # softmax, in place: one array instead of five
    np.exp(att, out=att)
    att /= att.sum(axis=-1, keepdims=True)  # (B, n_head, T, T), 0 above the diagonal
    out = (att @ v).transpose(0, 2, 1, 3).reshape(B * T, C)
    return out, (q, k, v, att, scale)


def attention_backward(dout, cache):
    """From dy: datt = dy v^T, dv = att^T dy, dscores = att * (datt - rowsum(datt * att)) (softmax),
    dq = dscores k * scale, dk = dscores^T q * scale; returned side by side as dqkv (B*T, 3C)."""
    q, k, v, att, scale = cache
    B, n_head, T, head_dim = q.shape
    dout = dout.reshape(B, T, n_head, head_dim).transpose(0, 2, 1, 3)
    datt = dout @ v.swapaxes(-1, -2)
    dscores = att * (datt - (datt * att).sum(axis=-1, keepdims=True))
    dscores *= scale
    dqkv = np.empty((B, T, 3, n_head, head_dim), dtype=dout.dtype)  # float64 here; chapter 13's fast engine: float32
    dq, dk, dv = dqkv.transpose(2, 0, 3, 1, 4)  # views: writing them fills dqkv in place
    np.matmul(dscores, k, out=dq)
    np.matmul(dscores.swapaxes(-1, -2), q, out=dk)
    np.matmul(att.swapaxes(-1, -2), dout, out=dv)
    return dqkv.reshape(B * T, 3 * n_head * head_dim)


# ---------------------------------------------------------------- softmax and the negative log-likelihood

def softmax_nll_forward(logits, targets, weights):
    """loss = -sum_r weights[r] * log(softmax(logits[r])[targets[r]]), over the rows r of logits (N, V)."""
    probs = logits - logits.max(axis=-1, keepdims=True)
    np.exp(probs, out=probs)
    probs /= probs.sum(axis=-1, keepdims=True)
    rows = np.arange(len(targets))
    loss = -(np.log(probs[rows, targets]) @ weights)  # as microgpt: softmax, then -log of the target's probability
    return loss, (probs, rows, targets, weights)


def softmax_nll_backward(cache):
    """dlogits = weight * (probs - onehot(target)), row by row (the gradient of the loss itself is 1)."""
    probs, rows, targets, weights = cache
    dlogits = probs * weights[:, None]
    dlogits[rows, targets] -= weights
    return dlogits


# ---------------------------------------------------------------- the model: the layers in order, and back

class ManualGPT(NumpyGPT):
    """microgpt's model with a hand-written backward: `NumpyGPT`'s weights, plus one flat gradient array.

    `grad` has the shape of `flat`, in the same order, and `grads[name]` is a view of it for each
    matrix; `backward` adds into it, `zero_grad` clears it (`params` is the one flat array, for Adam).
    `layers[i]` holds layer i's matrices as the forward uses them, (wqkv, wo, fc1, fc2), and
    `layer_grads[i]` their gradients: wq, wk, wv are next to each other in `flat`, so wqkv views
    them as one (3C, C) matrix, and one matrix product gives q, k and v.
    """

    def __init__(self, config, rng=None, flat=None):
        super().__init__(config, rng, flat)
        self.grad = np.zeros_like(self.flat)
        self.weights, self.grads, offsets, start = {}, {}, {}, 0
        for name, p in self.state_dict.items():
            self.weights[name] = p.data  # views of flat
            self.grads[name] = self.grad[start : start + p.data.size].reshape(p.shape)
            offsets[name], start = start, start + p.data.size
        C = config.n_embd
        self.layers, self.layer_grads = [], []
        for li in range(config.n_layer):
            start = offsets[f"layer{li}.attn_wq"]
            qkv = slice(start, start + 3 * C * C)  # wq, wk, wv, one after the other
            for matrices, flat, table in ((self.layers, self.flat, self.weights),
                                          (self.layer_grads, self.grad, self.grads)):
                others = (table[f"layer{li}.{name}"] for name in LAYER_MATRICES)
                matrices.append((flat[qkv].reshape(3 * C, C), *others))
        # Adam sees one parameter, the flat array, and the flat gradient: it copies one array, not one per matrix
        self.params = [Tensor(self.flat)]

    def zero_grad(self):
        """Clear the gradients, and show them to Adam (which reads p.grad of every parameter, then drops it)."""
        self.grad.fill(0.0)
        self.params[0].grad = self.grad

    def forward(self, ids):
        """logits (B*T, vocab_size) of the next token at every position of ids (B, T), and every layer's cache."""
        c, w = self.config, self.weights
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"ids must be a (batch, positions) array of token ids, got shape {ids.shape}")
        B, T = ids.shape
        if T > c.block_size:
            raise ValueError(f"{T} positions do not fit in the context of block_size={c.block_size}")
        x, embedding_cache = embedding_forward(w["wte"], w["wpe"], ids)
        x, norm_cache = rmsnorm_forward(x)
        caches = [embedding_cache, norm_cache]
        for wqkv, wo, fc1, fc2 in self.layers:
            xn, norm1 = rmsnorm_forward(x)
            qkv, qkv_cache = linear_forward(xn, wqkv)
            y, attention_cache = attention_forward(qkv, B, T, c.n_head)
            y, wo_cache = linear_forward(y, wo)
            y += x  # the residual: x = y + x, in place
            x = y
            xn, norm2 = rmsnorm_forward(x)
            h, fc1_cache = linear_forward(xn, fc1)
            h, relu_cache = relu_forward(h)
            y, fc2_cache = linear_forward(h, fc2)
            y += x
            x = y
            caches.append((norm1, qkv_cache, attention_cache, wo_cache, norm2, fc1_cache, relu_cache, fc2_cache))
        logits, head_cache = linear_forward(x, w["lm_head"])
        caches.append(head_cache)
        return logits, caches

    def backward(self, dlogits, caches):
        """Add the gradient of every weight into `grad`, from dlogits (B*T, vocab_size): the forward, reversed."""
        w, g = self.weights, self.grads
        dx = linear_backward(dlogits, caches[-1], w["lm_head"], g["lm_head"])
        for li in reversed(range(self.config.n_layer)):
            norm1, qkv_cache, attention_cache, wo_cache, norm2, fc1_cache, relu_cache, fc2_cache = caches[2 + li]
            (wqkv, wo, fc1, fc2), (dwqkv, dwo, dfc1, dfc2) = self.layers[li], self.layer_grads[li]
            # x = mlp(rmsnorm(x)) + x: the gradient reaches x by both paths, and the two add
            dh = linear_backward(dx, fc2_cache, fc2, dfc2)
            dh = relu_backward(dh, relu_cache)
            dxn = linear_backward(dh, fc1_cache, fc1, dfc1)
            dxn = rmsnorm_backward(dxn, norm2)
            dxn += dx  # the residual's two paths: dx = rmsnorm_backward(...) + dx
            dx = dxn
            # x = attention(rmsnorm(x)) + x
            dy = linear_backward(dx, wo_cache, wo, dwo)
            dqkv = attention_backward(dy, attention_cache)
            dxn = linear_backward(dqkv, qkv_cache, wqkv, dwqkv)
            dxn = rmsnorm_backward(dxn, norm1)
            dxn += dx
            dx = dxn
        dx = rmsnorm_backward(dx, caches[1])
        embedding_backward(dx, caches[0], g["wte"], g["wpe"])

    def __call__(self, ids):
        """The logits as `NumpyGPT` gives them (an array in `.data`, (B, T, vocab_size)), for sampling and evaluate."""
        ids = np.asarray(ids)
        logits, _ = self.forward(ids)
        return Tensor(logits.reshape(*ids.shape, -1))  # a Tensor with no graph behind it: just its .data


class Loss:
    """A loss and the way back to the weights: `backward()` adds d(loss)/d(weight) into `model.grad`.

    Like the Tensor engine, gradients accumulate until the optimizer has used them (Adam drops
    every `p.grad`; the next backward then starts from zeros).
    """

    def __init__(self, model, data, dlogits_fn, caches):
        self.model, self.data, self._dlogits, self._caches = model, data, dlogits_fn, caches

    def backward(self):
        if self.model.params[0].grad is None:  # Adam used the last gradients: start again from zero
            self.model.zero_grad()
        self.model.backward(self._dlogits(), self._caches)


def weighted_loss(model, token_lists, per_name):
    """The loss of a padded batch: each real prediction weighted, padding weighted 0."""
    inputs, targets, mask = pad_batch(token_lists, model.config.block_size, pad_id=0)
    if per_name:  # microgpt's: 1/n_b of each name, 1/B of the batch
        weights = mask / mask.sum(axis=1, keepdims=True) / len(token_lists)
    else:  # chapter 11's: every predicted character the same
        weights = mask / mask.sum()
    logits, caches = model.forward(inputs)
    loss, nll_cache = softmax_nll_forward(logits, targets.ravel(), weights.ravel())
    return Loss(model, loss, lambda: softmax_nll_backward(nll_cache), caches)


def batch_loss(model, token_lists):
    """The mean over documents of each document's mean next-token loss (as `numpy_model.batch_loss`)."""
    return weighted_loss(model, token_lists, per_name=True)


def masked_loss(model, token_lists, rng=None):
    """The mean next-token loss over every real prediction of the batch (as `batch_train.masked_loss`).

    `rng` is in the signature because `batch_train.train_run` passes its generator to a model that
    draws (chapter 13's dropout); this model draws nothing.
    """
    return weighted_loss(model, token_lists, per_name=False)


def document_loss(model, tokens):
    """The mean negative log-likelihood of each next token of one tokenized document (microgpt's step)."""
    n = min(model.config.block_size, len(tokens) - 1)
    if n < 1:
        raise ValueError("every document needs at least 2 tokens (BOS, ..., BOS)")
    tokens = np.asarray(tokens[: n + 1])  # one name needs no padding: no pad_batch, no mask
    logits, caches = model.forward(tokens[None, :n])
    loss, nll_cache = softmax_nll_forward(logits, tokens[1:], np.full(n, 1 / n))
    return Loss(model, loss, lambda: softmax_nll_backward(nll_cache), caches)


def train(model, tokenizer, docs, num_steps, optimizer=None, callback=None, start_step=0):
    """microgpt's training loop on this engine: `numpy_model.train`'s loop with this engine's `document_loss`."""
    return numpy_model.train(model, tokenizer, docs, num_steps, optimizer, callback, start_step, loss_of=document_loss)


def sample_names(model, tokenizer, rng, num_samples=20, temperature=0.5):
    """New names drawn as `numpy_model.sample_names` draws them (it calls this model's forward)."""
    return numpy_model.sample_names(model, tokenizer, rng, num_samples, temperature)
