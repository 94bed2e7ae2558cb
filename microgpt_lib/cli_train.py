"""`train`'s runs (the command line's arguments are parsed and checked in `cli`): microgpt's plain run and
chapter 11's batched run (of chapter 13's ModernGPT too, with its presets), what Ctrl-C and SIGTERM do
to them, and how they are saved and resumed.

What a run guarantees: its --save path is locked while it runs (`save_guard.SaveLock`); it does not replace
a checkpoint that another unfinished run can still resume; every save is atomic (a temporary file renamed
over the checkpoint); a first Ctrl-C or SIGTERM stops at the end of the step, saves, and prints the command
that resumes (this very interpreter, or the `microgpt` script, quoted for the shell); a second one stops at
once and says what was and was not saved.
"""
import dataclasses
import os
import pathlib
import random
import shlex
import signal
import subprocess
import sys
import time

from .checkpoint import check_writable, load_checkpoint, save_checkpoint
from .data import load_docs, shuffled, split_docs
from .model import GPTConfig, count_params
from .save_guard import SaveLock, check_overwrite, remove_stale_temporaries, same_file
from .tokenizer import Tokenizer
from .train import format_step


def launcher():
    """The words that start this command line again: the `microgpt` script if that is what ran, else
    this very interpreter with `-m microgpt_lib` (a bare `python` may be another one, without the course);
    under torchrun, the torchrun command that started this process (chapter 14)."""
    if "TORCHELASTIC_RUN_ID" in os.environ:
        from .cli_torch import torchrun_launcher
        return torchrun_launcher()
    return one_process_launcher()


def one_process_launcher():
    script = sys.argv[0] if sys.argv else ""
    if pathlib.Path(script).stem == "microgpt":
        return [script]
    return [sys.executable, "-m", "microgpt_lib"]


def shell_join(words):
    """`words` as one command line that the shell splits back into them."""
    return subprocess.list2cmdline(words) if sys.platform == "win32" else shlex.join(words)


def resume_command(command, path):
    """The command line that resumes the run saved at `path`, started with the words `command`."""
    return shell_join([*launcher(), *command, "--resume", str(path)])


def run_words(argv):
    """The command line of a run without --resume and --overwrite: what to resume it with."""
    words, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--resume":
            skip = True
        elif not arg.startswith("--resume=") and arg != "--overwrite":
            words.append(arg)
    return words


class Interrupted(Exception):
    """A first Ctrl-C or SIGTERM; raised at the next step boundary, after `step` steps."""

    def __init__(self, step):
        super().__init__(f"interrupted after step {step}")
        self.step = step


class StopSignals:
    """Ctrl-C (SIGINT) and SIGTERM (`timeout`, a job scheduler, a closing terminal), inside `with StopSignals() as stop:`.

    Outside training, either ends the command at once, with `stop.note` (what was saved). During training
    the first only sets `stop.requested` (the run stops cleanly at the end of its step, and is saved); a second
    raises KeyboardInterrupt at once, unless `stop.saving`: the save after the first is not cut short.
    """

    NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}

    def __enter__(self):
        self.requested, self.training, self.saving, self.signum = False, False, False, signal.SIGINT
        self.note = "interrupted before training started; nothing was saved"
        self._previous = {}
        for signum in self.NAMES:
            try:
                self._previous[signum] = signal.signal(signum, self._handler)
            except (ValueError, OSError):  # not the main thread: the signals keep their usual meaning
                pass
        return self

    @property
    def status(self):
        return 128 + int(self.signum)  # the shell's convention: 130 for SIGINT, 143 for SIGTERM

    @property
    def name(self):
        return self.NAMES.get(self.signum, "a signal")

    def _handler(self, signum, frame):
        self.signum = signum
        if not self.training:
            raise KeyboardInterrupt(self.note)
        if self.saving:
            print(f"\n{self.name}: saving, one moment", file=sys.stderr, flush=True)
        elif self.requested:
            raise KeyboardInterrupt
        else:
            self.requested = True
            again = "press Ctrl-C again" if signum == signal.SIGINT else "send it again"
            print(f"\n{self.name}: stopping at the end of this step ({again} to quit at once)", file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        return False


class Saves:
    """What this process wrote: the step of each file, to say (only) what was saved."""

    def __init__(self, args):
        self.args, self.steps = args, {}

    def record(self, path, run_or_step):
        self.steps[str(path)] = getattr(run_or_step, "step", run_or_step)

    def stopped_at_once(self, stop, done, total, start_step, best=None):
        """The line for a second Ctrl-C: which step was lost, what the files hold."""
        args = self.args
        head = f"{stop.name} again: stopped at once during step {done + 1} of {total}"
        if not args.save:
            return f"{head}; nothing saved (give --save PATH to keep a run)"
        parts = []
        resumed_here = args.resume and same_file(args.resume, args.save)
        saved = self.steps.get(str(args.save), start_step if resumed_here else None)
        if saved is None:
            parts.append(f"nothing of this run was saved ({args.save} is as it was before it)")
        else:
            lost = f"steps {saved + 1}-{done + 1} are lost" if saved < done else f"step {done + 1} is lost"
            parts.append(f"{args.save} holds step {saved} ({lost}; resume with: {resume_command(run_words(args.argv), args.save)})")
        if best is not None and str(best) in self.steps:
            parts.append(f"{best} holds the best validation weights so far (step {self.steps[str(best)]})")
        return f"{head}; " + "; ".join(parts)


def print_resume_hint(args, step, num_steps, stop):
    command = resume_command(run_words(args.argv), args.save)
    print(f"{stop.name}: interrupted after step {step} of {num_steps}; saved to {args.save}; resume with:\n  {command}",
          file=sys.stderr)


def report_cut_names(docs, tokenizer, block_size):
    """Say on stderr how many training names are longer than the model's context (it learns only their start)."""
    cut = [doc for doc in docs if len(tokenizer.tokenize(doc)) - 1 > block_size]
    if cut:
        print(f"note: {len(cut)} of the {len(docs)} training names need more than --block-size {block_size} predictions "
              f"(e.g. {cut[0]!r}); training sees only their first {block_size} tokens", file=sys.stderr)


def run_train(args):
    """Train as `args` (checked by `cli.check_train_args`) say; the exit status."""
    from .batch_train import best_path

    batched = run_batched
    if args.engine == "torch":  # chapter 14: PyTorch, perhaps one of several processes under torchrun
        from .cli_torch import run_torch as batched
    with StopSignals() as stop:
        if not args.save or os.environ.get("RANK", "0") != "0":  # under torchrun, rank 0 alone locks and saves
            return (batched if args.batched else run_plain)(args, stop)
        check_writable(args.save)
        with SaveLock(args.save):
            for name in remove_stale_temporaries(args.save, best_path(args.save)):
                print(f"removed {name}, left behind by a save that was stopped half way", file=sys.stderr)
            check_overwrite(args.save, args.resume, args.overwrite, resume_command)
            return (batched if args.batched else run_plain)(args, stop)


def run_plain(args, stop):
    """microgpt's run, printed line for line; with --save, Ctrl-C or SIGTERM saves it to resume."""
    from .batch_train import fingerprint
    from .cli import load_engine, print_samples

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
    report_cut_names(docs[: args.steps], tokenizer, config.block_size)
    saves = Saves(args)

    def report(step, num_steps, loss):
        loss_history.append(loss)
        # decided before the line is out: a signal sent on seeing "step k" stops after step k + 1, never k
        stopping = stop.requested and step + 1 < num_steps
        print(format_step(step, num_steps, loss), flush=True)
        if stopping:  # at a step boundary: the weights are whole
            raise Interrupted(step + 1)

    stop.training = True
    try:
        engine.train(model, tokenizer, docs, args.steps, optimizer, callback=report, start_step=start_step)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        print(saves.stopped_at_once(stop, len(loss_history), args.steps, start_step), file=sys.stderr)
        return stop.status
    except Interrupted as interrupted:
        print(file=sys.stderr)
        if not args.save:
            print(f"{stop.name}: interrupted after step {interrupted.step} of {args.steps}; nothing saved "
                  "(give --save PATH to keep a run)", file=sys.stderr)
            return stop.status
        state = {"optimizer": {"m": [float(x) for x in optimizer.m], "v": [float(x) for x in optimizer.v]},
                 "plain_run": {**settings, "data": fingerprint(docs)}, "command": run_words(args.argv)}
        stop.saving = True
        save_checkpoint(args.save, engine.to_gpt(model), tokenizer, interrupted.step, loss_history, **state)
        print_resume_hint(args, interrupted.step, args.steps, stop)
        return stop.status
    if args.save:
        stop.saving = True
        save_checkpoint(args.save, engine.to_gpt(model), tokenizer, args.steps, loss_history)
        stop.saving = False
    stop.training, stop.note = False, after_training_note(args)
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


def build_tokenizer(args, split):
    """The tokenizer of a batched run: the characters of every split (so no held-out character is unknown);
    with --tokenizer bpe, the merges learnt from the training documents only."""
    uchars = sorted(set("".join(split.train + split.val + split.test)))
    if args.tokenizer == "bpe":
        from .bpe import BPETokenizer

        check_vocab_size(args.vocab_size, split.train, uchars)
        return BPETokenizer.train(split.train, args.vocab_size, uchars=uchars)
    return Tokenizer(uchars)


MAX_VOCAB_SIZE = 4096  # the command line's cap: names average six characters; chapter 12 stops at 256


def check_vocab_size(vocab_size, train_docs, uchars):
    """Refuse, before any merge, a --vocab-size that the training names cannot fill (or that passes the cap)."""
    # every merge joins at least one pair of tokens inside a name, and a name of n characters has n - 1 joins
    most_merges = sum(len(doc) - 1 for doc in set(train_docs))
    most = min(MAX_VOCAB_SIZE, len(uchars) + 1 + most_merges)
    if vocab_size > most:
        why = (f"the command line's cap is {MAX_VOCAB_SIZE}" if most == MAX_VOCAB_SIZE else
               f"the training names allow at most {most_merges} merges beside their {len(uchars)} characters and BOS")
        raise ValueError(f"--vocab-size {vocab_size} is too large: {why}; use at most {most}")


def run_batched(args, stop):
    """Chapter 11's run: minibatches of the training split on the NumPy engine, validation, checkpoints.

    With --preset modern or makemore the model is chapter 13's `ModernGPT` and its optimizer
    `ModernAdam` (the preset's options, the flags over them); the run is the same in every other way.
    """
    from . import batch_train as bt

    split = split_docs(load_docs(args.data))
    if args.batch_size > len(split.train):
        raise ValueError(f"--batch-size {args.batch_size} is more than the {len(split.train)} training names; "
                         f"use at most {len(split.train)}")
    tokenizer = build_tokenizer(args, split)
    if args.modern:
        from . import modern
        from .cli import modern_settings

        model_settings, run_settings = modern_settings(args)
        gpt_config = modern.ModernConfig(vocab_size=tokenizer.vocab_size, **model_settings)
        config = modern.ModernRunConfig(**run_settings)
        start_run, resume_run = modern.start_run, modern.resume_run
    else:
        gpt_config = GPTConfig(tokenizer.vocab_size, args.n_embd, args.n_head, args.n_layer,
                               args.block_size)
        config = bt.RunConfig(num_steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                              warmup_steps=args.warmup_steps, beta1=args.beta1, beta2=args.beta2,
                              weight_decay=args.weight_decay, seed=args.seed,
                              eval_every=args.eval_every, save_every=args.save_every)
        start_run, resume_run = bt.start_run, bt.resume_run
    too_long = [doc for doc in split.val + split.test if len(tokenizer.tokenize(doc)) - 1 > gpt_config.block_size]
    if too_long:
        raise ValueError(f"{len(too_long)} held-out documents need more than --block-size {gpt_config.block_size} "
                         f"predictions (e.g. {too_long[0]!r}); raise --block-size")
    if args.resume:
        run = resume_run(args.resume, gpt_config, config, tokenizer, split.train)
    else:
        run = start_run(gpt_config, config)
    run.command = run_words(args.argv)
    print(f"num docs: {len(split.train)} train, {len(split.val)} val, {len(split.test)} test")
    print(f"vocab size: {tokenizer.vocab_size}")
    print(f"num params: {run.model.flat.size}")
    print(f"settings: {', '.join(f'{k}={v}' for k, v in dataclasses.asdict(gpt_config).items() if k != 'vocab_size')}, "
          f"{', '.join(f'{k}={v}' for k, v in dataclasses.asdict(config).items())}")
    return train_to_the_end(args, stop, run, tokenizer, split, gpt_config.block_size, bt.train_run, bt.save_run,
                            lambda: run.model)


def train_to_the_end(args, stop, run, tokenizer, split, block_size, train_run, save_run, sampling_model):
    """The part of a batched run that every engine shares: train, stop and save on a signal, sample.

    `train_run` and `save_run` are the engine's (batch_train's or torch_train's); `sampling_model()` gives
    the model to draw the samples from once training has finished. The exit status (None: finished).
    """
    from . import batch_train as bt
    from .cli import print_samples
    from .numpy_model import sample_names as numpy_sample_names

    config = run.config
    if args.resume:
        print(f"resuming after step {run.step} from {args.resume}")
    report_cut_names(split.train, tokenizer, block_size)
    start_step, saves = run.step, Saves(args)
    best = bt.best_path(args.save) if args.save else None
    stop.training = True
    try:
        train_run(run, tokenizer, split.train, split.val, save_path=args.save, callback=Progress(run),
                     should_stop=lambda: stop.requested, on_save=saves.record)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        print(saves.stopped_at_once(stop, run.step, config.num_steps, start_step, best), file=sys.stderr)
        return stop.status
    if run.step < config.num_steps:
        if not args.save:
            print(f"{stop.name}: interrupted after step {run.step} of {config.num_steps}; nothing saved "
                  "(give --save PATH to keep a run)", file=sys.stderr)
            return stop.status
        stop.saving = True
        save_run(args.save, run, tokenizer, split.train)
        print_resume_hint(args, run.step, config.num_steps, stop)
        return stop.status
    stop.training, stop.note = False, after_training_note(args)
    if args.save:
        print(saved_line(args, saves, run, start_step, best))
    print_samples(sampling_model(), tokenizer, run.rng, args.num_samples, args.temperature, numpy_sample_names)
    print(f"val loss: {run.val_history[-1][1]:.4f}")


def after_training_note(args):
    saved = f"the trained run is saved in {args.save}" if args.save else "nothing was saved (no --save)"
    return f"interrupted after training, while sampling; {saved}"


def saved_line(args, saves, run, start_step, best):
    """What this run wrote at its end, and nothing it did not write."""
    if str(args.save) not in saves.steps:
        return (f"nothing new to save: {args.resume} had already finished its {run.step} steps; "
                f"{args.save} was not written")
    line = f"saved {args.save} (resumable)"
    if str(best) in saves.steps:
        return f"{line} and {best} (best validation loss, {run.best_val:.4f})"
    return f"{line}; {best} was not written: validation did not improve on {run.best_val:.4f} after step {start_step}"


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
