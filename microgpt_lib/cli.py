"""The command line: `python -m microgpt_lib train | sample | evaluate | bench`."""
import argparse
import dataclasses
import json
import random
import shlex
import signal
import statistics
import sys
import time
from types import SimpleNamespace

from . import optim, sample, train as scalar_train
from .checkpoint import check_writable, load_checkpoint, save_checkpoint
from .data import load_docs, shuffled, split_docs
from .model import GPT, GPTConfig, count_params
from .sample import check_temperature
from .tokenizer import Tokenizer
from .train import format_step
from .batch_train import PRESETS

PRESET_NAMES = {"num_steps": "steps"}  # RunConfig's names that the command line spells otherwise

SAMPLES_HEADER = "--- inference (new, hallucinated names) ---"
ENGINES = ("scalar", "fused", "numpy", "manual")


def load_engine(name):
    """How one engine makes microgpt's model and its optimizer, trains, samples, and hands back a scalar GPT to save.

    Every engine draws the same weights from the same generator, so all three print the same run.
    """
    if name == "numpy":
        from . import numpy_model as nm

        return SimpleNamespace(model=nm.NumpyGPT, optimizer=nm.Adam, train=nm.train, document_loss=nm.document_loss,
                               sample_names=nm.sample_names, to_gpt=nm.NumpyGPT.to_gpt)
    if name == "manual":  # chapter 09b: the same arrays, every backward written by hand
        from . import manual

        return SimpleNamespace(model=manual.ManualGPT, optimizer=manual.Adam, train=manual.train, document_loss=manual.document_loss,
                               sample_names=manual.sample_names, to_gpt=manual.ManualGPT.to_gpt)
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

    t = commands.add_parser("train", formatter_class=defaults,
                            help="train from scratch (or resume), print the loss of every step (or progress), then samples",
                            description="With only microgpt's options this is microgpt's run, printed line for line. "
                            "--preset, --batch-size, --warmup-steps, --weight-decay, --eval-every or --save-every make it a batched "
                            "run on the numpy engine (chapter 11): a train / validation / test split, progress lines, and "
                            "`val loss: X.XXXX` at the end. Either kind, given --save, saves on Ctrl-C, and --resume continues it exactly.")
    t.add_argument("--data", default=None, help="text file, one document per line (default: the shipped data/names.txt)")
    # default None: a value given on the command line overrides --preset, which overrides microgpt's default
    tunable(t, "--seed", int, "seed of the one random generator (shuffle, weights, samples; batched: weights and batches)")
    tunable(t, "--n-embd", int, "width of the embeddings and of every layer")
    tunable(t, "--n-head", int, "attention heads per layer; must divide --n-embd")
    tunable(t, "--n-layer", int, "transformer blocks")
    tunable(t, "--block-size", int, "longest context, in characters")
    tunable(t, "--steps", int, "training steps, one document each (batched: --batch-size documents each)")
    tunable(t, "--lr", float, "Adam's learning rate at step 1 (after the warm-up), decaying linearly to 0")
    tunable(t, "--beta1", float, "Adam's decay of the mean gradient")
    tunable(t, "--beta2", float, "Adam's decay of the mean squared gradient")
    t.add_argument("--engine", choices=ENGINES, default=None,
                   help="scalar: the chapters' Value graph; fused: fewer, bigger Value nodes; numpy: arrays (chapter 09); manual: "
                   "arrays, every backward by hand (chapter 09b). All four print the same run. Batched runs use numpy (default: scalar, or numpy when batched)")
    add_sampling_args(t)
    t.add_argument("--save", metavar="PATH", help="write a checkpoint here after training (batched: also every --save-every "
                   "steps, on Ctrl-C, and the best validation weights beside it as NAME.best.json)")
    batched = t.add_argument_group("batched training (chapter 11)")
    batched.add_argument("--preset", choices=sorted(PRESETS), default=None,
                         help="a named recipe; big: " + ", ".join(f"{PRESET_NAMES.get(k, k)}={v}" for k, v in PRESETS["big"].items()))
    tunable(batched, "--batch-size", int, "documents per step")
    tunable(batched, "--warmup-steps", int, "steps of linear learning-rate warm-up before the decay")
    tunable(batched, "--weight-decay", float, "AdamW's decoupled weight decay (against overfitting)")
    tunable(batched, "--eval-every", int, "measure the validation loss every this many steps (and at the end)")
    tunable(batched, "--save-every", int, "write the resumable --save checkpoint every this many steps (0: at the end only)")
    t.add_argument("--resume", metavar="PATH", help="continue the run saved at PATH by Ctrl-C or --save-every "
                   "(give the options it was started with; the resume command is printed on Ctrl-C)")
    batched.add_argument("--tokenizer", choices=("char", "bpe"), default="char",
                         help="char: one token per character; bpe: byte-pair encoding learnt from the training names (chapter 12)")
    batched.add_argument("--vocab-size", type=int, default=None,
                         help="with --tokenizer bpe: tokens in all (characters + merges + BOS) (default: 128)")

    s = commands.add_parser("sample", help="sample names from a saved checkpoint", formatter_class=defaults)
    s.add_argument("--checkpoint", required=True, metavar="PATH", help="a file written by train --save")
    s.add_argument("--seed", type=int, default=42, help="seed of the random generator")
    add_sampling_args(s)

    e = commands.add_parser("evaluate", formatter_class=defaults,
                            help="the loss per character of a checkpoint on the validation or test names")
    e.add_argument("--checkpoint", required=True, metavar="PATH", help="a file written by train --save (either kind)")
    e.add_argument("--split", choices=("val", "test", "train"), default="val", help="which names of data.split_docs to measure")
    e.add_argument("--data", default=None, help="text file, one document per line (default: the shipped data/names.txt)")

    b = commands.add_parser("bench", help="time training steps of each engine at the default settings", formatter_class=defaults)
    b.add_argument("--steps", type=int, default=10, help="steps to time per engine (the numpy engine repeats them 10 times)")
    b.add_argument("--engine", choices=ENGINES + ("all",), default="all", help="which engine to time")
    return parser


# microgpt's settings, and those of a batched run; --preset replaces some, the command line any
TRAIN_DEFAULTS = dict(seed=42, n_embd=16, n_head=4, n_layer=1, block_size=16, steps=1000, lr=0.01, beta1=0.85, beta2=0.99,
                      batch_size=32, warmup_steps=0, weight_decay=0.0, eval_every=100, save_every=0)
BATCHED_ONLY = ("batch_size", "warmup_steps", "weight_decay", "eval_every", "save_every")


def tunable(parser, flag, type, help):
    dest = flag[2:].replace("-", "_")
    parser.add_argument(flag, type=type, default=None, help=f"{help} (default: {TRAIN_DEFAULTS[dest]})")


def resolve_train_args(args):
    """Fill in every setting left out: the preset's value if it has one, else microgpt's default."""
    given = {k for k in TRAIN_DEFAULTS if getattr(args, k) is not None}
    # a plain run (microgpt's) resumes from its own version-1 checkpoint, a batched run from version 2
    if args.vocab_size is not None and args.tokenizer != "bpe":
        raise ValueError(f"--vocab-size {args.vocab_size} needs --tokenizer bpe (the character vocabulary is the data's characters)")
    args.batched = bool(args.preset or given & set(BATCHED_ONLY) or args.tokenizer != "char"
                        or (args.resume and saved_version(args.resume) != 1))
    preset = {PRESET_NAMES.get(k, k): v for k, v in PRESETS[args.preset].items()} if args.preset else {}
    for key, default in TRAIN_DEFAULTS.items():
        if key not in given:
            setattr(args, key, preset.get(key, default))
    if args.batched and args.engine not in (None, "numpy"):
        raise ValueError(f"batched training runs on the numpy engine, not --engine {args.engine}")
    args.engine = args.engine or ("numpy" if args.batched else "scalar")
    return args


def saved_version(path):
    """The format version of the checkpoint at `path` (None if unreadable: loading it says why)."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("version")
    except (OSError, ValueError, AttributeError):
        return None


def add_sampling_args(parser):
    parser.add_argument("--temperature", type=float, default=0.5, help="above 0; below 1 is more cautious, above 1 wilder")
    parser.add_argument("--num-samples", type=int, default=20, help="names to generate")


def print_samples(model, tokenizer, rng, num_samples, temperature, sample_names=sample.sample_names):
    print()
    print(SAMPLES_HEADER)
    for i, name in enumerate(sample_names(model, tokenizer, rng, num_samples, temperature)):
        print(f"sample {i + 1:2d}: {name}")


def run_train(args):
    resolve_train_args(args)
    # check everything before the minutes of training, not after
    check_temperature(args.temperature)
    if args.num_samples < 1:
        raise ValueError(f"--num-samples must be at least 1, got {args.num_samples}")
    if args.steps < 1:
        raise ValueError(f"--steps must be at least 1, got {args.steps}")
    if args.save:
        check_writable(args.save)
    if args.batched:
        return run_batched(args)
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
    # the training loop draws nothing at random: after the shuffle and the initial weights (drawn again
    # above, from the same seed), a run is its weights, Adam's m and v, and the step
    settings = {"seed": args.seed, "steps": args.steps, "lr": args.lr, "beta1": args.beta1, "beta2": args.beta2}
    loss_history, start_step = [], 0
    if args.resume:
        start_step, loss_history = resume_plain_run(args.resume, model, optimizer, config, settings, docs)
        print(f"resuming after step {start_step} from {args.resume}")

    def report(step, num_steps, loss):
        loss_history.append(loss)
        print(format_step(step, num_steps, loss), flush=True)
        if interrupted.requested and step + 1 < num_steps:  # at a step boundary: the weights are whole
            raise Interrupted(step + 1)

    with CtrlC() as interrupted:
        try:
            engine.train(model, tokenizer, docs, args.steps, optimizer, callback=report, start_step=start_step)
        except Interrupted as stop:
            print(file=sys.stderr)
            if args.save:
                from .batch_train import fingerprint

                state = {"optimizer": {"m": [float(x) for x in optimizer.m], "v": [float(x) for x in optimizer.v]},
                         "plain_run": {**settings, "data": fingerprint(docs)}}
                save_checkpoint(args.save, engine.to_gpt(model), tokenizer, stop.step, loss_history, **state)
                print_resume_hint(args, stop.step, args.steps)
            else:
                print(f"interrupted after step {stop.step} of {args.steps}; nothing saved (give --save PATH to keep a run)", file=sys.stderr)
            return 130
    if args.save:
        save_checkpoint(args.save, engine.to_gpt(model), tokenizer, args.steps, loss_history)
    print_samples(model, tokenizer, rng, args.num_samples, args.temperature, engine.sample_names)


def resume_plain_run(path, model, optimizer, config, settings, docs):
    """Load an interrupted plain run into `model` and `optimizer`; returns (steps done, loss history)."""
    from .batch_train import fingerprint

    saved = load_checkpoint(path, config=config)  # another shape is an error that names the difference
    where = f"cannot resume from {str(path)!r}:"
    if "plain_run" not in saved.extra or "optimizer" not in saved.extra:
        raise ValueError(f"{where} it holds weights only (no optimizer state); only a run stopped with Ctrl-C resumes")
    had = saved.extra["plain_run"]
    diffs = [f"{k}={had.get(k)!r} (this run: {v!r})" for k, v in settings.items() if had.get(k) != v]
    if had.get("data") != fingerprint(docs):
        diffs.append("other training data")
    if diffs:
        raise ValueError(f"{where} it was trained with {', '.join(diffs)}")
    weights = [p.data for p in saved.model.params]
    if hasattr(model, "flat"):  # the NumPy engine: every parameter is a view of flat
        model.flat[:] = weights
    else:
        for p, x in zip(model.params, weights):
            p.data = x
    optimizer.m[:] = saved.extra["optimizer"]["m"]
    optimizer.v[:] = saved.extra["optimizer"]["v"]
    return saved.step, list(saved.loss_history)


def print_resume_hint(args, step, num_steps):
    command = shlex.join(["python", "-m", "microgpt_lib", *progress_argv(args), "--resume", args.save])
    print(f"interrupted after step {step} of {num_steps}; saved to {args.save}; resume with:\n  {command}", file=sys.stderr)


class Interrupted(Exception):
    """Ctrl-C was pressed; raised at the next step boundary, after `step` steps."""

    def __init__(self, step):
        super().__init__(f"interrupted after step {step}")
        self.step = step


class CtrlC:
    """Within `with CtrlC() as c:`, a first Ctrl-C only sets `c.requested` (training stops cleanly at the
    end of the step); a second one interrupts at once, as usual."""

    def __enter__(self):
        self.requested = False
        self._previous = signal.getsignal(signal.SIGINT)

        def handler(signum, frame):
            if self.requested:
                raise KeyboardInterrupt
            self.requested = True
            print("\nCtrl-C: stopping at the end of this step (press again to quit at once)", file=sys.stderr, flush=True)

        try:
            signal.signal(signal.SIGINT, handler)
        except ValueError:  # not the main thread: Ctrl-C keeps its usual meaning
            self._previous = None
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def build_tokenizer(args, split):
    """The tokenizer of a batched run: the characters of every split (so no held-out character is unknown);
    with --tokenizer bpe, the merges learnt from the training documents only."""
    uchars = sorted(set("".join(split.train + split.val + split.test)))
    if args.tokenizer == "bpe":
        from .bpe import BPETokenizer

        return BPETokenizer.train(split.train, 128 if args.vocab_size is None else args.vocab_size, uchars=uchars)
    return Tokenizer(uchars)


def run_batched(args):
    from . import batch_train as bt
    from .numpy_model import sample_names as numpy_sample_names

    config = bt.RunConfig(num_steps=args.steps, batch_size=args.batch_size, lr=args.lr, warmup_steps=args.warmup_steps,
                          beta1=args.beta1, beta2=args.beta2, weight_decay=args.weight_decay, seed=args.seed, eval_every=args.eval_every, save_every=args.save_every)
    split = split_docs(load_docs(args.data))
    tokenizer = build_tokenizer(args, split)
    gpt_config = GPTConfig(tokenizer.vocab_size, args.n_embd, args.n_head, args.n_layer, args.block_size)
    too_long = [doc for doc in split.val + split.test if len(tokenizer.tokenize(doc)) - 1 > gpt_config.block_size]
    if too_long:
        raise ValueError(f"{len(too_long)} held-out documents need more than --block-size {gpt_config.block_size} "
                         f"predictions (e.g. {too_long[0]!r}); raise --block-size")
    if args.resume:
        run = bt.resume_run(args.resume, gpt_config, config, tokenizer, split.train)
    else:
        run = bt.start_run(gpt_config, config)
    print(f"num docs: {len(split.train)} train, {len(split.val)} val, {len(split.test)} test")
    print(f"vocab size: {tokenizer.vocab_size}")
    print(f"num params: {run.model.flat.size}")
    print(f"settings: {', '.join(f'{k}={v}' for k, v in dataclasses.asdict(gpt_config).items() if k != 'vocab_size')}, "
          f"{', '.join(f'{k}={v}' for k, v in dataclasses.asdict(config).items())}")
    if run.step:
        print(f"resuming after step {run.step} from {args.resume}")
    progress = Progress(run)
    with CtrlC() as interrupted:
        bt.train_run(run, tokenizer, split.train, split.val, save_path=args.save, callback=progress,
                     should_stop=lambda: interrupted.requested)
    if run.step < config.num_steps:
        if args.save:
            bt.save_run(args.save, run, tokenizer, split.train)
            print_resume_hint(args, run.step, config.num_steps)
        else:
            print(f"interrupted after step {run.step} of {config.num_steps}; nothing saved (give --save PATH to keep a run)", file=sys.stderr)
        return 130
    if args.save:
        print(f"saved {args.save} (resumable) and {bt.best_path(args.save)} (best validation loss, {run.best_val:.4f})")
    print_samples(run.model, tokenizer, run.rng, args.num_samples, args.temperature, numpy_sample_names)
    print(f"val loss: {run.val_history[-1][1]:.4f}")


def progress_argv(args):
    """The command line of this run without --resume (to print how to resume it)."""
    argv, skip = [], False
    for arg in args.argv:
        if skip:
            skip = False
        elif arg == "--resume":
            skip = True
        elif not arg.startswith("--resume="):
            argv.append(arg)
    return argv


class Progress:
    """A line at every evaluation (and at least every 30 s): steps done, rate, time left, train and val loss."""

    def __init__(self, run, every_seconds=30.0):
        self.start_step, self.start_time = run.step, time.perf_counter()
        self.last_print, self.last_step, self.every_seconds = self.start_time, run.step, every_seconds

    def __call__(self, run, val_loss):
        now = time.perf_counter()
        if val_loss is None and now - self.last_print < self.every_seconds and run.step < run.config.num_steps:
            return
        done, total = run.step, run.config.num_steps
        rate = (done - self.start_step) / max(now - self.start_time, 1e-9)
        left = (total - done) / rate if rate > 0 else float("inf")
        recent = run.loss_history[self.last_step :] or run.loss_history[-1:]
        val = f"{run.val_history[-1][1]:.4f}" if run.val_history else "-"
        print(f"step {done:{len(str(total))}d}/{total} | {100 * done / total:3.0f}% | {rate:6.1f} steps/s | "
              f"{format_duration(left)} left | train {sum(recent) / len(recent):.4f} | val {val}", flush=True)
        self.last_print, self.last_step = now, done


def format_duration(seconds):
    if seconds == float("inf"):
        return "?"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def run_evaluate(args):
    from .numpy_model import evaluate

    checkpoint = load_checkpoint(args.checkpoint, engine="numpy")
    docs = getattr(split_docs(load_docs(args.data)), args.split)
    print(f"{args.split} loss: {evaluate(checkpoint.model, checkpoint.tokenizer, docs):.4f}")


def run_sample(args):
    from .numpy_model import sample_names as numpy_sample_names

    # the NumPy engine draws the same names as the scalar one (same generator, same probabilities),
    # and a bigger model's names in a blink instead of minutes
    checkpoint = load_checkpoint(args.checkpoint, engine="numpy")
    rng = random.Random(args.seed)
    print_samples(checkpoint.model, checkpoint.tokenizer, rng, args.num_samples, args.temperature, numpy_sample_names)


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
        times = time_steps(load_engine(name), config, tokenizer, docs[: args.steps], rounds=10 if name in ("numpy", "manual") else 1)
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
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    run = {"train": run_train, "sample": run_sample, "evaluate": run_evaluate, "bench": run_bench}[args.command]
    try:
        status = run(args)
    except (ValueError, OSError, FloatingPointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return status or 0
