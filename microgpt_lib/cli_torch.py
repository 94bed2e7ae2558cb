"""`train --engine torch` (chapter 14): chapter 11's batched run on PyTorch, printed as the numpy engine prints it.

Alone, or as one of the processes `torchrun --nproc-per-node N -m microgpt_lib train --engine torch ...` starts:
then every process trains its share of each batch, and rank 0 alone prints, saves and samples (the other
processes' output goes nowhere; torchrun reports a process that fails). Ctrl-C or SIGTERM stops every
process at the same step boundary (they agree on it by an all-reduce), rank 0 saves, and the printed command
resumes the run, under torchrun or in one process: the checkpoint is the numpy engine's.
"""
import contextlib
import dataclasses
import os
import pathlib
import signal
import sys
import time

from .cli_train import build_tokenizer, one_process_launcher, run_words, shell_join, train_to_the_end
from .data import load_docs, split_docs
from .model import GPTConfig


def run_torch(args, stop):
    """The batched run of `cli_train.run_batched`, on torch_train; the exit status (None: finished)."""
    from . import batch_train as bt
    from . import torch_train as tt

    rank = int(os.environ.get("RANK", "0"))
    with open(os.devnull, "w") as devnull, contextlib.ExitStack() as quiet:
        if rank != 0:  # rank 0 alone prints
            quiet.enter_context(contextlib.redirect_stdout(devnull))
            quiet.enter_context(contextlib.redirect_stderr(devnull))
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            one_stop_per_ctrl_c(stop)
        try:
            return train_torch(args, stop, bt, tt)
        finally:
            tt.distributed_teardown()


def one_stop_per_ctrl_c(stop, seconds=2.0):
    """Under torchrun a Ctrl-C reaches every process twice, from the terminal and passed on by torchrun: count
    the signals that come within `seconds` of the last one as one (a second Ctrl-C after that still quits at once)."""
    last = [-float("inf")]

    def handler(signum, frame):
        now = time.monotonic()
        if now - last[0] >= seconds:
            last[0] = now
            stop._handler(signum, frame)

    for signum in stop.NAMES:
        try:
            signal.signal(signum, handler)
        except (ValueError, OSError):  # not the main thread
            pass


def train_torch(args, stop, bt, tt):

    config = bt.RunConfig(num_steps=args.steps, batch_size=args.batch_size, lr=args.lr, warmup_steps=args.warmup_steps,
                          beta1=args.beta1, beta2=args.beta2, weight_decay=args.weight_decay, seed=args.seed,
                          eval_every=args.eval_every, save_every=args.save_every)
    split = split_docs(load_docs(args.data))
    if args.batch_size > len(split.train):
        raise ValueError(f"--batch-size {args.batch_size} is more than the {len(split.train)} training names; "
                         f"use at most {len(split.train)}")
    tokenizer = build_tokenizer(args, split)
    gpt_config = GPTConfig(tokenizer.vocab_size, args.n_embd, args.n_head, args.n_layer, args.block_size)
    too_long = [doc for doc in split.val + split.test if len(tokenizer.tokenize(doc)) - 1 > gpt_config.block_size]
    if too_long:
        raise ValueError(f"{len(too_long)} held-out documents need more than --block-size {gpt_config.block_size} "
                         f"predictions (e.g. {too_long[0]!r}); raise --block-size")
    if args.compile:  # where it cannot work, say so now, not in a compiler's traceback at the first step
        from .torch_bench import compile_works

        why_not = compile_works()
        if why_not is not None:
            raise ValueError(f"--compile: torch.compile does not work here ({why_not}); it needs a C "
                             "compiler (gcc or clang; MSVC on Windows) and a Python that PyTorch supports: "
                             "install one, or leave out --compile")
    device = args.device or tt.best_device()
    how = dict(device=device, dtype=args.dtype or tt.default_dtype(device), compile=args.compile)
    if args.resume:
        tt.check_batched_checkpoint(args.resume, one_process_command)
        run = tt.resume_run(args.resume, gpt_config, config, tokenizer, split.train, **how)
    else:
        run = tt.start_run(gpt_config, config, **how)
    run.command = run_words(args.argv)
    print(f"num docs: {len(split.train)} train, {len(split.val)} val, {len(split.test)} test")
    print(f"vocab size: {tokenizer.vocab_size}")
    print(f"num params: {run.num_params}")
    print(f"settings: {', '.join(f'{k}={v}' for k, v in dataclasses.asdict(gpt_config).items() if k != 'vocab_size')}, "
          f"{', '.join(f'{k}={v}' for k, v in dataclasses.asdict(config).items())}")
    processes = f", {run.world_size} processes of {share_sizes(config.batch_size, run.world_size)} names" if run.world_size > 1 else ""
    print(f"engine: torch {tt.torch.__version__} on {run.device}, {run.dtype}{', compiled' if args.compile else ''}, "
          f"{threads(tt.torch.get_num_threads())}{processes}")
    # the samples are the numpy engine's: its model, the same generator
    status = train_to_the_end(args, stop, run, tokenizer, split, gpt_config.block_size, tt.train_run,
                              tt.save_run, lambda: tt.to_numpy_run(run).model)
    if run.world_size > 1 and args.save and run.step < config.num_steps:  # the resume line named torchrun
        print(f"or in one process (the checkpoint resumes under any number of processes):\n"
              f"  {one_process_command(run_words(args.argv), args.save)}", file=sys.stderr)
    return status


def one_process_command(command, path):
    """The command line that resumes the run saved at `path` in one process (no torchrun)."""
    return shell_join([*one_process_launcher(), *command, "--resume", str(path)])


def torchrun_launcher(parent=None, argv=None):
    """The words that started torchrun, up to this program's own arguments (`torchrun --nproc-per-node 2 -m
    microgpt_lib`): what restarts this run as it was started. They are read from torchrun's command line
    (torchrun is this process's parent; Linux shows it in /proc) and, where that cannot be read, rebuilt
    from the variables torchrun sets (the number of processes per machine, and of machines)."""
    argv = sys.argv[1:] if argv is None else argv  # torchrun passes this program's arguments on unchanged
    parent = parent_command() if parent is None else parent
    if argv and len(parent) > len(argv) and parent[-len(argv):] == argv:
        words = parent[: -len(argv)]
        names = [pathlib.Path(word).name for word in words[:2]]
        if len(names) == 2 and "python" in names[0] and names[1] == "torchrun":
            words = words[1:]  # the interpreter that runs the torchrun script: the script alone says it
        return words
    nodes = os.environ.get("GROUP_WORLD_SIZE", "1")
    return ["torchrun", *(["--nnodes", nodes] if nodes != "1" else []),
            "--nproc-per-node", os.environ.get("LOCAL_WORLD_SIZE", "1"), "-m", "microgpt_lib"]


def parent_command():
    """The parent process's command line, word by word; [] where the system does not show it."""
    try:
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as f:
            return [word.decode(errors="replace") for word in f.read().split(b"\0")[:-1]]
    except OSError:
        return []


def share_sizes(batch_size, world_size):
    sizes = sorted({batch_size * (r + 1) // world_size - batch_size * r // world_size for r in range(world_size)})
    return " or ".join(map(str, sizes))


def threads(n):
    return f"{n} thread{'s' if n != 1 else ''}"
