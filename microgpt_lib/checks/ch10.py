"""Checks for the exercises of chapter 10 (PyTorch): each compares with torch itself or `microgpt_lib.torch_model`.

In every check, `__tracebackhide__ = True` asks IPython to leave the check's own frames out of a
traceback, so that a learner sees their code and the message, not the inside of the check.
"""
import random

import torch
import torch.nn.functional as F
from torch import nn

from .. import torch_model
from ..model import GPTConfig
from . import call, fail, fmt, passed


def tensor_of(name, x, shape, what):
    """`x` as a float64 tensor of `shape`, or a failure that says what came back instead."""
    __tracebackhide__ = True
    if not isinstance(x, torch.Tensor):
        fail(name, f"a torch tensor of shape {shape} ({what})", type(x).__name__, "return a tensor, not a list or a number")
    if tuple(x.shape) != tuple(shape):
        fail(name, f"shape {tuple(shape)} ({what})", f"shape {tuple(x.shape)}", "look at the shape of every intermediate result")
    return x.detach().to(torch.float64)


def random_tensors(seed, *shapes, scale=1.0):
    gen = torch.Generator().manual_seed(seed)
    return [scale * torch.randn(*shape, dtype=torch.float64, generator=gen) for shape in shapes]


def check_linear_params(linear_params):
    """linear_params(n_in, n_out, bias) against the parameters of nn.Linear itself."""
    __tracebackhide__ = True
    name = "linear_params"
    cases = [(16, 16, False), (16, 64, True), (64, 16, True), (3, 5, True), (5, 3, False), (1, 1, True), (27, 16, True)]
    for n_in, n_out, bias in cases:
        expected = sum(p.numel() for p in nn.Linear(n_in, n_out, bias=bias).parameters())
        got = call(name, linear_params, n_in, n_out, bias, hint="count the numbers in weight, and in bias if there is one")
        if got != expected:
            fail(name, f"{expected} for nn.Linear({n_in}, {n_out}, bias={bias})", fmt(got),
                 "weight is n_out x n_in; the bias adds one number per output, n_out of them")
    passed(name, f"{len(cases)} layers with and without a bias, as nn.Linear counts them")


def check_causal_mask(causal_mask):
    """causal_mask(T): a (T, T) bool tensor, True where position t may look at position j (j <= t)."""
    __tracebackhide__ = True
    name = "causal_mask"
    for T in [1, 2, 5, 16]:
        got = call(name, causal_mask, T, hint="torch.tril and torch.ones make it in one line")
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != (T, T):
            fail(name, f"a ({T}, {T}) tensor", f"{type(got).__name__} of shape {tuple(getattr(got, 'shape', ()))}",
                 "one row per query position, one column per key position")
        if got.dtype != torch.bool:
            fail(name, "a tensor of dtype torch.bool", f"dtype {got.dtype}",
                 "masked_fill and ~ need True and False: ask torch.ones for dtype=torch.bool")
        expected = torch.tril(torch.ones(T, T, dtype=torch.bool))
        if not torch.equal(got, expected):
            wrong = (got != expected).nonzero().tolist()[0]
            fail(name, f"{expected.int().tolist()} for T={T}" if T <= 5 else f"the lower triangle for T={T}",
                 f"{got.int().tolist()}" if T <= 5 else f"a mask that differs at (t, j) = {tuple(wrong)}",
                 "row t may look at columns 0..t: itself and the past (the diagonal included), never the future")
    # used as attention uses it, it gives scaled_dot_product_attention's weights
    q, k, v = random_tensors(3, (1, 1, 6, 4), (1, 1, 6, 4), (1, 1, 6, 4))
    scores = (q @ k.transpose(-2, -1) / 2.0).masked_fill(~call(name, causal_mask, 6), float("-inf"))
    if not torch.allclose(F.softmax(scores, dim=-1) @ v, F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=1e-12):
        fail(name, "scaled_dot_product_attention's result when the mask is used", "another result",
             "True where attention is allowed")
    passed(name, "lower triangle with the diagonal, as is_causal=True uses it, for T = 1, 2, 5 and 16")


def reference_attention(q, k, v, n_head):
    """Position t against the keys 0..t, head by head: torch_model.attention over a growing cache."""
    keys, values = [], []
    rows = []
    for t in range(q.shape[0]):
        keys.append(k[t])
        values.append(v[t])
        rows.append(torch_model.attention(q[t], keys, values, n_head))
    return torch.stack(rows)


def check_causal_attention(causal_attention):
    """causal_attention(q, k, v, n_head): (T, C) -> (T, C), against microgpt's attention over a KV cache."""
    __tracebackhide__ = True
    name = "causal_attention"
    for T, C, n_head, seed in [(1, 4, 1, 0), (5, 8, 2, 1), (6, 16, 4, 2), (4, 12, 3, 3)]:
        q, k, v = random_tensors(seed, (T, C), (T, C), (T, C), scale=2.0)
        expected = reference_attention(q, k, v, n_head)
        got = tensor_of(name, call(name, causal_attention, q, k, v, n_head, hint="try it with T=3, C=4, n_head=2 and print the shapes"),
                        (T, C), f"T={T}, C={C}, n_head={n_head}")
        if not torch.allclose(got, expected, atol=1e-10, rtol=0):
            rows = [t for t in range(T) if not torch.allclose(got[t], expected[t], atol=1e-10, rtol=0)]
            fail(name, f"{fmt(expected[rows[0]].tolist())} at position {rows[0]} (T={T}, C={C}, n_head={n_head})",
                 fmt(got[rows[0]].tolist()),
                 "head h is columns h*head_dim:(h+1)*head_dim of q, k and v; scores q k^T / sqrt(head_dim); "
                 "-inf above the diagonal; softmax along the keys (the last dimension); weights @ v; "
                 "the heads side by side again, in order")
    passed(name, "microgpt's attention at every position, with 1 to 4 heads")


def check_adam_step(adam_step):
    """adam_step(p, grad, m, v, step, num_steps, lr, beta1, beta2, eps) against torch.optim.Adam with LambdaLR."""
    __tracebackhide__ = True
    name = "adam_step"
    num_steps = 6
    lr, beta1, beta2, eps = 0.01, 0.85, 0.99, 1e-8
    # ordinary gradients, and tiny ones, where the place of eps decides the step
    p0, *grads = random_tensors(4, (3, 5), *[(3, 5)] * num_steps)
    grads = [g * (1e-9 if step % 2 else 1.0) for step, g in enumerate(grads)]
    reference = nn.Parameter(p0.clone())
    optimizer = torch.optim.Adam([reference], lr=lr, betas=(beta1, beta2), eps=eps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / num_steps)
    p, m, v = p0.clone(), torch.zeros_like(p0), torch.zeros_like(p0)
    hint = "return three tensors: the new p, m and v"
    for step, grad in enumerate(grads):
        reference.grad = grad.clone()
        optimizer.step()
        scheduler.step()
        result = call(name, adam_step, p, grad.clone(), m, v, step, num_steps, lr, beta1, beta2, eps, hint=hint)
        if not isinstance(result, tuple) or len(result) != 3:
            fail(name, "a tuple (p, m, v)", type(result).__name__, hint)
        p, m, v = (tensor_of(name, x, p0.shape, label) for x, label in zip(result, ("p", "m", "v")))
        if not torch.allclose(p, reference.detach(), rtol=1e-12, atol=1e-15):
            fail(name, f"p[0, :3] = {fmt(reference.detach()[0, :3].tolist())} after step {step} (counted from 0)",
                 fmt(p[0, :3].tolist()),
                 "m and v first; then lr * (1 - step / num_steps) times m_hat / (sqrt(v_hat) + eps), with "
                 "m_hat = m / (1 - beta1 ** (step + 1)) and v_hat = v / (1 - beta2 ** (step + 1)); eps outside the square root")
    passed(name, f"{num_steps} steps equal to torch.optim.Adam with LambdaLR, tiny gradients included")


def check_to_nanogpt_names(to_nanogpt_names):
    """to_nanogpt_names(state_dict, n_layer): microgpt's weights load into IdiomaticGPT and give the same logits."""
    __tracebackhide__ = True
    name = "to_nanogpt_names"
    for config, seed in [(GPTConfig(), 42), (GPTConfig(n_embd=8, n_head=2, n_layer=2, block_size=8, init_std=0.5), 1)]:
        micro = torch_model.MicroGPT(config, random.Random(seed))
        sd = {key: t.clone() for key, t in micro.state_dict().items()}
        converted = call(name, to_nanogpt_names, sd, config.n_layer, hint="print(list(IdiomaticGPT(config).state_dict())) shows the names to make")
        if not isinstance(converted, dict):
            fail(name, "a dict of tensors by name", type(converted).__name__, "return a dict")
        idiomatic = torch_model.IdiomaticGPT(config)
        expected_keys = list(idiomatic.state_dict())
        missing, extra = [k for k in expected_keys if k not in converted], [k for k in converted if k not in expected_keys]
        if missing or extra:
            fail(name, f"the keys {expected_keys}", f"{len(missing)} missing {missing[:3]} and {len(extra)} unknown {extra[:3]}",
                 "every matrix under nanoGPT's name: transformer.wte.weight, transformer.h.0.attn.c_attn.weight, ..., lm_head.weight")
        for key, tensor in idiomatic.state_dict().items():
            if not isinstance(converted[key], torch.Tensor) or tuple(converted[key].shape) != tuple(tensor.shape):
                fail(name, f"{key} of shape {tuple(tensor.shape)}", f"shape {tuple(getattr(converted[key], 'shape', ()))}",
                     "c_attn stacks q, k and v along the rows (dim 0): 3*n_embd rows of n_embd")
        idiomatic.load_state_dict(converted)
        tokens = [26, 4, 12, 12, 0, 26][: config.block_size]
        logits, _ = idiomatic(torch.tensor([tokens]))
        keys, values = micro.empty_cache()
        expected = torch.stack([micro(t, pos, keys, values) for pos, t in enumerate(tokens)])
        if not torch.allclose(logits[0].detach(), expected.detach(), atol=1e-12, rtol=0):
            fail(name, f"the logits {fmt(expected[-1].tolist())} at the last position", fmt(logits[0, -1].tolist()),
                 "nn.Linear's weight is (n_out, n_in), exactly microgpt's w: no transpose; c_attn is q, k, v in that order")
    passed(name, "microgpt's weights in nanoGPT's layout give the same logits, 1 and 2 layers")
