"""Timing harnesses for chapters 09 and 10: seconds per training step, measured the same way for every engine.

A time depends on the machine and on what else it is doing, so every helper repeats its measurement and
returns every time (the chapters print the median, or the fastest), and the chapters compare engines
side by side in one run. A step is split where the engines can be compared like with like: the forward
and backward passes (`loss.backward()` included) on one side, the optimizer's update on the other.
"""
import gc
import random
import time

from .autograd import topological_order
from .model import GPT

ENGINES = ("scalar", "fused", "numpy", "torch, one to one", "torch")


def seconds_per_call(f, repeats=200):
    """The fastest of `repeats` calls of f(): the one least disturbed by whatever else the machine does."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def scalar_step_parts(config, tokens, rounds=3, collector=True, seed=42):
    """Seconds of each part of a scalar training step, `rounds` times: a list of dicts.

    The parts: the forward pass, the topological sort, `backward` (which sorts again), Adam. With
    `collector=False`, Python's cycle collector is switched off for the steps (and on again after).
    """
    from .optim import Adam
    from .train import document_loss

    runs = []
    for _ in range(rounds):
        model = GPT(config, random.Random(seed))
        was_enabled = gc.isenabled()
        if not collector:
            gc.disable()
        try:
            times = [time.perf_counter()]
            loss = document_loss(model, tokens)
            times.append(time.perf_counter())
            topological_order(loss)
            times.append(time.perf_counter())
            loss.backward()
            times.append(time.perf_counter())
            Adam(model.params, num_steps=1000).step(0)
            times.append(time.perf_counter())
        finally:
            if was_enabled:
                gc.enable()
        runs.append(dict(zip(("forward", "sort", "backward", "Adam"), (b - a for a, b in zip(times, times[1:])))))
    return runs


def make_engine(name, config, seed=42):
    """(model, loss_of(token_lists), update(step)) of engine `name`, with microgpt's weights for `config`.

    "scalar" and "fused" (Value graphs) and "torch, one to one" (position by position) take one name
    a step; "numpy" and "torch" (nanoGPT's shape, `IdiomaticGPT`) take a padded batch of names.
    """
    rng = random.Random(seed)
    if name in ("scalar", "fused"):
        from . import fused
        from .optim import Adam
        from .train import document_loss

        gpt = GPT(config, rng)
        model, loss_fn = (gpt, document_loss) if name == "scalar" else (fused.FusedGPT(gpt), fused.document_loss)
        optimizer = Adam(gpt.params, num_steps=10**6)

        def loss_of(token_lists):
            if len(token_lists) != 1:
                raise ValueError(f"the {name} engine takes one name a step, got a batch of {len(token_lists)}")
            return loss_fn(model, token_lists[0])

        return model, loss_of, optimizer.step
    if name == "numpy":
        from . import numpy_model

        model = numpy_model.NumpyGPT(config, rng)
        optimizer = numpy_model.Adam(model, num_steps=10**6)
        return model, lambda token_lists: numpy_model.batch_loss(model, token_lists), optimizer.step
    if name in ("torch", "torch, one to one"):
        from . import torch_model

        model = torch_model.MicroGPT(config, rng)
        if name == "torch":
            model = torch_model.IdiomaticGPT.from_micro(model)
            loss_of = model.batch_loss
        else:
            def loss_of(token_lists):
                if len(token_lists) != 1:
                    raise ValueError(f"the one-to-one port takes one name a step, got a batch of {len(token_lists)}")
                return model.document_loss(token_lists[0])
        optimizer, scheduler = torch_model.make_optimizer(model, num_steps=10**6)

        def update(step):
            optimizer.step()
            optimizer.zero_grad()
            scheduler.step()

        return model, loss_of, update
    raise ValueError(f"unknown engine {name!r}; the engines are {', '.join(ENGINES)}")


def step_parts(name, config, token_lists, batch_size=1, rounds=5):
    """Seconds of `rounds` training steps of engine `name`, each on `batch_size` names of `token_lists`.

    Returns {"forward and backward": [...], "optimizer": [...]}, one time per step; the batches walk
    through `token_lists` in order (round and round). One step runs first, untimed (its first calls
    warm up caches and, in PyTorch, allocate buffers).
    """
    model, loss_of, update = make_engine(name, config)
    parts = {"forward and backward": [], "optimizer": []}
    for step in range(rounds + 1):
        start_name = step * batch_size
        batch = [token_lists[(start_name + b) % len(token_lists)] for b in range(batch_size)]
        start = time.perf_counter()
        loss_of(batch).backward()
        middle = time.perf_counter()
        update(step)
        if step > 0:
            parts["forward and backward"].append(middle - start)
            parts["optimizer"].append(time.perf_counter() - middle)
    return parts


def fastest_step(name, config, token_lists, batch_size=1, rounds=5):
    """{"forward and backward": s, "optimizer": s, "step": s}: the fastest of `rounds` steps, part by part.

    The fastest, not the mean: on a shared machine a step is now and then paused by another program
    for milliseconds, and the fastest is the one least disturbed ("step" is the fastest whole step).
    """
    parts = step_parts(name, config, token_lists, batch_size, rounds)
    totals = [a + b for a, b in zip(parts["forward and backward"], parts["optimizer"])]
    return {**{part: min(times) for part, times in parts.items()}, "step": min(totals)}
