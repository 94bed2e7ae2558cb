"""The command line: `python -m microgpt_lib train | sample | bench`."""
import argparse
import random
import statistics
import sys
import time

from .checkpoint import load_checkpoint, save_checkpoint
from .data import load_docs, shuffled
from .model import GPT, GPTConfig
from .optim import Adam
from .sample import check_temperature, sample_names
from .tokenizer import Tokenizer
from .train import document_loss, format_step, train

SAMPLES_HEADER = "--- inference (new, hallucinated names) ---"


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
    add_sampling_args(t)
    t.add_argument("--save", metavar="PATH", help="write a checkpoint here after training")

    s = commands.add_parser("sample", help="sample names from a saved checkpoint", formatter_class=defaults)
    s.add_argument("--checkpoint", required=True, metavar="PATH", help="a file written by train --save")
    s.add_argument("--seed", type=int, default=42, help="seed of the random generator")
    add_sampling_args(s)

    b = commands.add_parser("bench", help="time training steps at the default settings", formatter_class=defaults)
    b.add_argument("--steps", type=int, default=10, help="steps to time")
    return parser


def add_sampling_args(parser):
    parser.add_argument("--temperature", type=float, default=0.5, help="above 0; below 1 is more cautious, above 1 wilder")
    parser.add_argument("--num-samples", type=int, default=20, help="names to generate")


def print_samples(model, tokenizer, rng, num_samples, temperature):
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
    model = GPT(config, rng)
    print(f"num params: {len(model.params)}")
    optimizer = Adam(model.params, args.steps, args.lr, args.beta1, args.beta2)
    loss_history = train(model, tokenizer, docs, args.steps, optimizer, callback=lambda *a: print(format_step(*a), flush=True))
    if args.save:
        save_checkpoint(args.save, model, tokenizer, args.steps, loss_history)
    print_samples(model, tokenizer, rng, args.num_samples, args.temperature)


def run_sample(args):
    checkpoint = load_checkpoint(args.checkpoint)
    rng = random.Random(args.seed)
    print_samples(checkpoint.model, checkpoint.tokenizer, rng, args.num_samples, args.temperature)


def run_bench(args):
    """Median seconds per training step at the defaults (forward, backward, Adam), in this process."""
    if args.steps < 1:
        raise ValueError(f"--steps must be at least 1, got {args.steps}")
    rng = random.Random(42)
    docs = shuffled(load_docs(), rng)
    tokenizer = Tokenizer.from_docs(docs)
    model = GPT(GPTConfig(tokenizer.vocab_size), rng)
    optimizer = Adam(model.params, args.steps)
    times = []
    for step in range(args.steps):
        start = time.perf_counter()
        loss = document_loss(model, tokenizer.tokenize(docs[step]))
        loss.backward()
        optimizer.step(step)
        times.append(time.perf_counter() - start)
        print(f"step {step + 1:3d}: {times[-1]:.3f} s  ({docs[step]!r}, {len(docs[step]) + 1} positions)", flush=True)
    print(f"median {statistics.median(times):.3f} s per step over {args.steps} steps "
          f"(min {min(times):.3f}, max {max(times):.3f}) at the default settings")


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
