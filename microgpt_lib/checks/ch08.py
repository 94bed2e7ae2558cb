"""Checks for the exercises of chapter 08 (microgpt): against `train`, `checkpoint`, `cli` and microgpt's own output.

In every check, `__tracebackhide__ = True` asks IPython to leave the check's own frames out of a
traceback, so that a learner sees their code and the message, not the inside of the check.
"""
import contextlib
import io
import pathlib
import random
import tempfile

from ..autograd import Value
from ..checkpoint import load_checkpoint, save_checkpoint
from ..data import load_docs, shuffled
from ..model import GPT, GPTConfig
from ..optim import Adam
from ..tokenizer import Tokenizer
from ..train import document_loss, train
from . import all_close, call, close, fail, fmt, passed
from .ch05 import tiny_model

# What microgpt itself printed (seed 1, n_embd 8, n_head 2, n_layer 2, block_size 8, 20 steps,
# temperature 0.7, 8 samples): the reference run the library reproduces line for line.
REFERENCE_SEED1 = """\
num docs: 29910
vocab size: 27
num params: 2032
step    1 /   20 | loss 3.1518
step    2 /   20 | loss 3.3242
step    3 /   20 | loss 3.1987
step    4 /   20 | loss 3.3853
step    5 /   20 | loss 3.2135
step    6 /   20 | loss 3.2353
step    7 /   20 | loss 3.2209
step    8 /   20 | loss 3.1445
step    9 /   20 | loss 3.0334
step   10 /   20 | loss 3.0477
step   11 /   20 | loss 3.1553
step   12 /   20 | loss 3.3060
step   13 /   20 | loss 3.2194
step   14 /   20 | loss 3.1807
step   15 /   20 | loss 3.4015
step   16 /   20 | loss 3.1262
step   17 /   20 | loss 3.0056
step   18 /   20 | loss 3.1628
step   19 /   20 | loss 3.1348
step   20 /   20 | loss 3.3315

--- inference (new, hallucinated names) ---
sample  1: hqrkfw
sample  2: sjre
sample  3: xgpuirhh
sample  4: xvddaose
sample  5: pzlidcir
sample  6: qcie
sample  7: mira
sample  8: rqylvpeh
""".splitlines()


def diff_reference(a, b):
    """(line number from 1, line of a or None, line of b or None) for every line that differs."""
    return [
        (i + 1, a[i] if i < len(a) else None, b[i] if i < len(b) else None)
        for i in range(max(len(a), len(b)))
        if i >= len(a) or i >= len(b) or a[i] != b[i]
    ]


def check_diff_lines(diff_lines):
    """diff_lines(lines_a, lines_b) on equal runs, changed lines, and runs of different lengths."""
    __tracebackhide__ = True
    name = "diff_lines"
    run = ["num docs: 29910", "step    1 /    2 | loss 3.3285", "step    2 /    2 | loss 3.3620", "sample  1: kamari"]
    changed = [run[0], "step    1 /    2 | loss 3.3286", run[2], "sample  1: kamara"]
    cases = [(run, list(run)), (run, changed), (run, run[:2]), (run[:3], run), ([], ["one line"])]
    for a, b in cases:
        expected = diff_reference(a, b)
        got = call(name, diff_lines, list(a), list(b), hint="walk over the line numbers of the longer list")
        if not isinstance(got, list) or [tuple(d) for d in got if isinstance(d, (list, tuple))] != expected or len(got) != len(expected):
            fail(
                name,
                f"{expected!r} for {len(a)} lines against {len(b)}",
                repr(got),
                "one (line_number, line_a, line_b) per line that differs, numbered from 1 as an editor does; "
                "a line that only one run has counts as a difference, with None for the missing side",
            )
    passed(name, "no differences, changed lines, and extra lines on either side")


def nudged(model, name, row, col, delta):
    """A copy of `model` with the weight [row][col] of matrix `name` moved by `delta`."""
    state_dict = {n: [[p.data for p in r] for r in mat] for n, mat in model.state_dict.items()}
    state_dict[name][row][col] += delta
    return GPT(model.config, state_dict={n: [[Value(x) for x in r] for r in mat] for n, mat in state_dict.items()})


def check_max_weight_diff(max_weight_diff):
    """max_weight_diff(model_a, model_b) on a saved and loaded model, and on copies with one weight moved."""
    __tracebackhide__ = True
    name = "max_weight_diff"
    model = tiny_model(n_layer=2, seed=4)
    tokenizer = Tokenizer("abcdefghijklmnopqrstuvwxyz")
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "tiny.json"
        save_checkpoint(path, model, tokenizer, step=0, loss_history=[])
        loaded = load_checkpoint(path).model
    cases = [
        ("the same model saved and loaded again", loaded, 0.0),
        ("a copy with the last weight of layer1.mlp_fc2 larger by 0.001", nudged(model, "layer1.mlp_fc2", 7, 31, 1e-3), 1e-3),
        ("a copy with wte[0][0] smaller by 0.25", nudged(model, "wte", 0, 0, -0.25), 0.25),
        ("a copy with lm_head[26][7] smaller by 0.5", nudged(model, "lm_head", 26, 7, -0.5), 0.5),
    ]
    for what, other, expected in cases:
        got = call(name, max_weight_diff, model, other, hint="go over every matrix of the state_dict, every row, every number")
        if not isinstance(got, (int, float)) or not close(got, expected, 1e-9):
            fail(
                name,
                f"{fmt(expected)} for {what}",
                fmt(got),
                "the largest abs(a.data - b.data) over all parameters of all matrices; "
                "a weight that moved down counts as much as one that moved up",
            )
    passed(name, "a save/load round trip changes no weight; one moved weight anywhere is found")


def library_run(seed, num_steps, n_embd, n_head, n_layer, block_size):
    rng = random.Random(seed)
    docs = shuffled(load_docs(), rng)
    tokenizer = Tokenizer.from_docs(docs)
    model = GPT(GPTConfig(tokenizer.vocab_size, n_embd, n_head, n_layer, block_size), rng)
    return train(model, tokenizer, docs, num_steps)


def check_run_training(run_training):
    """run_training(seed, num_steps, n_embd, n_head, n_layer, block_size) against the library's recipe."""
    __tracebackhide__ = True
    name = "run_training"
    cases = [(42, 2, 8, 2, 1, 8), (1, 2, 8, 2, 2, 8), (7, 2, 4, 1, 1, 4)]
    for args in cases:
        expected = library_run(*args)
        got = call(name, run_training, *args, hint="one generator, random.Random(seed), for the shuffle and then the weights")
        if not isinstance(got, list) or not all_close(got, expected, 1e-9):
            fail(
                name,
                f"the losses {fmt(expected)} for seed={args[0]}, num_steps={args[1]}, "
                f"n_embd={args[2]}, n_head={args[3]}, n_layer={args[4]}, block_size={args[5]}",
                fmt(got) if isinstance(got, list) else repr(got),
                "rng = random.Random(seed); shuffle load_docs() with it; Tokenizer.from_docs; "
                "GPT(GPTConfig(vocab_size, n_embd, n_head, n_layer, block_size), rng); train for num_steps",
            )
    reference = [float(line.split("loss ")[1]) for line in REFERENCE_SEED1[3:5]]
    passed(name, f"the library's losses for 3 configurations; seed 1 starts {reference[0]:.4f}, {reference[1]:.4f} as in microgpt")


def cli_lines(argv):
    """What `python -m microgpt_lib` prints for `argv`, as lines."""
    from ..cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(argv)
    return out.getvalue().splitlines()


def check_microgpt_lines(microgpt_lines):
    """microgpt_lines(...) against the command line on a quick run, then against microgpt's own reference run."""
    __tracebackhide__ = True
    name = "microgpt_lines"
    quick = dict(seed=42, n_embd=8, n_head=2, n_layer=1, block_size=8, num_steps=2, temperature=0.5, num_samples=3)
    argv = ["train", "--seed", "42", "--n-embd", "8", "--n-head", "2", "--n-layer", "1", "--block-size", "8",
            "--steps", "2", "--temperature", "0.5", "--num-samples", "3"]
    reference = dict(seed=1, n_embd=8, n_head=2, n_layer=2, block_size=8, num_steps=20, temperature=0.7, num_samples=8)
    hint = ("num docs, vocab size, num params; format_step for every step (a callback of train); an empty line, "
            "the inference header, then f\"sample {i:2d}: {name}\" from 1; one generator for everything")
    for what, kwargs, expected in [("python -m microgpt_lib " + " ".join(argv), quick, cli_lines(argv)),
                                   ("microgpt's reference run (seed 1, 2 layers, 20 steps)", reference, REFERENCE_SEED1)]:
        got = call(name, microgpt_lines, *kwargs.values(), hint=hint)
        if not isinstance(got, list):
            fail(name, f"a list of {len(expected)} lines", repr(got), "return the lines as a list of strings")
        diffs = diff_reference(expected, got)
        if diffs:
            line_number, want, have = diffs[0]
            fail(
                name,
                f"line {line_number} of {what} to be {want!r}",
                f"{have!r} ({len(diffs)} of {max(len(expected), len(got))} lines differ)",
                hint,
            )
    passed(name, f"the {len(REFERENCE_SEED1)} lines of microgpt's seed-1 run, line for line")


def check_save_and_resume(save_run, resume_run):
    """save_run after 2 of 4 steps, then resume_run to 4: the losses of an uninterrupted run, bit for bit."""
    __tracebackhide__ = True
    name = "save_run and resume_run"
    num_steps, stop = 4, 2

    def fresh():
        rng = random.Random(42)
        docs = shuffled(load_docs(), rng)
        tokenizer = Tokenizer.from_docs(docs)
        return GPT(GPTConfig(tokenizer.vocab_size, n_embd=8, n_head=2, n_layer=1, block_size=8), rng), tokenizer, docs

    model, tokenizer, docs = fresh()
    expected = train(model, tokenizer, docs, num_steps)  # never interrupted
    model, tokenizer, docs = fresh()
    optimizer = Adam(model.params, num_steps)
    loss_history = []
    for step in range(stop):  # the run that stops half way
        loss = document_loss(model, tokenizer.tokenize(docs[step]))
        loss.backward()
        optimizer.step(step)
        loss_history.append(loss.data)
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "run.json"
        call(name, save_run, path, model, tokenizer, optimizer, stop, list(loss_history), hint="save_checkpoint first, then add Adam's m and v to the same JSON file")
        got = call(name, resume_run, path, docs, num_steps, hint="give the new Adam both saved lists: m with v at 0 takes huge steps")
    if not isinstance(got, list) or got != expected:
        fail(
            name,
            f"the losses of an uninterrupted {num_steps}-step run, {fmt(expected)}, exactly (saved after step {stop})",
            fmt(got) if isinstance(got, list) else repr(got),
            "a new Adam starts with m and v at 0: give it the saved m and v; train on from the saved step "
            "(start_step); return the saved losses followed by the new ones",
        )
    passed(name, f"stopped after {stop} of {num_steps} steps and resumed: every loss the same, bit for bit")
