"""The command line: `python -m microgpt_lib train | sample | evaluate | bench`."""
import argparse
import json
import math
import random
import statistics
import sys
import time
from types import SimpleNamespace

from . import optim, sample, train as scalar_train
from .checkpoint import load_checkpoint
from .data import load_docs, shuffled, split_docs
from .model import GPT, GPTConfig
from .sample import check_temperature
from .tokenizer import Tokenizer
from . import batch_train, modern
from .cli_train import run_train

# the named recipes: chapter 11's (microgpt's model, batched) and chapter 13's (a ModernGPT)
MODERN_PRESETS = tuple(sorted(modern.PRESETS))
PRESETS = {**batch_train.PRESETS, **{name: modern.PRESETS[name] for name in MODERN_PRESETS}}
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
    # allow_abbrev=False: an option is spelt out in full, so the printed resume command is exactly the run's
    parser = argparse.ArgumentParser(prog="python -m microgpt_lib", allow_abbrev=False,
                                     description="microgpt: train a tiny GPT on names, and sample new ones.")
    commands = parser.add_subparsers(dest="command", required=True)

    t = commands.add_parser("train", formatter_class=defaults, allow_abbrev=False,
                            help="train from scratch (or resume), print the loss of every step (or progress), then samples",
                            description="With only microgpt's options this is microgpt's run, printed line for line. "
                            "--preset, --batch-size, --warmup-steps, --weight-decay, --eval-every or --save-every make it a batched "
                            "run on the numpy engine (chapter 11): a train / validation / test split, progress lines, and "
                            "`val loss: X.XXXX` at the end. --preset modern and --preset makemore train "
                            "chapter 13's ModernGPT that way (the flags override their settings too). Either "
                            "kind, given --save, saves on Ctrl-C or SIGTERM, and --resume continues it exactly.")
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
    t.add_argument("--engine", choices=ENGINES + ("torch",), default=None,
                   help="scalar: the chapters' Value graph; fused: fewer, bigger Value nodes; numpy: arrays (chapter 09); "
                   "manual: arrays, every backward by hand (chapter 09b). All four print the same run. Batched runs use "
                   "numpy (default: scalar, or numpy when batched); torch: a batched run on PyTorch (chapter 14; also "
                   "under torchrun). --preset modern and makemore: manual (their default) is chapter 13's fast engine "
                   "(backward by hand, real positions only, float32 arithmetic), numpy its Tensor graph in float64")
    add_sampling_args(t)
    t.add_argument("--save", metavar="PATH", help="write a checkpoint here after training (batched: also every --save-every "
                   "steps, on Ctrl-C, and the best validation weights beside it as NAME.best.json)")
    batched = t.add_argument_group("batched training (chapter 11)")
    batched.add_argument("--preset", choices=sorted(PRESETS), default=None,
                         help="a named recipe (the flags override its settings): " + "; ".join(
                             f"{name}: {describe_preset(name)}" for name in sorted(PRESETS)))
    tunable(batched, "--batch-size", int, "documents per step")
    tunable(batched, "--warmup-steps", int, "steps of linear learning-rate warm-up before the decay")
    tunable(batched, "--weight-decay", float, "AdamW's decoupled weight decay (against overfitting)")
    tunable(batched, "--eval-every", int, "measure the validation loss every this many steps (and at the end)")
    tunable(batched, "--save-every", int, "write the resumable --save checkpoint every this many steps (0: at the end only)")
    ch13 = t.add_argument_group("chapter 13's model (with --preset modern or --preset makemore)")
    tunable(ch13, "--dropout", float, "probability of zeroing each number after the embeddings, "
            "attention and MLP while training (0 <= p < 1; 0: none)")
    tunable(ch13, "--average", float, "keep a moving average of the weights, this much of it kept each step "
            "(0 <= d < 1; 0: none): the evaluations measure it and the run ends on it")
    t.add_argument("--resume", metavar="PATH", help="continue the run saved at PATH by Ctrl-C or --save-every "
                   "(give the options it was started with; the resume command is printed on Ctrl-C)")
    t.add_argument("--overwrite", action="store_true", default=None, help="let --save replace a checkpoint that another, "
                   "unfinished run could still resume (refused without it)")
    batched.add_argument("--tokenizer", choices=("char", "bpe"), default="char",
                         help="char: one token per character; bpe: byte-pair encoding learnt from the training names (chapter 12)")
    batched.add_argument("--vocab-size", type=int, default=None,
                         help="with --tokenizer bpe: tokens in all (characters + merges + BOS) (default: 128)")
    add_torch_args(t)

    s = commands.add_parser("sample", help="sample names from a saved checkpoint", formatter_class=defaults, allow_abbrev=False)
    s.add_argument("--checkpoint", required=True, metavar="PATH", help="a file written by train --save")
    s.add_argument("--seed", type=int, default=42, help="seed of the random generator")
    add_sampling_args(s)

    e = commands.add_parser("evaluate", formatter_class=defaults, allow_abbrev=False,
                            help="the loss per character of a checkpoint on the validation or test names")
    e.add_argument("--checkpoint", required=True, metavar="PATH", help="a file written by train --save (either kind)")
    e.add_argument("--split", choices=("val", "test", "train"), default="val", help="which names of data.split_docs to measure "
                   "(val and test: refused for a checkpoint whose training could have seen them)")
    e.add_argument("--data", default=None, help="text file, one document per line (default: the shipped data/names.txt)")

    b = commands.add_parser("bench", help="time training steps of each engine at the default settings", formatter_class=defaults,
                            allow_abbrev=False)
    b.add_argument("--steps", type=int, default=10, help="steps to time per engine (the numpy engine repeats them 10 times)")
    b.add_argument("--engine", choices=ENGINES + ("all", "torch"), default="all", help="which engine to time; torch: "
                   "names and tokens per second of the torch engine against numpy on the --preset big model, and "
                   "DistributedDataParallel on 2 processes against 1 (chapter 14)")
    b.add_argument("--compile", action="store_true", help="with --engine torch: also time float32 under torch.compile "
                   "(compiling takes about half a minute the first time, seconds once cached)")
    return parser


# microgpt's settings, and those of a batched run; --preset replaces some, the command line any
TRAIN_DEFAULTS = dict(seed=42, n_embd=16, n_head=4, n_layer=1, block_size=16, steps=1000, lr=0.01, beta1=0.85, beta2=0.99,
                      batch_size=32, warmup_steps=0, weight_decay=0.0, eval_every=100, save_every=0,
                      dropout=0.0, average=0.0)
BATCHED_ONLY = ("batch_size", "warmup_steps", "weight_decay", "eval_every", "save_every")
MODERN_ONLY = ("dropout", "average")  # settings of chapter 13's model, which only its presets build


def describe_preset(name):
    """A preset's settings as the command line spells them; chapter 13's say what they build."""
    settings = ", ".join(f"{PRESET_NAMES.get(k, k)}={v}" for k, v in PRESETS[name].items())
    return f"chapter 13's ModernGPT, {settings}" if name in MODERN_PRESETS else settings


def tunable(parser, flag, type, help):
    dest = flag[2:].replace("-", "_")
    parser.add_argument(flag, type=type, default=None, help=f"{help} (default: {TRAIN_DEFAULTS[dest]})")


def resolve_train_args(args):
    """Fill in every setting left out: the preset's value if it has one, else microgpt's default.

    `args.source[key]` says where each value came from, for the error messages: "--warmup-steps 200"
    if typed, "warmup_steps 200 (from --preset big)" if not.
    """
    given = args.given = {k for k in TRAIN_DEFAULTS if getattr(args, k) is not None}
    for flag in ("save", "resume"):
        if getattr(args, flag) == "":
            raise ValueError(f"--{flag} was given an empty path (an unset shell variable?); give a file name, or leave --{flag} out")
    if args.vocab_size is not None and args.tokenizer != "bpe":
        raise ValueError(f"--vocab-size {args.vocab_size} needs --tokenizer bpe (the character vocabulary is the data's characters)")
    # a plain run (microgpt's) resumes from its own version-1 checkpoint, a batched run from version 2
    resume_version = saved_version(args.resume) if args.resume else None
    batched_options = [f"--{k.replace('_', '-')}" for k in BATCHED_ONLY if k in given]
    batched_options += ["--preset"] * bool(args.preset) + ["--tokenizer bpe"] * (args.tokenizer != "char")
    if resume_version == 1 and batched_options:
        raise ValueError(f"--resume {args.resume} holds microgpt's plain run (one name a step), which resumes without "
                         f"batched options: leave out {', '.join(batched_options)}")
    args.batched = bool(batched_options or (args.resume and resume_version != 1))
    preset = {PRESET_NAMES.get(k, k): v for k, v in PRESETS[args.preset].items()} if args.preset else {}
    args.source = {}
    for key, default in TRAIN_DEFAULTS.items():
        flag = "--" + key.replace("_", "-")
        if key in given:
            args.source[key] = f"{flag} {getattr(args, key)}"
        else:
            setattr(args, key, preset.get(key, default))
            args.source[key] = f"{key} {getattr(args, key)} (from --preset {args.preset})" if key in preset else f"{flag} {getattr(args, key)}"
    args.modern = args.preset in MODERN_PRESETS
    modern_given = [f"--{k}" for k in MODERN_ONLY if k in given]
    if modern_given and not args.modern:
        one = len(modern_given) == 1
        raise ValueError(f"{' and '.join(modern_given)} set{'s' * one} chapter 13's model, which only "
                         f"--preset {' or --preset '.join(MODERN_PRESETS)} builds: add one, "
                         f"or leave {'it' if one else 'them'} out")
    if args.modern and args.engine not in (None, *modern.ENGINES):
        also = "; --engine torch mirrors chapter 11's model only (--preset big)" * (args.engine == "torch")
        raise ValueError(f"--preset {args.preset} trains chapter 13's ModernGPT on the manual engine (chapter 13's "
                         f"fast one, the preset's) or the numpy engine, not --engine {args.engine}{also}: "
                         "give --engine manual or numpy, or leave --engine out")
    if args.modern:
        args.engine = args.engine or modern.PRESETS[args.preset].get("engine", "numpy")
    args.batched = args.batched or args.engine == "torch"  # the torch engine trains batches only
    if args.batched and not args.modern and args.engine not in (None, "numpy", "torch"):
        why = ", ".join(batched_options) or "--resume of a batched run"
        raise ValueError(f"batched training runs on the numpy engine, not --engine {args.engine} "
                         f"(it is batched because of {why}): give --engine numpy (or --engine torch, "
                         "on PyTorch), or leave --engine out"
                         + ("; --engine manual trains --preset modern and makemore" * (args.engine == "manual")))
    check_torch_args(args)
    args.engine = args.engine or ("numpy" if args.batched else "scalar")
    return args


def add_torch_args(parser):
    """--device, --dtype and --compile: how the torch engine computes (chapter 14)."""
    group = parser.add_argument_group("the torch engine (chapter 14; with --engine torch)")
    group.add_argument("--device", choices=("cpu", "cuda", "mps"), default=None,
                       help="where to compute (default: the best present: cuda, then mps, then cpu)")
    group.add_argument("--dtype", choices=("float64", "float32", "bfloat16"), default=None,
                       help="the precision: float64 prints the numpy engine's numbers; float32 and bfloat16 "
                       "(mixed precision) are faster (default: float64 on cpu, float32 on a GPU)")
    group.add_argument("--compile", action="store_true", help="compile the model with torch.compile (needs a C compiler)")


def check_torch_args(args):
    """--device, --dtype and --compile belong to --engine torch, which needs PyTorch installed."""
    given = [f"--{k}" for k in ("device", "dtype") if getattr(args, k) is not None] + ["--compile"] * args.compile
    if given and args.engine != "torch":
        raise ValueError(f"{' and '.join(given)} set how the torch engine computes: add --engine torch, or leave them out")
    if args.engine == "torch":
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            raise ValueError("--engine torch needs PyTorch, which is not installed: run `make torch`, or "
                             "`pip install torch --index-url https://download.pytorch.org/whl/cpu` (the CPU build)")


def check_train_args(args):
    """Every setting of a train command, checked before anything is loaded or trained; ValueError names the bad one."""
    resolve_train_args(args)
    check_sampling(args)
    src = args.source
    if args.steps < 1:
        raise ValueError(f"--steps must be at least 1, got {args.steps}")
    for key in ("batch_size", "eval_every"):
        if getattr(args, key) < 1:
            raise ValueError(f"{src[key]} must be at least 1")
    if args.save_every < 0:
        raise ValueError(f"{src['save_every']} must be 0 (save at the end only) or more")
    if "save_every" in args.given and not args.save:
        raise ValueError(f"--save-every {args.save_every} saves nothing without --save PATH: add --save PATH, or leave it out")
    if args.overwrite and not args.save:
        raise ValueError("--overwrite needs --save PATH (it lets that path replace an unfinished run)")
    if args.batched and not 0 <= args.warmup_steps < args.steps:
        fix = "give --steps above it, or a smaller --warmup-steps" if "(from --preset" in src["warmup_steps"] else "lower it"
        raise ValueError(f"{src['warmup_steps']} must be below the {args.steps} steps ({src['steps']}); {fix}")
    if args.batched and not args.weight_decay >= 0:
        raise ValueError(f"{src['weight_decay']} must be 0 or more")
    optim.check_adam_settings(args.steps, args.lr, args.beta1, args.beta2)
    if not 0 <= args.dropout < 1:
        raise ValueError(f"{src['dropout']} must be at least 0 and below 1 (the probability of zeroing "
                         "each number while training; 0: no dropout)")
    if not 0 <= args.average < 1:
        raise ValueError(f"{src['average']} must be at least 0 and below 1 (the share of the weights' average "
                         "kept each step; 0: no average)")
    if args.modern:  # the model's and the run's own checks, before any data
        model_settings, run_settings = modern_settings(args)
        modern.ModernConfig(vocab_size=2, **model_settings)
        modern.ModernRunConfig(**run_settings)
    GPTConfig(2, args.n_embd, args.n_head, args.n_layer, args.block_size)  # the shape's own checks, before any data
    if args.vocab_size is not None and args.vocab_size < 2:
        raise ValueError(f"--vocab-size {args.vocab_size} is too small: a tokenizer needs its characters and BOS")
    return args


def modern_settings(args):
    """(ModernConfig's fields but vocab_size, ModernRunConfig's fields) of a chapter 13 preset's run:
    the preset's settings, under what `resolve_train_args` resolved (the flags, else the preset)."""
    run_names = {flag: name for name, flag in PRESET_NAMES.items()}  # steps -> num_steps
    resolved = {run_names.get(k, k): getattr(args, k) for k in TRAIN_DEFAULTS}
    if args.engine is not None:  # --engine numpy or manual (resolve_train_args filled in the preset's)
        resolved["engine"] = args.engine
    return modern.split_settings({**modern.PRESETS[args.preset], **resolved})


def saved_version(path):
    """The format version of the checkpoint at `path` (None if unreadable: loading it says why)."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("version")
    except (OSError, ValueError, AttributeError):
        return None


MIN_TEMPERATURE = 1e-6


def check_sampling(args):
    """--temperature and --num-samples, checked before any training (sampling comes last)."""
    check_temperature(args.temperature)
    if not math.isfinite(args.temperature):
        raise ValueError(f"--temperature {args.temperature!r} is not a number to divide the logits by; give a finite one, e.g. 1")
    if args.temperature < MIN_TEMPERATURE:
        raise ValueError(f"--temperature {args.temperature!r} is below {MIN_TEMPERATURE}, the smallest this command takes "
                         f"(dividing the logits by less can overflow them; {MIN_TEMPERATURE} already all but always picks "
                         "the likeliest token)")
    if args.num_samples < 1:
        raise ValueError(f"--num-samples must be at least 1, got {args.num_samples}")


def add_sampling_args(parser):
    parser.add_argument("--temperature", type=float, default=0.5, help="above 0; below 1 is more cautious, above 1 wilder")
    parser.add_argument("--num-samples", type=int, default=20, help="names to generate")


def print_samples(model, tokenizer, rng, num_samples, temperature, sample_names=sample.sample_names):
    print()
    print(SAMPLES_HEADER)
    for i, name in enumerate(sample_names(model, tokenizer, rng, num_samples, temperature)):
        print(f"sample {i + 1:2d}: {name}")


def run_evaluate(args):
    """The loss per character on a split; on val or test, only for a checkpoint that never trained on them."""
    from .held_out import check_not_trained_on
    from .batch_train import evaluate

    checkpoint = load_checkpoint(args.checkpoint, engine="numpy")
    all_docs = load_docs(args.data)
    split = split_docs(all_docs)
    if args.split != "train":
        check_not_trained_on(checkpoint, all_docs, split, args.split, f"checkpoint {args.checkpoint!r}")
    docs = getattr(split, args.split)
    print(f"{args.split} loss: {evaluate(checkpoint.model, checkpoint.tokenizer, docs):.4f}")


def run_sample(args):
    from .numpy_model import sample_names as numpy_sample_names

    # the NumPy engine draws the same names as the scalar one (same generator, same probabilities),
    # and a bigger model's names in a blink instead of minutes
    check_sampling(args)
    checkpoint = load_checkpoint(args.checkpoint, engine="numpy")
    rng = random.Random(args.seed)
    print_samples(checkpoint.model, checkpoint.tokenizer, rng, args.num_samples, args.temperature, numpy_sample_names)


def run_bench(args):
    """Median seconds per training step (forward, backward, Adam) of each engine, side by side in one run."""
    if args.steps < 1:
        raise ValueError(f"--steps must be at least 1, got {args.steps}")
    if args.engine == "torch":
        check_torch_args(SimpleNamespace(engine="torch", device=None, dtype=None, compile=False))
        from .torch_bench import ddp_bench, engines_bench

        engines_bench(args.steps, compile=args.compile)
        ddp_bench(args.steps)
        return None
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


def train_command(args):
    """`train`: every setting checked first (here), then the run (`cli_train`)."""
    return run_train(check_train_args(args))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    run = {"train": train_command, "sample": run_sample, "evaluate": run_evaluate, "bench": run_bench}[args.command]
    try:
        status = run(args)
    except (ValueError, OSError, FloatingPointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:  # outside training: says whether the run was saved
        print(f"\n{stop.args[0] if stop.args else 'interrupted'}", file=sys.stderr)
        return 130
    return status or 0
