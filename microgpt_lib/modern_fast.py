"""Chapter 13's ModernGPT, fast: every backward by hand (chapter 09b's way), padding skipped, float32 arithmetic.

The recipe's runs are many and long (chapter 13 trains for five minutes), so their engine matters.
`FastModernGPT` is a `ModernGPT` (same weights, drawn the same way; same checkpoints; its forward for
evaluation and sampling is `ModernGPT`'s, in float64) whose training step is written out as in
`manual.py`, with three savings:

1. no graph: each layer's forward returns what its backward needs, and `backward` runs them in reverse;
2. real positions only: a batch of names padded to its longest is about a third padding, and every layer
   but attention works on rows, so they run on the real positions alone (attention scatters them back
   into the (B, T) rectangle; a real position never sees the padding after it, so nothing changes);
3. float32 arithmetic (`dtype`), with the weights and Adam kept in float64 (mixed precision, as chapter 14
   does it on a GPU): the same matrix products at twice the numbers per instruction.

With `dtype=np.float64` a step equals `ModernGPT`'s to rounding (tests/test_modern_fast.py), dropout's masks
included: they are drawn as `ModernGPT` draws them, over the whole (B, T, C) rectangle, then the real rows
kept. It builds the options the recipes use: rmsnorm or layernorm; ReLU, ReLU^2 or GELU; learned positions;
dropout. The others (RoPE, QK-norm, SwiGLU, tied weights) stay on `ModernGPT`.
"""
import numpy as np

from .manual import attention_backward, attention_forward  # chapter 09b's, in the precision they are given
from .modern import ModernGPT
from .modern_ops import GELU_C
from .numpy_model import pad_batch
from .tensor import Tensor

LAYER = ("attn_wo", "mlp_fc1", "mlp_fc2")  # after wq, wk and wv, which are side by side: one (3C, C) matrix


def check_fast_options(config):
    """A ValueError naming the options this engine does not build (the others run on ModernGPT)."""
    other = [f"{name}={getattr(config, name)!r}" for name, fast in
             (("activation", ("relu", "relu2", "gelu")), ("position", ("learned",)), ("qk_norm", (False,)),
              ("tie_weights", (False,))) if getattr(config, name) not in fast]
    if other:
        raise ValueError(f"the fast engine builds rmsnorm or layernorm, relu, relu2 or gelu, learned positions "
                         f"and dropout, not {', '.join(other)}: train this model on the numpy engine (ModernGPT)")


# ---------------------------------------------------------------- the rows' layers: forward, and back

def norm_forward(x, kind, eps=1e-5):
    """rmsnorm (x s, s = (mean(x^2) + eps)^-1/2) or layernorm (the same on x - mean(x)), per row."""
    if kind == "layernorm":
        x = x - x.mean(axis=-1, keepdims=True)
    scale = ((x * x).mean(axis=-1, keepdims=True) + eps) ** -0.5
    out = x * scale
    return out, (out, scale, kind)


def norm_backward(dout, cache):
    """rmsnorm: s (g - y mean(g y)); layernorm takes the mean of g out as well (modern_ops.layernorm)."""
    out, scale, kind = cache
    dx = dout - out * (dout * out).mean(axis=-1, keepdims=True)
    if kind == "layernorm":
        dx -= dout.mean(axis=-1, keepdims=True)
    dx *= scale
    return dx


def activation_forward(h, kind):
    if kind == "relu":
        return np.maximum(h, 0), h
    if kind == "relu2":
        positive = np.maximum(h, 0)
        return positive * positive, positive
    t = np.tanh(GELU_C * (h + 0.044715 * h * h * h))  # gelu, tanh form
    return 0.5 * h * (1 + t), (h, t)


def activation_backward(dout, cache, kind):
    """relu: g [h > 0]; relu2: g 2 max(h, 0); gelu: g (0.5 (1 + t) + 0.5 h (1 - t^2) du/dh)."""
    if kind == "relu":
        return dout * (cache > 0)
    if kind == "relu2":
        return dout * (2 * cache)
    h, t = cache
    return dout * (0.5 * (1 + t) + 0.5 * h * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * h * h))


def one_hot(ids, n, dtype):
    """(len(ids), n): row r is 1 at column ids[r] (a scatter-add as a matrix product: one BLAS call)."""
    return (ids[:, None] == np.arange(n)).astype(dtype)


# ---------------------------------------------------------------- the model

class FastLoss:
    """The batch's loss (`data`) and `backward()`, which adds d(loss)/d(weights) into `model.grad`
    (as `manual.Loss`: gradients add up until the optimizer has used them)."""

    def __init__(self, model, data, cache):
        self.model, self.data, self._cache = model, data, cache

    def backward(self):
        if self.model.params[0].grad is None:  # Adam used the last gradients: start again from zero
            self.model.zero_grad()
        self.model.backward(self._cache)


class FastModernGPT(ModernGPT):
    """`ModernGPT` with a hand-written training step on the real positions, in `dtype` (float32 by default).

    `flat` (float64) holds the weights, as in every engine; each step works on a copy in `dtype`, and its
    gradient is added into `grad` (float64, the shape of `flat`), which Adam reads as the one parameter's.
    """

    def __init__(self, config, rng=None, flat=None, dtype=np.float32):
        check_fast_options(config)
        super().__init__(config, rng, flat)
        self.dtype = np.dtype(dtype)
        self.grad = np.zeros_like(self.flat)
        self.slices, start = {}, 0
        for name, p in self.state_dict.items():
            self.slices[name] = (slice(start, start + p.data.size), p.shape)
            start += p.data.size
        C = config.n_embd
        for li in range(config.n_layer):  # wq, wk, wv one after another in flat: one (3C, C) matrix
            wq = self.slices[f"layer{li}.attn_wq"][0].start
            self.slices[f"layer{li}.attn_wqkv"] = (slice(wq, wq + 3 * C * C), (3 * C, C))
        self.params = [Tensor(self.flat)]  # Adam sees one parameter and its one gradient

    def zero_grad(self):
        self.grad.fill(0.0)
        self.params[0].grad = self.grad

    def views(self, flat):
        """Every matrix of `flat` (this model's layout) by name, as views: the layers' (3C, C) wqkv too."""
        return {name: flat[where].reshape(shape) for name, (where, shape) in self.slices.items()}

    def masked_loss(self, token_lists, rng=None):
        """`batch_train.masked_loss`: the mean loss per real prediction of the batch, with dropout's masks
        drawn from `rng` (the run's generator) when the model has dropout; `backward()` fills `grad`."""
        c = self.config
        inputs, targets, mask = pad_batch(token_lists, c.block_size, pad_id=0)
        B, T = inputs.shape
        keep = np.flatnonzero(mask.ravel())  # the real positions, as rows of the (B*T, C) rectangle
        p = c.dropout if rng is not None else 0.0
        generator = np.random.default_rng(rng.getrandbits(64)) if p else None  # as ModernGPT draws

        def dropout_mask():  # ModernGPT's mask over the whole rectangle; its real rows
            drawn = generator.random((B * T, c.n_embd))[keep] >= p
            return (drawn / (1.0 - p)).astype(self.dtype)

        flat = self.flat.astype(self.dtype)  # the step's copy of the weights
        w = self.views(flat)
        ids, positions = inputs.ravel()[keep], np.tile(np.arange(T), B)[keep]
        x, emb_norm = norm_forward(w["wte"][ids] + w["wpe"][positions], c.norm)
        mask_emb = dropout_mask() if p else None
        x = x * mask_emb if p else x
        layers = []
        for li in range(c.n_layer):
            wqkv, wo, fc1, fc2 = (w[f"layer{li}.{name}"] for name in ("attn_wqkv", *LAYER))
            xn1, norm1 = norm_forward(x, c.norm)
            qkv = np.zeros((B * T, 3 * c.n_embd), dtype=self.dtype)
            qkv[keep] = xn1 @ wqkv.T  # padding's rows stay 0: no real position attends to them
            y_all, att = attention_forward(qkv, B, T, c.n_head)
            y_att = y_all[keep]
            y = y_att @ wo.T
            mask_att = dropout_mask() if p else None
            x = x + (y * mask_att if p else y)
            xn2, norm2 = norm_forward(x, c.norm)
            h = xn2 @ fc1.T
            a, act = activation_forward(h, c.activation)
            y = a @ fc2.T
            mask_mlp = dropout_mask() if p else None
            x = x + (y * mask_mlp if p else y)
            layers.append((xn1, norm1, att, y_att, mask_att, xn2, norm2, a, act, mask_mlp))
        logits = x @ w["lm_head"].T  # (N, vocab_size): the real positions only
        log_probs = logits - logits.max(axis=-1, keepdims=True)  # log_softmax: never log(0)
        log_probs -= np.log(np.exp(log_probs).sum(axis=-1, keepdims=True))
        rows, target_ids = np.arange(len(keep)), targets.ravel()[keep]
        loss = -log_probs[rows, target_ids].astype(np.float64).mean()
        probs = np.exp(log_probs)
        cache = (B, T, keep, ids, positions, w, emb_norm, mask_emb, layers, x, probs, rows, target_ids)
        return FastLoss(self, np.float64(loss), cache)

    def backward(self, cache):
        """Add the gradient of the loss into `grad`: the forward of `masked_loss`, in reverse."""
        B, T, keep, ids, positions, w, emb_norm, mask_emb, layers, x, probs, rows, target_ids = cache
        c, n = self.config, len(keep)
        grad = np.zeros(self.flat.size, dtype=self.dtype)
        g = self.views(grad)
        dlogits = probs / n  # d(mean of -log p[target]) / d logits = (probs - onehot) / N
        dlogits[rows, target_ids] -= 1.0 / n
        g["lm_head"][...] = dlogits.T @ x
        dx = dlogits @ w["lm_head"]
        for li in reversed(range(c.n_layer)):
            xn1, norm1, att, y_att, mask_att, xn2, norm2, a, act, mask_mlp = layers[li]
            wqkv, wo, fc1, fc2 = (w[f"layer{li}.{name}"] for name in ("attn_wqkv", *LAYER))
            # x = x + dropout(mlp(norm(x))): dx reaches x by both paths, and the two add
            dy = dx * mask_mlp if mask_mlp is not None else dx
            g[f"layer{li}.mlp_fc2"][...] = dy.T @ a
            dh = activation_backward(dy @ fc2, act, c.activation)
            g[f"layer{li}.mlp_fc1"][...] = dh.T @ xn2
            dx = dx + norm_backward(dh @ fc1, norm2)
            # x = x + dropout(attention(norm(x)))
            dy = dx * mask_att if mask_att is not None else dx
            g[f"layer{li}.attn_wo"][...] = dy.T @ y_att
            dy_all = np.zeros((B * T, c.n_embd), dtype=self.dtype)
            dy_all[keep] = dy @ wo
            dqkv = attention_backward(dy_all, att)[keep]
            g[f"layer{li}.attn_wqkv"][...] = dqkv.T @ xn1
            dx = dx + norm_backward(dqkv @ wqkv, norm1)
        if mask_emb is not None:
            dx = dx * mask_emb
        dx = norm_backward(dx, emb_norm)
        # each table's rows gather the gradient of every position that picked them: one-hot^T @ dx
        g["wte"][...] = one_hot(ids, c.vocab_size, self.dtype).T @ dx
        g["wpe"][...] = one_hot(positions, c.block_size, self.dtype).T @ dx
        self.grad += grad
