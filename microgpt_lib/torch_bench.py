"""`bench --engine torch` (chapter 14): training throughput of the torch engine against the NumPy engine.

Names per second and tokens per second (real predictions, padding not counted) on the `--preset big`
model and batch, every engine on the same batches, in rounds that alternate the engines (so a machine
that gets busier slows them all alike); the median round of each. Then DistributedDataParallel: the same
total batch on 2 processes (torchrun, gloo) against 1 process, and the scaling efficiency
(throughput with 2 / (2 x throughput with 1): 100% is perfect, 50% is no gain at all).

`python -m microgpt_lib.torch_bench --worker` is one such process (what torchrun starts).
"""
import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time

from . import batch_train as bt
from .data import load_docs, split_docs
from .model import GPTConfig
from .tokenizer import Tokenizer

BIG = {k: v for k, v in bt.PRESETS["big"].items() if k in ("n_embd", "n_head", "n_layer", "block_size")}


def setup(steps, seed=0):
    """The big preset's model and run settings, the tokenizer, and `steps` batches of training names."""
    split = split_docs(load_docs())
    tokenizer = Tokenizer(sorted(set("".join(split.train + split.val + split.test))))
    gpt_config = GPTConfig(tokenizer.vocab_size, **BIG)
    preset = bt.PRESETS["big"]
    config = bt.RunConfig(num_steps=10_000, batch_size=preset["batch_size"], lr=preset["lr"], warmup_steps=preset["warmup_steps"],
                          beta1=preset["beta1"], beta2=preset["beta2"], weight_decay=preset["weight_decay"])
    rng = random.Random(seed)
    batches = [[split.train[i] for i in rng.sample(range(len(split.train)), config.batch_size)] for _ in range(steps)]
    return gpt_config, config, tokenizer, batches


def real_tokens(tokenizer, batches, block_size):
    return sum(min(block_size, len(tokenizer.tokenize(doc)) - 1) for batch in batches for doc in batch)


def numpy_stepper(gpt_config, config, tokenizer):
    run = bt.start_run(gpt_config, config)

    def step(batch):
        loss = bt.masked_loss(run.model, [tokenizer.tokenize(doc) for doc in batch])
        loss.backward()
        run.optimizer.step(run.step)
        run.step += 1

    return step


def torch_stepper(gpt_config, config, tokenizer, dtype, compile=False):
    from . import torch_train as tt

    run = tt.start_run(gpt_config, config, "cpu", dtype, compile=compile)

    def step(batch):
        tt.train_step(run, tokenizer, batch)
        run.step += 1

    return step


def time_steps(step, batches):
    start = time.perf_counter()
    for batch in batches:
        step(batch)
    return time.perf_counter() - start


def compile_works():
    """None if torch.compile trains here, else why not (one line)."""
    import torch

    try:
        f = torch.compile(lambda x: (x * x).sum())
        f(torch.ones(3, requires_grad=True)).backward()
        return None
    except Exception as err:  # no C compiler, an unsupported Python, ...: say so and carry on
        return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:160]


def blas_threads():
    """The number of threads of NumPy's BLAS (the largest, if it has several libraries)."""
    from threadpoolctl import threadpool_info

    return max((pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"), default=1)


def engines_bench(steps=10, rounds=3, compile=False, threads=1, out=print):
    """Names and tokens per second of numpy and torch (float64, float32, bfloat16, float32 compiled).

    Both engines get `threads` threads (NumPy's BLAS and PyTorch alike): one by default, as microgpt_lib
    sets for its own processes."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    with threadpool_limits(threads, user_api="blas"):
        return timed_engines(steps, rounds, compile, out)


def timed_engines(steps, rounds, compile, out):
    import torch

    gpt_config, config, tokenizer, batches = setup(steps)
    tokens = real_tokens(tokenizer, batches, gpt_config.block_size)
    steppers = {"numpy float64": numpy_stepper(gpt_config, config, tokenizer)}
    for dtype in ("float64", "float32", "bfloat16"):
        steppers[f"torch {dtype}"] = torch_stepper(gpt_config, config, tokenizer, dtype)
    why_not = compile_works() if compile else "not asked (add --compile)"
    if why_not is None:
        steppers["torch float32 compiled"] = torch_stepper(gpt_config, config, tokenizer, "float32", compile=True)
    # warm-up, a whole round each: first calls compile (each new batch shape, too), and the NumPy
    # engine's first steps run slower (until the C library's allocator keeps the big arrays it frees
    # for the next step instead of returning them to the system)
    for step in steppers.values():
        time_steps(step, batches)
    seconds = {name: [] for name in steppers}
    for _ in range(rounds):
        for name, step in steppers.items():
            seconds[name].append(time_steps(step, batches))
    out(f"training throughput, --preset big model ({', '.join(f'{k}={v}' for k, v in BIG.items())}), "
        f"batch {config.batch_size}, {steps} steps x {rounds} rounds, torch {torch.__version__}; threads: "
        f"torch {torch.get_num_threads()}, numpy's BLAS {blas_threads()}; {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan'):.1f}")
    out(f"{'engine':24s} {'names/s':>9s} {'tokens/s':>9s} {'vs numpy':>9s}")
    result = {}
    for name, times in seconds.items():
        median = statistics.median(times)
        result[name] = {"names_per_s": steps * config.batch_size / median, "tokens_per_s": tokens / median}
        ratio = statistics.median(seconds["numpy float64"]) / median
        out(f"{name:24s} {result[name]['names_per_s']:9.0f} {result[name]['tokens_per_s']:9.0f} {ratio:8.1f}x")
    if why_not is not None:
        out(f"torch.compile not measured: {why_not}")
    return result


def worker(steps):
    """One process of the DDP bench (alone, or one of torchrun's): seconds for `steps` steps; rank 0 prints them."""
    from . import torch_train as tt

    gpt_config, config, tokenizer, batches = setup(steps + 2)
    run = tt.start_run(gpt_config, config, "cpu", "float32")
    for batch in batches[:2]:
        tt.train_step(run, tokenizer, batch)
    tt.agree(False, run)  # start the clock together
    seconds = time_steps(lambda batch: tt.train_step(run, tokenizer, batch), batches[2:])
    if run.rank == 0:
        print(json.dumps({"world_size": run.world_size, "seconds": seconds}), flush=True)
    tt.distributed_teardown()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_processes(n, steps, tries=2):
    """Seconds for `steps` steps of the whole batch on `n` processes (n > 1: under torchrun, gloo).

    The port picked for torchrun is free when picked, but another program may take it before torchrun
    does; so a failed start is tried again, on another port, once."""
    me = [sys.executable, "-m", "microgpt_lib.torch_bench", "--worker", "--steps", str(steps)]
    for attempt in range(tries):
        launch = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(n),
                  "--master-addr", "127.0.0.1", "--master-port", str(free_port())]
        done = subprocess.run(me if n == 1 else launch + me[1:], capture_output=True, text=True, timeout=900)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode == 0 and lines:
            return json.loads(lines[-1])["seconds"]
    # the process's own error, not torchrun's summary of it (ChildFailedError, a closing line of '=')
    said = [line for line in done.stderr.splitlines() if line.strip() and set(line.strip()) != {"="}]
    errors = [line for line in said if any(word in line for word in ("Error", "Exception", "error:"))
              and "ChildFailedError" not in line] or said
    raise RuntimeError(f"the {n}-process bench failed {tries} times (exit status {done.returncode}): "
                       f"{errors[-1].strip() if errors else 'no message'}")


def ddp_bench(steps=10, processes=2, rounds=3, out=print):
    """The same total batch on `processes` processes against 1, in alternating rounds (the median of each):
    seconds, names/s and the scaling efficiency."""
    times = {1: [], processes: []}
    for _ in range(rounds):
        for n in (1, processes):
            times[n].append(bench_processes(n, steps))
    results = {n: statistics.median(seconds) for n, seconds in times.items()}
    batch_size = bt.PRESETS["big"]["batch_size"]
    out(f"DistributedDataParallel (gloo, float32), batch {batch_size} in all, {steps} steps, median of {rounds} rounds:")
    for n, seconds in results.items():
        out(f"  {n} process{'es' if n > 1 else '  '}: {seconds / steps * 1000:7.1f} ms/step, "
            f"{steps * batch_size / seconds:6.0f} names/s")
    efficiency = results[1] / (processes * results[processes])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    out(f"scaling efficiency: {100 * efficiency:.0f}% (speed-up {results[1] / results[processes]:.2f}x on {processes} "
        f"processes; {os.cpu_count()} cores, load average {load:.1f} when it ended)")
    return efficiency


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m microgpt_lib.torch_bench")
    parser.add_argument("--worker", action="store_true", help="be one process of the DDP bench")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--compile", action="store_true", help="also time float32 under torch.compile")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads of both engines (PyTorch's, NumPy's BLAS)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of the engines in turn (the median is shown)")
    parser.add_argument("--no-ddp", action="store_true", help="leave out the 2-process bench")
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.steps)
    engines_bench(args.steps, args.rounds, compile=args.compile, threads=args.threads)
    if args.no_ddp:
        return
    ddp_bench(args.steps)


if __name__ == "__main__":
    main()
