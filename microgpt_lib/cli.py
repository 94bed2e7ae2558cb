"""The command line: `python -m microgpt_lib train | sample | bench`."""
import argparse
import random
import statistics
import sys
import time
from types import SimpleNamespace

from . import optim, sample, train as scalar_train
from .checkpoint import load_checkpoint, save_checkpoint
from .data import load_docs, shuffled
from .model import GPT, GPTConfig, count_params
from .sample import check_temperature
from .tokenizer import Tokenizer
from .train import format_step

SAMPLES_HEADER = "--- inference (new, hallucinated names) ---"
ENGINES = ("scalar", "fused", "numpy")


def load_engine(name):
    """How one engine makes microgpt's model and its optimizer, trains, samples, and hands back a scalar GPT to save.

    Every engine draws the same weights from the same generator, so all three print the same run.
    """
    if name == "numpy":
        from . import numpy_model as nm

        return SimpleNamespace(model=nm.NumpyGPT, optimizer=nm.Adam, train=nm.train, document_loss=nm.document_loss,
                               sample_names=nm.sample_names, to_gpt=nm.NumpyGPT.to_gpt)
    scalar = SimpleNamespace(model=GPT, optimizer=lambda model, *args: optim.Adam(model.params, *args),
                             train=scalar_train.train, document_loss=scalar_train.document_loss,
                             sample_names=sample.sample_names, to_gpt=lambda model: model)
    if name == "fused":
        from . import fused

        scalar.model = lambda config, rng: fused.FusedGPT(GPT(config, rng))  # the same Values, fewer nodes
        scalar.train, scalar.document_loss = fused.train, fused.document_loss
        scalar.to_gpt = lambda model: model.model
    return scalar


class DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default, unless it has none."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


def build_parser():
    defaults = DefaultsFormatter
    parser = argparse.ArgumentParser(prog="python -m microgpt_lib", description="microgpt: train a tiny GPT on names, and sample new ones.")
    commands = parser.add_subparsers(dest="command", required=True)

    t = commands.add_parser("train", help="train from scratch, print the loss of every step, then samples", formatter_class=defaults)
    t.add_argument("--data", default=None, help="text file, one document per line (default: the shipped data/names.txt)")
    t.add_argument("--seed", type=int, default=42, help="seed of the one random generator (shuffle, weights, samples)")
    t.add_argument("--n-embd", type=int, default=16, help="width of the embeddings and of every layer")
    t.add_argument("--n-head", type=int, default=4, help="attention heads per layer; must divide --n-embd")
    t.add_argument("--n-layer", type=int, default=1, help="transformer blocks")
    t.add_argument("--block-size", type=int, default=16, help="longest context, in characters")
    t.add_argument("--steps", type=int, default=1000, help="training steps, one document each")
    t.add_argument("--lr", type=float, default=0.01, help="Adam's learning rate at step 1, decaying linearly to 0")
    t.add_argument("--beta1", type=float, default=0.85, help="Adam's decay of the mean gradient")
    t.add_argument("--beta2", type=float, default=0.99, help="Adam's decay of the mean squared gradient")
    t.add_argument("--engine", choices=ENGINES, default="scalar",
                   help="scalar: the chapters' Value graph; fused: fewer, bigger Value nodes; numpy: arrays (chapter 09). "
                   "All three print the same run")
    add_sampling_args(t)
    t.add_argument("--save", metavar="PATH", help="write a checkpoint here after training")

    s = commands.add_parser("sample", help="sample names from a saved checkpoint", formatter_class=defaults)
    s.add_argument("--checkpoint", required=True, metavar="PATH", help="a file written by train --save")
    s.add_argument("--seed", type=int, default=42, help="seed of the random generator")
    add_sampling_args(s)

    b = commands.add_parser("bench", help="time training steps of each engine at the default settings", formatter_class=defaults)
    b.add_argument("--steps", type=int, default=10, help="steps to time per engine (the numpy engine repeats them 10 times)")
    b.add_argument("--engine", choices=ENGINES + ("all",), default="all", help="which engine to time")
    return parser


def add_sampling_args(parser):
    parser.add_argument("--temperature", type=float, default=0.5, help="above 0; below 1 is more cautious, above 1 wilder")
    parser.add_argument("--num-samples", type=int, default=20, help="names to generate")


def print_samples(model, tokenizer, rng, num_samples, temperature, sample_names=sample.sample_names):
    print()
    print(SAMPLES_HEADER)
    for i, name in enumerate(sample_names(model, tokenizer, rng, num_samples, temperature)):
        print(f"sample {i + 1:2d}: {name}")


def run_train(args):
    # check everything before the minutes of training, not after
    check_temperature(args.temperature)
    if args.num_samples < 1:
        raise ValueError(f"--num-samples must be at least 1, got {args.num_samples}")
    if args.steps < 1:
        raise ValueError(f"--steps must be at least 1, got {args.steps}")
    rng = random.Random(args.seed)
    docs = shuffled(load_docs(args.data), rng)
    tokenizer = Tokenizer.from_docs(docs)
    print(f"num docs: {len(docs)}")
    print(f"vocab size: {tokenizer.vocab_size}")
    config = GPTConfig(tokenizer.vocab_size, args.n_embd, args.n_head, args.n_layer, args.block_size)
    engine = load_engine(args.engine)
    model = engine.model(config, rng)
    print(f"num params: {sum(count_params(config).values())}")
    optimizer = engine.optimizer(model, args.steps, args.lr, args.beta1, args.beta2)
    loss_history = engine.train(model, tokenizer, docs, args.steps, optimizer,
                                callback=lambda *a: print(format_step(*a), flush=True))
    if args.save:
        save_checkpoint(args.save, engine.to_gpt(model), tokenizer, args.steps, loss_history)
    print_samples(model, tokenizer, rng, args.num_samples, args.temperature, engine.sample_names)


def run_sample(args):
    checkpoint = load_checkpoint(args.checkpoint)
    rng = random.Random(args.seed)
    print_samples(checkpoint.model, checkpoint.tokenizer, rng, args.num_samples, args.temperature)


def run_bench(args):
    """Median seconds per training step (forward, backward, Adam) of each engine, side by side in one run."""
    if args.steps < 1:
        raise ValueError(f"--steps must be at least 1, got {args.steps}")
    names = ENGINES if args.engine == "all" else (args.engine,)
    rng = random.Random(42)
    docs = shuffled(load_docs(), rng)
    tokenizer = Tokenizer.from_docs(docs)
    config = GPTConfig(tokenizer.vocab_size)
    print(f"seconds per training step at the default settings, on the same {args.steps} names for every engine")
    print(f"{'engine':8s} {'median':>10s} {'min':>10s} {'max':>10s} {'speed-up':>9s}")
    medians = {}
    for name in names:
        times = time_steps(load_engine(name), config, tokenizer, docs[: args.steps], rounds=10 if name == "numpy" else 1)
        medians[name] = statistics.median(times)
        speedup = f"{medians['scalar'] / medians[name]:8.1f}x" if "scalar" in medians else f"{'-':>9s}"
        print(f"{name:8s} {medians[name]:10.6f} {min(times):10.6f} {max(times):10.6f} {speedup}", flush=True)
    print(f"median {', '.join(f'{name} {m:.6f} s' for name, m in medians.items())} per step")


def time_steps(engine, config, tokenizer, docs, rounds=1):
    """Seconds taken by each training step on `docs`, in order, `rounds` times over."""
    model = engine.model(config, random.Random(42))
    num_steps = len(docs) * rounds
    optimizer = engine.optimizer(model, num_steps)
    times = []
    for step in range(num_steps):
        tokens = tokenizer.tokenize(docs[step % len(docs)])
        start = time.perf_counter()
        loss = engine.document_loss(model, tokens)
        loss.backward()
        optimizer.step(step)
        times.append(time.perf_counter() - start)
    return times


def main(argv=None):
    args = build_parser().parse_args(argv)
    run = {"train": run_train, "sample": run_sample, "bench": run_bench}[args.command]
    try:
        run(args)
    except (ValueError, OSError, FloatingPointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0
