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
from ..checkpoint import save_checkpoint
from ..data import load_docs, shuffled
from ..model import GPT, GPTConfig
from ..optim import Adam
from ..tokenizer import Tokenizer
from ..train import document_loss, train
from . import all_close, call, fail, fmt, passed
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


def parse_reference(lines):
    """The numbers and names in microgpt's printed lines."""
    run = {"losses": [], "samples": []}
    for line in lines:
        if line.startswith("num docs: "):
            run["num_docs"] = int(line.split(": ")[1])
        elif line.startswith("vocab size: "):
            run["vocab_size"] = int(line.split(": ")[1])
        elif line.startswith("num params: "):
            run["num_params"] = int(line.split(": ")[1])
        elif line.startswith("step "):
            run["losses"].append(float(line.split("loss ")[1]))
        elif line.startswith("sample "):
            run["samples"].append(line.split(": ", 1)[1])
    return run


def made_up_run():
    """Lines in microgpt's format with 12 samples (two-digit numbers) and an empty name."""
    lines = ["num docs: 300", "vocab size: 27", "num params: 1264"]
    lines += [f"step {s:4d} / {3:4d} | loss {loss:.4f}" for s, loss in [(1, 3.3012), (2, 3.29), (3, 3.1)]]
    lines += ["", "--- inference (new, hallucinated names) ---"]
    names = ["ann", "", "bo", "emmalina", "x", "kamari", "li", "zoe", "", "mia", "ava", "teo"]
    return lines + [f"sample {i:2d}: {name}" for i, name in enumerate(names, 1)]


def check_parse_run(parse_run, cases=None):
    """parse_run(lines) on microgpt's seed-1 run (cases: "reference", "cli" for a quick run, "made_up")."""
    __tracebackhide__ = True
    name = "parse_run"
    cases = cases or ["reference"]
    for which in cases:
        if which == "reference":
            what, lines = "microgpt's seed-1 run", REFERENCE_SEED1
        elif which == "cli":
            argv = ["train", "--seed", "3", "--n-embd", "4", "--n-head", "1", "--n-layer", "1", "--block-size", "4",
                    "--steps", "3", "--temperature", "1.5", "--num-samples", "4"]
            what, lines = "python -m microgpt_lib " + " ".join(argv), cli_lines(argv)
        else:
            what, lines = "a run with 12 samples, two of them empty names", made_up_run()
        expected = parse_reference(lines)
        got = call(name, parse_run, list(lines), hint="look at the start of each line to know what it holds")
        if not isinstance(got, dict):
            fail(name, f"a dict with the keys {sorted(expected)} for {what}", repr(got)[:80], "return a dict")
        for key, want in expected.items():
            have = got.get(key)
            if key == "losses":
                same = isinstance(have, list) and all(isinstance(x, float) for x in have) and all_close(have, want, 1e-12)
            else:
                same = have == want and type(have) is type(want)
            if not same:
                fail(name, f"{key} = {want!r} for {what}", repr(have)[:200],
                     "num docs, vocab size and num params as int; every 'step' line's loss as a float, in order; "
                     "every 'sample' line's name as a str: what follows 'sample NN: ', which may be empty "
                     "(a model can end a name at once) and is numbered in two characters up to 99")
    passed(name, f"{len(cases)} run(s): the sizes, the loss of every step and every sampled name")


def moved(model, moves):
    """A copy of `model` with weights moved: moves is [(matrix name, row, column, delta)]."""
    state_dict = {n: [[p.data for p in r] for r in mat] for n, mat in model.state_dict.items()}
    for name, row, col, delta in moves:
        state_dict[name][row][col] += delta
    return GPT(model.config, state_dict={n: [[Value(x) for x in r] for r in mat] for n, mat in state_dict.items()})


def check_checkpoint_diff(checkpoint_diff, cases=None):
    """checkpoint_diff(path_a, path_b) on a model saved twice, and on copies with weights moved."""
    __tracebackhide__ = True
    name = "checkpoint_diff"
    model = tiny_model(n_layer=2, seed=4)
    tokenizer = Tokenizer("abcdefghijklmnopqrstuvwxyz")
    # lists of moves of the second file's weights: (matrix, row, column, delta)
    cases = cases or [[], [("layer1.mlp_fc2", 7, 31, -1e-3)], [("wte", 0, 0, -0.25), ("layer0.attn_wq", 3, 2, -0.5)]]
    for moves in cases:
        other = moved(model, moves)
        expected = {key: 0.0 for key in model.state_dict}
        for key, _, _, delta in moves:
            expected[key] = max(expected[key], abs(delta))
        with tempfile.TemporaryDirectory() as folder:
            path_a, path_b = pathlib.Path(folder) / "a.json", pathlib.Path(folder) / "b.json"
            save_checkpoint(path_a, model, tokenizer, step=3, loss_history=[3.3, 3.2, 3.1])
            save_checkpoint(path_b, other, tokenizer, step=3, loss_history=[3.3, 3.2, 3.1])
            got = call(name, checkpoint_diff, path_a, path_b, hint="json.load each file; its 'state_dict' maps names to rows")
        what = "the same model saved twice" if not moves else "a copy with " + ", ".join(
            f"{key}[{row}][{col}] {'+' if delta > 0 else '-'} {abs(delta)}" for key, row, col, delta in moves)
        if not isinstance(got, dict) or list(got) != list(expected):
            fail(name, f"a dict of the {len(expected)} matrices, in the file's order {list(expected)}",
                 repr(list(got) if isinstance(got, dict) else got)[:200], "one entry per matrix of the state_dict")
        bad = [key for key in expected if not isinstance(got[key], (int, float)) or abs(got[key] - expected[key]) > 1e-12]
        if bad:
            fail(name, f"{ {key: expected[key] for key in bad} } for {what}", f"{ {key: got[key] for key in bad} }",
                 "for each matrix, the largest abs(a - b) over its numbers: a weight that moved down counts as "
                 "much as one that moved up, and equal matrices give 0.0")
    passed(name, f"{len(cases)} pairs of files: every matrix's largest difference, 0.0 where nothing moved")


def cli_lines(argv):
    """What `python -m microgpt_lib` prints for `argv` on stdout, as lines.

    Its notes on stderr (names longer than the block, say) are kept out of the check's own stderr,
    which nbgrader would score as zero.
    """
    from ..cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        main(argv)
    return out.getvalue().splitlines()


def cli_argv(kwargs):
    """The command line that asks `python -m microgpt_lib train` for microgpt_lines(**kwargs)."""
    flags = {"seed": "--seed", "n_embd": "--n-embd", "n_head": "--n-head", "n_layer": "--n-layer",
             "block_size": "--block-size", "num_steps": "--steps", "temperature": "--temperature",
             "num_samples": "--num-samples"}
    return ["train"] + [item for key, flag in flags.items() for item in (flag, str(kwargs[key]))]


REFERENCE_SETTINGS = dict(seed=1, n_embd=8, n_head=2, n_layer=2, block_size=8, num_steps=20, temperature=0.7,
                          num_samples=8)


def check_microgpt_lines(microgpt_lines, cases=None):
    """microgpt_lines(...) against the command line (cases: dicts of its arguments), or microgpt's own reference run."""
    __tracebackhide__ = True
    name = "microgpt_lines"
    cases = cases or [dict(seed=42, n_embd=8, n_head=2, n_layer=1, block_size=8, num_steps=2, temperature=0.5,
                           num_samples=3)]
    hint = ("num docs, vocab size, num params; format_step for every step (a callback of train); an empty line, "
            "the inference header, then f\"sample {i:2d}: {name}\" from 1; one generator for everything")
    for kwargs in cases:
        if kwargs == REFERENCE_SETTINGS:
            what, expected = "microgpt's reference run (seed 1, 2 layers, 20 steps)", REFERENCE_SEED1
        else:
            argv = cli_argv(kwargs)
            what, expected = "python -m microgpt_lib " + " ".join(argv), cli_lines(argv)
        got = call(name, microgpt_lines, *[kwargs[key] for key in REFERENCE_SETTINGS], hint=hint)
        if not isinstance(got, list):
            fail(name, f"a list of {len(expected)} lines", repr(got), "return the lines as a list of strings")
        diffs = diff_reference(expected, got)
        if diffs:
            line_number, want, have = diffs[0]
            fail(name, f"line {line_number} of {what} to be {want!r}",
                 f"{have!r} ({len(diffs)} of {max(len(expected), len(got))} lines differ)", hint)
    passed(name, f"{len(cases)} run(s), line for line")


def check_save_and_resume(save_run, resume_run, cases=None):
    """save_run part way, then resume_run to the end: the losses of an uninterrupted run, bit for bit."""
    __tracebackhide__ = True
    name = "save_run and resume_run"
    # (num_steps, the step to stop after, Adam's lr, seed)
    cases = cases or [(4, 2, 0.01, 42)]
    for num_steps, stop, lr, seed in cases:

        def fresh():
            rng = random.Random(seed)
            docs = shuffled(load_docs(), rng)
            tokenizer = Tokenizer.from_docs(docs)
            model = GPT(GPTConfig(tokenizer.vocab_size, n_embd=8, n_head=2, n_layer=1, block_size=8), rng)
            return model, tokenizer, docs, Adam(model.params, num_steps, lr)

        model, tokenizer, docs, optimizer = fresh()
        expected = train(model, tokenizer, docs, num_steps, optimizer)  # never interrupted
        model, tokenizer, docs, optimizer = fresh()
        loss_history = []
        for step in range(stop):  # the run that stops part way
            loss = document_loss(model, tokenizer.tokenize(docs[step]))
            loss.backward()
            optimizer.step(step)
            loss_history.append(loss.data)
        with tempfile.TemporaryDirectory() as folder:
            path = pathlib.Path(folder) / "run.json"
            call(name, save_run, path, model, tokenizer, optimizer, stop, list(loss_history),
                 hint="save_checkpoint first, then add Adam's state and settings to the same JSON file")
            got = call(name, resume_run, path, docs, num_steps,
                       hint="give the new Adam both saved lists: m with v at 0 takes huge steps")
        if not isinstance(got, list) or got != expected:
            fail(name, f"the losses of an uninterrupted {num_steps}-step run with lr={lr}, {fmt(expected)}, exactly "
                       f"(saved after step {stop})", fmt(got) if isinstance(got, list) else repr(got),
                 "a new Adam starts with m and v at 0 and the default settings: give it the saved m and v, and "
                 "the run's lr, beta1, beta2 and eps; train on from the saved step (start_step); return the saved "
                 "losses followed by the new ones")
    passed(name, f"{len(cases)} run(s) stopped part way and resumed: every loss the same, bit for bit")
