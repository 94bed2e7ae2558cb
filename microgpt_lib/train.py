"""Training: one document a step, its average next-token loss, backward, an optimizer step."""
import math

from .nn import nll, softmax
from .optim import Adam, check_num_steps


def document_loss(model, tokens):
    """The mean negative log-likelihood of each next token of a tokenized document."""
    n = min(model.config.block_size, len(tokens) - 1)
    if n < 1:
        raise ValueError(f"a document needs at least 2 tokens (BOS, ..., BOS), got {tokens!r}")
    keys, values = model.empty_cache()
    losses = []
    for pos_id in range(n):
        probs = softmax(model(tokens[pos_id], pos_id, keys, values))
        losses.append(nll(probs, tokens[pos_id + 1]))
    return (1 / n) * sum(losses)


def train(model, tokenizer, docs, num_steps, optimizer=None, callback=None, start_step=0):
    """Train on `docs` in order, one a step; returns the loss of every step.

    The optimizer defaults to microgpt's Adam. `callback(step, num_steps, loss)` is called
    after each step (step counted from 0), for progress or logging. A loss that is not
    finite stops training with an error naming the step. `start_step` resumes a run: steps
    `start_step` to `num_steps - 1`, on the same learning-rate schedule (pass the optimizer
    whose state the earlier steps built).
    """
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


def diverged(step, loss):
    return FloatingPointError(f"the loss became {loss} at step {step + 1}; training stopped: lower the learning rate")


def format_step(step, num_steps, loss):
    """microgpt's progress line for step `step` (counted from 0)."""
    return f"step {step + 1:4d} / {num_steps:4d} | loss {loss:.4f}"


def print_every(every):
    """A callback that prints the progress line every `every` steps and at the last step."""

    def callback(step, num_steps, loss):
        if (step + 1) % every == 0 or step + 1 == num_steps:
            print(format_step(step, num_steps, loss))

    return callback
