"""Checks for the exercises of chapter 14 (PyTorch at scale): the all-reduce of gradients by hand, a
throughput calculation, and mixed precision's loss scaling.

Each check computes the expected values itself: the mean over processes from the values it gave each
process, the real predictions from the token lists, the unscaled gradients in float32. Every check takes
`cases=None` (None: the cases the learner sees; the hidden cases of the check cells pass others).
The all-reduce check starts real processes (forked, gloo over 127.0.0.1), so it runs where `fork` exists
(Linux and macOS).
"""
import multiprocessing
import queue
import socket

from . import call, close, fail, fmt, passed


# ---------------------------------------------------------------- exercise 1: the all-reduce by hand

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_values(rank, shapes, dtype_name):
    """The tensors process `rank` holds (its "gradients"): different on every process, known to the check."""
    import torch

    dtype = getattr(torch, dtype_name)
    out = []
    for i, shape in enumerate(shapes):
        n = 1
        for d in shape:
            n *= d
        values = torch.arange(n, dtype=dtype).reshape(shape) * (rank + 1) + 10 * i - 3 * rank**2
        out.append(values / 7)
    return out


def _worker(rank, world_size, port, shapes, dtype_name, all_reduce_mean, results):
    try:
        import torch
        import torch.distributed as dist

        torch.set_num_threads(1)
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size)
        try:
            tensors = rank_values(rank, shapes, dtype_name)
            returned = all_reduce_mean(tensors)
            results.put((rank, "ok", [t.tolist() for t in tensors], returned is None))
        finally:
            dist.destroy_process_group()
    except Exception as err:  # the learner's error, sent back to the check
        results.put((rank, "error", f"{type(err).__name__}: {err}", None))


def check_all_reduce_mean(all_reduce_mean, cases=None):
    """all_reduce_mean(tensors): on every process, each tensor replaced in place by its mean over the processes.

    cases: (world_size, shapes, dtype name); the check starts world_size processes that each hold other values.
    """
    __tracebackhide__ = True
    name = "all_reduce_mean"
    import torch

    if "fork" not in multiprocessing.get_all_start_methods():
        passed(name, "not run: this system cannot fork processes (Windows); run it on Linux or macOS")
        return
    cases = cases or [(2, [(3,), (2, 2)], "float32")]
    context = multiprocessing.get_context("fork")
    for world_size, shapes, dtype_name in cases:
        results = context.Queue()
        port = _free_port()
        processes = [context.Process(target=_worker, args=(rank, world_size, port, shapes, dtype_name, all_reduce_mean,
                                                           results), daemon=True) for rank in range(world_size)]
        for p in processes:
            p.start()
        got = {}
        try:
            for _ in range(world_size):
                rank, status, value, returned_none = results.get(timeout=60)
                got[rank] = (status, value, returned_none)
        except queue.Empty:
            fail(name, f"every one of the {world_size} processes to finish", "some never did (waiting for each other?)",
                 "every process must call dist.all_reduce on the same tensors, in the same order")
        finally:
            for p in processes:
                p.join(timeout=10)
                if p.is_alive():
                    p.kill()
        per_rank = [rank_values(rank, shapes, dtype_name) for rank in range(world_size)]
        expected = [sum(tensors[i] for tensors in per_rank) / world_size for i in range(len(shapes))]
        for rank in range(world_size):
            status, value, returned_none = got[rank]
            if status == "error":
                fail(name, "the mean over the processes", f"an error on process {rank}: {value}",
                     "run it on one tensor first; dist.all_reduce(t) changes t in place and returns None")
            for i, (want, have) in enumerate(zip(expected, value)):
                have = torch.tensor(have, dtype=want.dtype)
                if not torch.allclose(have, want, rtol=1e-5, atol=1e-6):
                    summed = sum(tensors[i] for tensors in per_rank)
                    hint = ("that is the sum over the processes: divide by dist.get_world_size()"
                            if torch.allclose(have, summed, rtol=1e-5, atol=1e-6) else
                            "all_reduce sums in place (op=dist.ReduceOp.SUM, the default); then divide by "
                            "dist.get_world_size(), in place too (t /= ..., or t.div_(...)), on every tensor")
                    fail(name, f"tensor {i} on process {rank} of {world_size} to be {fmt(want.flatten().tolist())}",
                         fmt(have.flatten().tolist()), hint)
    passed(name, f"{len(cases)} case(s), up to {max(c[0] for c in cases)} processes: every tensor is the mean, in place")


# ---------------------------------------------------------------- exercise 2: throughput

def check_throughput(throughput, cases=None):
    """throughput(batches, block_size, seconds) -> (names per second, tokens per second, padded fraction).

    cases: (batches, block_size, seconds); a batch is a list of token lists (BOS, ..., BOS).
    """
    __tracebackhide__ = True
    name = "throughput"
    cases = cases or [([[[0, 1, 2, 0], [0, 3, 0]], [[0, 4, 4, 5, 6, 0], [0, 1, 0], [0, 2, 2, 0]]], 16, 0.5),
                      ([[[0, 1, 0]] * 4], 8, 2.0)]
    for batches, block_size, seconds in cases:
        names = sum(len(batch) for batch in batches)
        real = [[min(block_size, len(tokens) - 1) for tokens in batch] for batch in batches]
        computed = sum(len(batch) * max(lengths) for batch, lengths in zip(batches, real))
        expected = (names / seconds, sum(map(sum, real)) / seconds, 1 - sum(map(sum, real)) / computed)
        got = call(name, throughput, [list(map(list, b)) for b in batches], block_size, seconds)
        if not (isinstance(got, (tuple, list)) and len(got) == 3):
            fail(name, "a tuple of 3 numbers", repr(got), "return names_per_second, tokens_per_second, padded_fraction")
        what = ("names per second", "tokens per second", "padded fraction")
        hints = ("every name of every batch, over the seconds",
                 "a token list of n tokens makes n - 1 predictions, at most block_size of them (a longer name is cut)",
                 "each batch computes len(batch) x its longest row of predictions; the fraction of those that are "
                 "padding is 1 - real / computed")
        for i in range(3):
            if not close(float(got[i]), expected[i], 1e-9):
                fail(name, f"{what[i]} {expected[i]:.6g} (block_size={block_size}, {seconds} s)", fmt(float(got[i])),
                     hints[i])
    passed(name, f"{len(cases)} case(s)")


# ---------------------------------------------------------------- exercise 3: loss scaling

def check_unscale(unscale, cases=None):
    """unscale(grads, scale) -> (float32 gradients divided by scale, found_inf): what GradScaler does before a step.

    cases: (list of gradients as lists of numbers, scale); they are made float16 tensors (scaled gradients).
    """
    __tracebackhide__ = True
    name = "unscale"
    import torch

    cases = cases or [([[1024.0, -512.0, 3.0], [0.25, 60000.0]], 1024.0), ([[2.0, -4.0]], 2.0)]
    for values, scale in cases:
        grads = [torch.tensor(v, dtype=torch.float16) for v in values]
        expected = [g.float() / scale for g in grads]
        found_inf = any(not bool(torch.isfinite(g).all()) for g in grads)
        got = call(name, unscale, [g.clone() for g in grads], scale)
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            fail(name, "a pair (gradients, found_inf)", repr(got)[:80], "return unscaled_list, found_inf")
        got_grads, got_inf = got
        if bool(got_inf) != found_inf:
            fail(name, f"found_inf={found_inf} for {fmt([fmt(v) for v in values])}", f"found_inf={bool(got_inf)}",
                 "a scaled gradient that overflowed float16 is inf (or nan): check every one with torch.isfinite, "
                 "the step is then skipped and the scale lowered")
        if found_inf:
            continue  # the step is skipped: the values do not matter
        for i, (want, have) in enumerate(zip(expected, got_grads)):
            if not (isinstance(have, torch.Tensor) and have.dtype == torch.float32):
                fail(name, f"gradient {i} as a float32 tensor", f"{type(have).__name__} "
                     f"{getattr(have, 'dtype', '')}", "convert to float32 first (g.float()), then divide: "
                     "the small unscaled values are what float16 cannot hold")
            if not torch.allclose(have, want, rtol=1e-6, atol=0):
                fail(name, f"gradient {i} = {fmt(want.tolist())} (scale {scale})", fmt(have.tolist()),
                     "divide by the scale in float32 (g.float() / scale): in float16 the small results round "
                     "or underflow to 0")
    passed(name, f"{len(cases)} case(s)")
