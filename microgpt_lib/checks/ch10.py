"""Checks for the exercises of chapter 10 (PyTorch): each compares with torch itself or `microgpt_lib.torch_model`.

Each check takes `cases=None` (None: its visible cases) and computes every expected value itself. In every
check, `__tracebackhide__ = True` asks IPython to leave the check's own frames out of a traceback, so that a
learner sees their code and the message, not the inside of the check.
"""
import copy
import random

import torch
import torch.nn.functional as F
from torch import nn

from .. import torch_model
from ..model import GPTConfig
from . import call, fail, fmt, passed


def plural(n, word, words=None):
    """'1 case', '3 cases'."""
    return f"{n} {word if n == 1 else words or word + 's'}"


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


# ---------------------------------------------------------------- exercise 1: causal attention, every head at once

def reference_attention(q, k, v, n_head):
    """Position t against the keys 0..t, head by head: torch_model.attention over a growing cache."""
    keys, values = [], []
    rows = []
    for t in range(q.shape[0]):
        keys.append(k[t])
        values.append(v[t])
        rows.append(torch_model.attention(q[t], keys, values, n_head))
    return torch.stack(rows)


ATTENTION_CASES = [(1, 4, 1, 0), (5, 8, 2, 1), (6, 16, 4, 2)]  # (T, C, n_head, seed)


def check_causal_attention(causal_attention, cases=None):
    """causal_attention(q, k, v, n_head): (T, C) -> (T, C), against microgpt's attention over a KV cache."""
    __tracebackhide__ = True
    name = "causal_attention"
    cases = ATTENTION_CASES if cases is None else cases
    for T, C, n_head, seed in cases:
        q, k, v = random_tensors(seed, (T, C), (T, C), (T, C), scale=2.0)
        expected = reference_attention(q, k, v, n_head)
        label = f"{name} (T={T}, C={C}, n_head={n_head})"
        got = tensor_of(label, call(label, causal_attention, q, k, v, n_head,
                                    hint="try it with T=3, C=4, n_head=2 and print the shapes"),
                        (T, C), f"T={T}, C={C}, n_head={n_head}")
        if not torch.allclose(got, expected, atol=1e-10, rtol=0):
            rows = [t for t in range(T) if not torch.allclose(got[t], expected[t], atol=1e-10, rtol=0)]
            fail(label, f"{fmt(expected[rows[0]].tolist())} at position {rows[0]}", fmt(got[rows[0]].tolist()),
                 "head h is columns h*head_dim:(h+1)*head_dim of q, k and v, with head_dim = C // n_head; "
                 "scores q k^T / sqrt(head_dim); -inf above the diagonal; softmax along the keys (the last "
                 "dimension); weights @ v; the heads side by side again, in order")
    passed(name, f"microgpt's attention at every position, {plural(len(cases), 'case')}")


# ---------------------------------------------------------------- exercise 2: microgpt's Adam against torch.optim.Adam

ADAM_CASES = [(4, 6, 0.01, 0.85, 0.99, 1e-8)]  # (seed, num_steps, lr, beta1, beta2, eps)


def check_adam_step(adam_step, cases=None):
    """adam_step(p, grad, m, v, step, num_steps, lr, beta1, beta2, eps) against torch.optim.Adam with LambdaLR."""
    __tracebackhide__ = True
    name = "adam_step"
    cases = ADAM_CASES if cases is None else cases
    for seed, num_steps, lr, beta1, beta2, eps in cases:
        label = f"{name} (lr={lr}, betas=({beta1}, {beta2}), eps={eps}, {num_steps} steps)"
        # ordinary gradients, and tiny ones, where the place of eps decides the step
        p0, *grads = random_tensors(seed, (3, 5), *[(3, 5)] * num_steps)
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
            result = call(label, adam_step, p, grad.clone(), m, v, step, num_steps, lr, beta1, beta2, eps, hint=hint)
            if not isinstance(result, tuple) or len(result) != 3:
                fail(label, "a tuple (p, m, v)", type(result).__name__, hint)
            p, m, v = (tensor_of(label, x, p0.shape, what) for x, what in zip(result, ("p", "m", "v")))
            if not torch.allclose(p, reference.detach(), rtol=1e-12, atol=1e-15):
                fail(label, f"p[0, :3] = {fmt(reference.detach()[0, :3].tolist())} after step {step} (counted from 0)",
                     fmt(p[0, :3].tolist()),
                     "use the lr, beta1, beta2 and eps you are given; m and v first; then lr * (1 - step / num_steps) "
                     "times m_hat / (sqrt(v_hat) + eps), with m_hat = m / (1 - beta1 ** (step + 1)) and "
                     "v_hat = v / (1 - beta2 ** (step + 1)); eps outside the square root")
    passed(name, f"equal to torch.optim.Adam with LambdaLR step after step, tiny gradients included, {plural(len(cases), 'setting')}")


# ---------------------------------------------------------------- exercise 3: microgpt's weights in nanoGPT's layout

NAMES_CASES = [(dict(), 42)]  # (GPTConfig arguments besides the defaults, seed)


def check_to_nanogpt_names(to_nanogpt_names, cases=None):
    """to_nanogpt_names(state_dict, n_layer): microgpt's weights load into IdiomaticGPT and give the same logits."""
    __tracebackhide__ = True
    name = "to_nanogpt_names"
    cases = NAMES_CASES if cases is None else cases
    for overrides, seed in cases:
        config = GPTConfig(**overrides)
        label = f"{name} (n_layer={config.n_layer}, n_embd={config.n_embd})"
        micro = torch_model.MicroGPT(config, random.Random(seed))
        sd = {key: t.clone() for key, t in micro.state_dict().items()}
        converted = call(label, to_nanogpt_names, sd, config.n_layer,
                         hint="print(list(IdiomaticGPT(config).state_dict())) shows the names to make")
        if not isinstance(converted, dict):
            fail(label, "a dict of tensors by name", type(converted).__name__, "return a dict")
        idiomatic = torch_model.IdiomaticGPT(config)
        expected_keys = list(idiomatic.state_dict())
        missing, extra = [k for k in expected_keys if k not in converted], [k for k in converted if k not in expected_keys]
        if missing or extra:
            fail(label, f"the keys {expected_keys}", f"{len(missing)} missing {missing[:3]} and {len(extra)} unknown {extra[:3]}",
                 "every matrix under nanoGPT's name, for every one of the n_layer layers: transformer.wte.weight, "
                 "transformer.h.0.attn.c_attn.weight, ..., lm_head.weight")
        for key, tensor in idiomatic.state_dict().items():
            if not isinstance(converted[key], torch.Tensor) or tuple(converted[key].shape) != tuple(tensor.shape):
                fail(label, f"{key} of shape {tuple(tensor.shape)}", f"shape {tuple(getattr(converted[key], 'shape', ()))}",
                     "c_attn stacks q, k and v along the rows (dim 0): 3*n_embd rows of n_embd")
        idiomatic.load_state_dict(converted)
        tokens = [26, 4, 12, 12, 0, 26][: config.block_size]
        logits, _ = idiomatic(torch.tensor([tokens]))
        keys, values = micro.empty_cache()
        expected = torch.stack([micro(t, pos, keys, values) for pos, t in enumerate(tokens)])
        if not torch.allclose(logits[0].detach(), expected.detach(), atol=1e-12, rtol=0):
            fail(label, f"the logits {fmt(expected[-1].tolist())} at the last position", fmt(logits[0, -1].tolist()),
                 "nn.Linear's weight is (n_out, n_in), exactly microgpt's w: no transpose; c_attn is q, k, v in that order")
    passed(name, f"microgpt's weights in nanoGPT's layout give the same logits, {plural(len(cases), 'model')}")


# ---------------------------------------------------------------- exercise 4: nanoGPT's MLP

MLP_CASES = [(8, True, 0), (16, True, 1)]  # (n_embd, bias, seed)


def check_mlp(MLP, cases=None):
    """MLP(n_embd, bias): c_fc, GELU, c_proj (nanoGPT's), its parameters named and shaped as nanoGPT's."""
    __tracebackhide__ = True
    name = "MLP"
    cases = MLP_CASES if cases is None else cases
    for n_embd, bias, seed in cases:
        label = f"MLP({n_embd}, bias={bias})"
        module = call(label, MLP, n_embd, bias, hint="MLP(n_embd, bias) must build the module")
        if not isinstance(module, nn.Module):
            fail(label, "an nn.Module", type(module).__name__, "class MLP(nn.Module) with super().__init__() first")
        shapes = {"c_fc.weight": (4 * n_embd, n_embd), "c_proj.weight": (n_embd, 4 * n_embd)}
        if bias:
            shapes.update({"c_fc.bias": (4 * n_embd,), "c_proj.bias": (n_embd,)})
        got_shapes = {key: tuple(p.shape) for key, p in module.state_dict().items()}
        if got_shapes != shapes:
            fail(label, f"the parameters {shapes}", f"{got_shapes}",
                 "two nn.Linear named c_fc (n_embd -> 4 * n_embd) and c_proj (back), with a bias only when bias is True")
        values = dict(zip(shapes, random_tensors(seed, *shapes.values(), scale=0.5)))
        module = module.to(torch.float64)
        module.load_state_dict(values)
        x = random_tensors(seed + 100, (2, 3, n_embd))[0].requires_grad_()
        hidden = F.gelu(F.linear(x, values["c_fc.weight"], values.get("c_fc.bias")))
        expected = F.linear(hidden, values["c_proj.weight"], values.get("c_proj.bias"))
        y = call(label, module, x, hint="forward(x): c_fc, then GELU, then c_proj")
        got = tensor_of(label, y, expected.shape, "the shape of x")
        if not torch.allclose(got, expected.detach(), atol=1e-12, rtol=0):
            fail(label, fmt(expected[0, 0].tolist()), fmt(got[0, 0].tolist()),
                 "nanoGPT's MLP is c_proj(gelu(c_fc(x))), with nn.GELU() (the exact GELU, not approximate='tanh'), "
                 "no dropout in this exercise")
    passed(name, f"nanoGPT's MLP, parameters and outputs, {plural(len(cases), 'configuration')}")


# ---------------------------------------------------------------- exercise 5: float32 against float64, measured

FLOAT32_CASES = [(dict(), 42, [[26, 4, 12, 4, 19], [26, 7, 20, 1, 4]])]  # (GPTConfig arguments, seed, ids)


def check_float32_error(float32_error, cases=None):
    """float32_error(model, idx): the largest |difference| of the logits of a float32 copy, the model untouched."""
    __tracebackhide__ = True
    name = "float32_error"
    cases = FLOAT32_CASES if cases is None else cases
    for overrides, seed, ids in cases:
        config = GPTConfig(**overrides)
        label = f"{name} (n_embd={config.n_embd}, n_layer={config.n_layer}, {len(ids)} names)"
        model = torch_model.IdiomaticGPT.from_micro(torch_model.MicroGPT(config, random.Random(seed)))
        idx = torch.tensor(ids)
        with torch.no_grad():
            expected = (copy.deepcopy(model).float()(idx)[0].double() - model(idx)[0]).abs().max().item()
        before = {key: t.clone() for key, t in model.state_dict().items()}
        got = call(label, float32_error, model, idx.clone(), hint="copy the model, convert the copy, compare the logits")
        if any(t.dtype != torch.float64 or not torch.equal(t, before[key]) for key, t in model.state_dict().items()):
            fail(label, "the model left as it was (float64)", "a model that was converted or changed",
                 "model.float() converts in place and returns the same model: convert a copy (copy.deepcopy)")
        try:
            got = float(got)
        except (TypeError, ValueError):
            fail(label, "a number", type(got).__name__, "return the largest absolute difference as a float (.item())")
        if not abs(got - expected) <= 1e-3 * expected:
            fail(label, f"{expected:.3e}", f"{got:.3e}",
                 "both models' logits on the same ids (the model returns (logits, loss)), the float32 ones converted "
                 "back to float64, then the largest absolute difference over every name, position and logit")
    passed(name, f"the float32 copy's largest logit difference, {plural(len(cases), 'model')}")
