"""Checks for the exercises of chapter 06 (training): each compares with `optim`, `train` or `viz`.

In every check, `__tracebackhide__ = True` asks IPython to leave the check's own frames out of a
traceback, so that a learner sees their code and the message, not the inside of the check.
"""
from ..autograd import Value
from ..optim import SGD, Adam
from ..tokenizer import Tokenizer
from ..train import document_loss as library_document_loss
from ..viz import smooth
from . import all_close, call, close, fail, fmt, passed
from .ch05 import tiny_model


def check_lr_at(lr_at):
    """lr_at(step, num_steps, lr) against the rate the library's SGD applies at that step."""
    __tracebackhide__ = True
    name = "lr_at"
    for step, num_steps, lr in [(0, 1000, 0.01), (999, 1000, 0.01), (25, 50, 0.1), (1, 4, 1.0), (0, 1, 0.5)]:
        p = Value(0.0)
        p.grad = 1.0  # one SGD step moves p by exactly the learning rate of that step
        SGD([p], num_steps, lr).step(step)
        expected = -p.data
        got = call(name, lr_at, step, num_steps, lr, hint="a plain formula of step, num_steps and lr")
        if not isinstance(got, (int, float)) or not close(got, expected, 1e-9):
            fail(
                name,
                f"{fmt(expected)} at step {step} of {num_steps} (lr={lr})",
                fmt(got),
                "the rate falls in a straight line from lr at step 0 towards 0 at step num_steps; "
                "steps count from 0, so the first step gets the full lr",
            )
    passed(name, "the library's linear decay at 5 (step, num_steps, lr), first and last steps included")


def check_moving_average(moving_average):
    """moving_average(values, window) against viz.smooth."""
    __tracebackhide__ = True
    name = "moving_average"
    losses = [3.3, 3.1, 2.9, 2.5, 2.8, 2.4, 2.2, 2.6]
    for values, window in [(losses, 3), (losses, 1), (losses, 5), (losses[:4], 10), ([], 3)]:
        expected = smooth(values, window)
        got = call(name, moving_average, values, window, hint="no values give no averages (an empty list); a window longer than the data is fine")
        if not isinstance(got, list) or not all_close(got, expected):
            fail(
                name,
                f"{fmt(expected)} for window={window} over {fmt(values)}",
                fmt(got),
                "entry i is the mean of values[i - window + 1 : i + 1], which has fewer than window values "
                "at the start: divide by how many there are",
            )
    passed(name, "the same as viz.smooth for windows 1, 3, 5, a window longer than the data, and no data")


def check_sgd_step(sgd_step):
    """sgd_step(params, lr) against the library's SGD on a copy of the same parameters."""
    __tracebackhide__ = True
    name = "sgd_step"
    start, grads, lr = [0.5, -0.2, 0.0, 1.5], [0.5, -2.0, 0.0, 3.0], 0.1
    params, library_params = [Value(x) for x in start], [Value(x) for x in start]
    for p, q, g in zip(params, library_params, grads):
        p.grad = q.grad = g
    SGD(library_params, 1, lr).step(0)
    expected = [q.data for q in library_params]
    result = call(name, sgd_step, params, lr, hint="change p.data of each parameter in place")
    got = [p.data for p in params]
    if not all_close(got, expected):
        fail(name, f"the parameters {fmt(expected)} (data {fmt(start)}, grads {fmt(grads)}, lr={lr})", fmt(got),
             "move each parameter against its gradient: p.data minus lr times p.grad")
    if any(p.grad != 0 for p in params):
        fail(name, "every p.grad back at 0 after the step", fmt([p.grad for p in params]),
             "backward adds to .grad, so zero it after the update or the next step sees old gradients too")
    if result is not None:
        fail(name, "None (the parameters change in place)", fmt(result), "update p.data; return nothing")
    passed(name, "the same update as SGD, gradients zeroed")


def check_document_loss(document_loss):
    """document_loss(model, tokens) against train.document_loss, value and gradients."""
    __tracebackhide__ = True
    name = "document_loss"
    tokenizer = Tokenizer("abcdefghijklmnopqrstuvwxyz")
    model = tiny_model(seed=3)  # block_size 8
    for doc in ["emma", "christopher", "a"]:  # 5 predictions; 12 tokens to predict but room for 8; 2
        tokens = tokenizer.tokenize(doc)
        expected = library_document_loss(model, tokens)
        expected.backward()
        expected_grads = [p.grad for p in model.params]
        for p in model.params:
            p.grad = 0
        loss = call(name, document_loss, model, tokens, hint="the model has positions 0 to block_size - 1 only: n = min(block_size, len(tokens) - 1)")
        if not isinstance(loss, Value):
            fail(name, f"a Value (the loss of {doc!r})", repr(loss) if not isinstance(loss, float) else f"the float {fmt(loss)}",
                 "build the loss from the model's Values, so backward can reach every parameter")
        if not close(loss.data, expected.data):
            n = min(model.config.block_size, len(tokens) - 1)
            fail(
                name,
                f"{expected.data:.6f} for {doc!r} ({len(tokens)} tokens, block_size {model.config.block_size}: "
                f"the mean of {n} losses)",
                f"{loss.data:.6f}",
                "at position pos_id the model sees tokens[pos_id] and is scored on tokens[pos_id + 1]; "
                "n = min(block_size, len(tokens) - 1) positions; average the n losses",
            )
        loss.backward()
        got_grads = [p.grad for p in model.params]
        for p in model.params:
            p.grad = 0
        if not all_close(got_grads, expected_grads):
            fail(name, f"the library's gradients for {doc!r}", "other gradients",
                 "make the loss of Values only, from the model's logits (no .data in between)")
    passed(name, "the library's loss and gradients for a short name, one longer than block_size, and 'a'")


def check_adam_step(adam_step):
    """adam_step(params, m, v, step, lr_t) against the library's Adam, steps 0, 1 and 2."""
    __tracebackhide__ = True
    name = "adam_step"
    lr, num_steps = 0.01, 10
    start = [0.5, -0.2, 0.0, 1.5]
    grads_by_step = [[0.5, -2.0, 0.0, 3.0], [0.4, 1.0, 0.1, -0.3], [-0.2, 0.5, 0.02, 0.0]]
    params, library_params = [Value(x) for x in start], [Value(x) for x in start]
    adam = Adam(library_params, num_steps, lr)  # beta1 0.85, beta2 0.99, eps 1e-8
    m, v = [0.0] * len(params), [0.0] * len(params)
    for step, grads in enumerate(grads_by_step):
        for p, q, g in zip(params, library_params, grads):
            p.grad = q.grad = g
        adam.step(step)
        lr_t = lr * (1 - step / num_steps)
        call(name, adam_step, params, m, v, step, lr_t, hint="the bias correction divides by 1 - beta**(step + 1), never 0 because steps count from 0")
        for what, got, expected in [("m", m, adam.m), ("v", v, adam.v), ("the parameters", [p.data for p in params],
                                                                        [q.data for q in library_params])]:
            if not all_close(got, expected, 1e-9):
                fail(
                    name,
                    f"{what} {fmt(expected)} after step {step} (grads {fmt(grads)})",
                    fmt(got),
                    "m = beta1*m + (1-beta1)*g, v = beta2*v + (1-beta2)*g**2 (kept in the lists m and v); "
                    "then the bias correction m_hat = m / (1 - beta1**(step+1)), the same for v with beta2 "
                    "(steps count from 0); p.data -= lr_t * m_hat / (v_hat**0.5 + eps)",
                )
        if any(p.grad != 0 for p in params):
            fail(name, f"every p.grad back at 0 after step {step}", fmt([p.grad for p in params]),
                 "zero each gradient after its update, as the library's optimizers do")
    passed(name, "the same m, v and parameters as the library's Adam at steps 0, 1 and 2")
