"""Checks for the exercises of chapter 06 (training): a schedule, clipping, the loss, Adam's variants.

Every check takes `cases=None` (None: the cases the learner sees) and computes each expected value
from a reference of its own (here, or the library's `optim` and `train`), never from the answer.
`__tracebackhide__ = True` asks IPython to leave the check's own frames out of a traceback.
"""
import math

from ..autograd import Value
from ..optim import Adam
from ..tokenizer import Tokenizer
from ..train import document_loss as library_document_loss
from . import all_close, call, close, fail, fmt, passed
from .ch05 import tiny_model


def warmup_cosine_reference(step, num_steps, lr, warmup_steps):
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / (num_steps - warmup_steps)
    return lr * 0.5 * (1 + math.cos(math.pi * progress))


def check_lr_warmup_cosine(lr_warmup_cosine, cases=None):
    """lr_warmup_cosine(step, num_steps, lr, warmup_steps): a linear warm-up, then a cosine down to 0."""
    __tracebackhide__ = True
    name = "lr_warmup_cosine"
    # (step, num_steps, lr, warmup_steps): the first, middle and last warm-up steps, the top, the middle, the end
    cases = cases or [(0, 100, 0.01, 10), (4, 100, 0.01, 10), (9, 100, 0.01, 10), (10, 100, 0.01, 10),
                      (55, 100, 0.01, 10), (99, 100, 0.01, 10)]
    for step, num_steps, lr, warmup_steps in cases:
        expected = warmup_cosine_reference(step, num_steps, lr, warmup_steps)
        got = call(name, lr_warmup_cosine, step, num_steps, lr, warmup_steps,
                   hint="a plain formula of its four arguments; warmup_steps may be 0 (no warm-up at all)")
        if not isinstance(got, (int, float)) or not close(got, expected, 1e-9):
            fail(name, f"{fmt(expected)} at step {step} of {num_steps} (lr={lr}, warmup_steps={warmup_steps})", fmt(got),
                 "during the warm-up (step < warmup_steps) lr * (step + 1) / warmup_steps, so the last warm-up "
                 "step reaches lr; after it, lr * (1 + cos(pi * progress)) / 2 with progress = "
                 "(step - warmup_steps) / (num_steps - warmup_steps), which is 0 right after the warm-up")
    passed(name, f"{len(cases)} steps: the warm-up climbs to lr, then half a cosine brings it down towards 0")


def check_clip_grad_norm(clip_grad_norm, cases=None):
    """clip_grad_norm(params, max_norm): scale all the gradients together so their norm is at most max_norm."""
    __tracebackhide__ = True
    name = "clip_grad_norm"
    # (gradients, max_norm): a norm of 5 clipped to 1, one already below the limit, one clipped by half
    cases = cases or [([3.0, -4.0], 1.0), ([0.3, -0.4, 0.0], 1.0), ([1.0, 2.0, -2.0, 4.0], 2.5)]
    for grads, max_norm in cases:
        params = [Value(0.5 * i) for i in range(len(grads))]
        for p, g in zip(params, grads):
            p.grad = g
        norm = math.sqrt(sum(g * g for g in grads))
        scale = max_norm / norm if norm > max_norm else 1.0
        expected = [g * scale for g in grads]
        got = call(name, clip_grad_norm, params, max_norm,
                   hint="the norm of ALL the gradients together; all of them zero is a norm of 0, and nothing to clip")
        what = f"for gradients {fmt(grads)} and max_norm={max_norm}"
        if not isinstance(got, (int, float)) or not close(got, norm, 1e-9):
            fail(name, f"the norm before clipping, {fmt(norm)}, returned {what}", fmt(got),
                 "the global norm is sqrt(sum of every p.grad ** 2), computed before any gradient changes")
        if not all_close([p.grad for p in params], expected, 1e-9):
            fail(name, f"the gradients {fmt(expected)} {what}", fmt([p.grad for p in params]),
                 "if the global norm is above max_norm, multiply EVERY gradient by max_norm / norm (one factor for "
                 "all, so their directions are kept); otherwise leave them as they are")
        if [p.data for p in params] != [0.5 * i for i in range(len(grads))]:
            fail(name, "the parameters' data unchanged", fmt([p.data for p in params]),
                 "clipping changes p.grad only: the optimizer's step comes afterwards")
    passed(name, f"{len(cases)} sets of gradients: scaled together when their norm is above the limit, else untouched")


def check_document_loss(document_loss, cases=None):
    """document_loss(model, tokens) against train.document_loss, value and gradients."""
    __tracebackhide__ = True
    name = "document_loss"
    tokenizer = Tokenizer("abcdefghijklmnopqrstuvwxyz")
    # (document, n_layer, seed): block_size is 8 in every tiny model
    cases = cases or [("emma", 1, 3), ("a", 1, 3)]
    for doc, n_layer, seed in cases:
        model = tiny_model(n_layer=n_layer, seed=seed)
        tokens = tokenizer.tokenize(doc)
        expected = library_document_loss(model, tokens)
        expected.backward()
        expected_grads = [p.grad for p in model.params]
        for p in model.params:
            p.grad = 0
        n = min(model.config.block_size, len(tokens) - 1)
        loss = call(name, document_loss, model, tokens,
                    hint="the model has positions 0 to block_size - 1 only: n = min(block_size, len(tokens) - 1)")
        if not isinstance(loss, Value):
            fail(name, f"a Value (the loss of {doc!r})", repr(loss) if not isinstance(loss, float) else f"the float {fmt(loss)}",
                 "build the loss from the model's Values, so backward can reach every parameter")
        if not close(loss.data, expected.data):
            fail(name, f"{expected.data:.6f} for {doc!r} ({len(tokens)} tokens, block_size {model.config.block_size}: "
                       f"the mean of {n} losses)", f"{loss.data:.6f}",
                 "at position pos_id the model sees tokens[pos_id] and is scored on tokens[pos_id + 1]; "
                 "n = min(block_size, len(tokens) - 1) positions; average the n losses")
        loss.backward()
        got_grads = [p.grad for p in model.params]
        for p in model.params:
            p.grad = 0
        if not all_close(got_grads, expected_grads):
            fail(name, f"the library's gradients for {doc!r}", "other gradients",
                 "make the loss of Values only, from the model's logits (no .data in between)")
    passed(name, f"the library's loss and gradients for {len(cases)} documents")


def adam_updates(grad, num_updates, beta1, beta2, corrected):
    """The size of Adam's update at each step for a gradient that stays `grad`, with lr_t = 1 and eps = 0."""
    m = v = 0.0
    updates = []
    for step in range(num_updates):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        if corrected:
            updates.append(m / (1 - beta1 ** (step + 1)) / (v / (1 - beta2 ** (step + 1))) ** 0.5)
        else:
            updates.append(m / v**0.5)
    return updates


def check_bias_ratio(bias_ratio, cases=None):
    """bias_ratio(step, beta1, beta2): uncorrected update / corrected update, for a constant gradient."""
    __tracebackhide__ = True
    name = "bias_ratio"
    # (step, beta1, beta2): microgpt's betas, from the first step to where the correction has faded
    cases = cases or [(0, 0.85, 0.99), (1, 0.85, 0.99), (10, 0.85, 0.99), (500, 0.85, 0.99)]
    for step, beta1, beta2 in cases:
        # measured, not derived: run both versions of Adam on a gradient of 0.3 that never changes
        uncorrected = adam_updates(0.3, step + 1, beta1, beta2, corrected=False)[step]
        corrected = adam_updates(0.3, step + 1, beta1, beta2, corrected=True)[step]
        expected = uncorrected / corrected
        got = call(name, bias_ratio, step, beta1, beta2, hint="a formula of step, beta1 and beta2")
        if not isinstance(got, (int, float)) or not close(got, expected, 1e-9):
            fail(name, f"{fmt(expected)} at step {step} with beta1={beta1}, beta2={beta2}", fmt(got),
                 "with a constant g, m after step t is (1 - beta1**(t + 1)) * g and v is (1 - beta2**(t + 1)) * g**2; "
                 "the update is m / sqrt(v) without the correction and g / |g| with it")
    passed(name, f"{len(cases)} (step, beta1, beta2): what leaving out the bias correction does to a step")


def adamw_reference(params, m, v, step, lr_t, weight_decay, beta1, beta2, eps):
    for i, p in enumerate(params):
        m[i] = beta1 * m[i] + (1 - beta1) * p.grad
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad**2
        m_hat = m[i] / (1 - beta1 ** (step + 1))
        v_hat = v[i] / (1 - beta2 ** (step + 1))
        p.data *= 1 - lr_t * weight_decay
        p.data -= lr_t * m_hat / (v_hat**0.5 + eps)
        p.grad = 0


def check_adamw_step(adamw_step, cases=None):
    """adamw_step(params, m, v, step, lr_t, weight_decay, beta1, beta2, eps) for three steps."""
    __tracebackhide__ = True
    name = "adamw_step"
    start = [0.5, -0.2, 0.8, 1.5]
    # the third parameter never gets a gradient: only the decay moves it
    grads_by_step = [[0.5, -2.0, 0.0, 3.0], [0.4, 1.0, 0.0, -0.3], [-0.2, 0.5, 0.0, 0.1]]
    lr, num_steps = 0.01, 10
    # (weight_decay, beta1, beta2, eps)
    cases = cases or [(0.1, 0.85, 0.99, 1e-8), (2.0, 0.85, 0.99, 1e-8)]
    for weight_decay, beta1, beta2, eps in cases:
        params, ref_params = [Value(x) for x in start], [Value(x) for x in start]
        m, v, ref_m, ref_v = [0.0] * 4, [0.0] * 4, [0.0] * 4, [0.0] * 4
        if weight_decay == 0:  # then it is the library's Adam
            library = Adam(ref_params, num_steps, lr, beta1, beta2, eps)
        for step, grads in enumerate(grads_by_step):
            for p, q, g in zip(params, ref_params, grads):
                p.grad = q.grad = g
            lr_t = lr * (1 - step / num_steps)
            if weight_decay == 0:
                library.step(step)
                ref_m, ref_v = library.m, library.v
            else:
                adamw_reference(ref_params, ref_m, ref_v, step, lr_t, weight_decay, beta1, beta2, eps)
            call(name, adamw_step, params, m, v, step, lr_t, weight_decay, beta1, beta2, eps,
                 hint="update m and v in place (m[i] = ...), then shrink p.data, then Adam's step")
            settings = f"weight_decay={weight_decay}, beta1={beta1}, beta2={beta2}, eps={eps}"
            for what, got, expected in [("m", m, ref_m), ("v", v, ref_v),
                                        ("the parameters", [p.data for p in params], [q.data for q in ref_params])]:
                if not all_close(got, expected, 1e-9):
                    fail(name, f"{what} {fmt(expected)} after step {step} ({settings}, grads {fmt(grads)})", fmt(got),
                         "Adam exactly as in the chapter (m, v, the bias correction with step + 1, "
                         "lr_t * m_hat / (sqrt(v_hat) + eps), eps outside the root), and besides it "
                         "p.data *= 1 - lr_t * weight_decay: the decay never enters m or v, and it shrinks a "
                         "weight whose gradient is 0 too")
            if any(p.grad != 0 for p in params):
                fail(name, f"every p.grad back at 0 after step {step}", fmt([p.grad for p in params]),
                     "zero each gradient after its update, as the library's optimizers do")
    passed(name, f"three steps with {len(cases)} settings: Adam's step, and every weight shrunk by lr_t * weight_decay")
