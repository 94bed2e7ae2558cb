"""The operations of a modern GPT (chapter 13), as `Tensor` nodes: each forward and its way back side by side.

Chapter 09's engine built every node as "the value, and a function from the gradient of the
value to the gradients of the inputs" (a vector-Jacobian product). These are more of the same:
three activations that replace ReLU, LayerNorm (makemore's normalisation), rotary position
embeddings, and dropout. Each one is checked against finite differences in tests/test_modern.py.
"""
import math

import numpy as np

from .tensor import Tensor


def relu_squared(x):
    """max(x, 0)^2 (modded-nanogpt's and nanochat's MLP): d/dx = 2 max(x, 0)."""
    positive = np.maximum(x.data, 0.0)
    return Tensor(positive * positive, (x,), lambda g: (g * 2.0 * positive,), "relu^2")


GELU_C = math.sqrt(2.0 / math.pi)


def gelu(x):
    """GPT-2's GELU, tanh form: 0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3).

    d/dx = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) du/dx, with du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    """
    xd = x.data
    t = np.tanh(GELU_C * (xd + 0.044715 * xd * xd * xd))
    local = 0.5 * (1.0 + t) + 0.5 * xd * (1.0 - t * t) * GELU_C * (1.0 + 3 * 0.044715 * xd * xd)
    return Tensor(0.5 * xd * (1.0 + t), (x,), lambda g: (g * local,), "gelu")


def silu(x):
    """x sigmoid(x) (SwiGLU's gate): with s = sigmoid(x), d/dx = s (1 + x (1 - s))."""
    s = 0.5 * (1.0 + np.tanh(0.5 * x.data))  # sigmoid, written so that exp cannot overflow
    return Tensor(x.data * s, (x,), lambda g: (g * s * (1.0 + x.data * (1.0 - s)),), "silu")


def layernorm(x, eps=1e-5):
    """(x - mean(x)) / sqrt(var(x) + eps) over the last axis, fused into one node (no gain, no bias).

    With y the output and s = (var + eps)^-1/2, the gradient of x is s (g - mean(g) - y mean(g y)):
    rmsnorm's rule, on the centred x, with the mean's own gradient taken out.
    """
    centred = x.data - x.data.mean(axis=-1, keepdims=True)
    scale = ((centred * centred).mean(axis=-1, keepdims=True) + eps) ** -0.5
    out = centred * scale

    def backward(g):
        return (scale * (g - g.mean(axis=-1, keepdims=True) - out * (g * out).mean(axis=-1, keepdims=True)),)

    return Tensor(out, (x,), backward, "layernorm")


def rope_angles(T, head_dim, base=10000.0):
    """The angle of every (position, pair): position t turns pair i by t * base^(-2i / head_dim)."""
    freqs = base ** (-np.arange(0, head_dim, 2) / head_dim)  # (head_dim / 2,): fast pairs first
    return np.arange(T)[:, None] * freqs[None, :]  # (T, head_dim / 2)


def rope(x, n_head, base=10000.0):
    """Rotary position embeddings on q or k (B, T, C): each head's pairs (x1_i, x2_i) turned by an angle.

    Head h's vector is split in halves x1, x2 (as nanochat); at position t pair i turns by
    a = t * base^(-2i/head_dim): y1 = x1 cos a + x2 sin a, y2 = -x1 sin a + x2 cos a. A rotation's
    inverse is its transpose, so the gradient turns back: g1 cos a - g2 sin a, g1 sin a + g2 cos a.
    A query at t and a key at s then meet through the angle (t - s) only: attention sees distances.
    """
    B, T, C = x.shape
    head_dim = C // n_head
    if head_dim % 2:
        raise ValueError(f"RoPE turns pairs of numbers: head_dim={head_dim} must be even; pick n_embd / n_head even")
    angles = rope_angles(T, head_dim, base)
    cos, sin = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]  # (T, 1, head_dim / 2): every head alike
    half = head_dim // 2

    def turn(v, sign):  # sign +1: forward, -1: back (the transpose)
        v = v.reshape(B, T, n_head, head_dim)
        v1, v2 = v[..., :half], v[..., half:]
        return np.concatenate([v1 * cos + sign * v2 * sin, -sign * v1 * sin + v2 * cos], axis=-1).reshape(B, T, C)

    return Tensor(turn(x.data, 1.0), (x,), lambda g: (turn(g, -1.0),), "rope")


def dropout(x, p, generator):
    """Zero each element with probability p and scale the rest by 1 / (1 - p), so the mean is unchanged.

    The mask m (0 or 1 / (1 - p)) is drawn once, with `generator` (a NumPy Generator), and kept:
    y = x m, so the gradient is g m. p = 0 is the identity, with no draw.
    """
    if not 0 <= p < 1:
        raise ValueError(f"dropout p must be in [0, 1), got {p!r}")
    if p == 0:
        return x
    mask = (generator.random(x.shape) >= p) / (1.0 - p)
    return Tensor(x.data * mask, (x,), lambda g: (g * mask,), "dropout")
