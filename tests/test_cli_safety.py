"""The command line under interruption, reuse and odd input (issue 17): no run lost, no line untrue.

Every test runs `python -m microgpt_lib` as a user would, in a process of its own; where signals are the
point, they are real ones (SIGINT, SIGTERM, SIGKILL). Runs are a few steps of small models.
"""
import os
import pathlib
import random
import shlex
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT

posix_signals = pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals (SIGINT, SIGTERM) to a process")
TINY = ["--n-embd", "8", "--n-head", "2", "--block-size", "16", "--num-samples", "1"]


def run(*args, cwd=ROOT, timeout=120, env=None):
    return subprocess.run([sys.executable, "-m", "microgpt_lib", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def start(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE):
    return subprocess.Popen([sys.executable, "-m", "microgpt_lib", *args], cwd=ROOT, stdout=stdout, stderr=stderr, text=True)


def wait_for_line(stream, prefix):
    for line in iter(stream.readline, ""):
        if line.startswith(prefix):
            return line
    raise AssertionError(f"the run ended before printing a line starting {prefix!r}")


def one_line_error(result):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    return result.stderr


def interrupt(args, at_line, signum=signal.SIGINT):
    """Run `args`, send `signum` once a line starting `at_line` is out; (status, stdout, stderr)."""
    process = start(*args)
    seen = wait_for_line(process.stdout, at_line)
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)
    return process.returncode, seen + out, err


def printed_command(err):
    return err.strip().splitlines()[-1].strip()


@pytest.fixture(scope="module")
def plain_interrupted(tmp_path_factory):
    """A checkpoint of microgpt's plain run stopped by Ctrl-C (it can resume), with the command that made it."""
    if sys.platform == "win32":
        pytest.skip("made with SIGINT")
    path = tmp_path_factory.mktemp("plain") / "run.json"
    args = ["train", "--engine", "numpy", "--steps", "100000", *TINY, "--save", str(path)]
    status, out, err = interrupt(args, "step    5 /")
    assert status == 130 and path.is_file(), err
    return path, args


# ------------------------------------------------------------------ work that is lost


@posix_signals
def test_a_new_run_does_not_overwrite_an_unfinished_one(plain_interrupted, tmp_path):
    saved, args = plain_interrupted
    path = tmp_path / "run.json"
    path.write_bytes(saved.read_bytes())
    again = [*args[:-1], str(path)]  # the start command typed again, instead of the printed resume command
    message = one_line_error(run(*again))
    assert "stopped after step" in message and "can still resume" in message and "--overwrite" in message
    hint = message.split("(with: ", 1)[1].split("); to start over", 1)[0]
    assert shlex.split(hint)[:3] == [sys.executable, "-m", "microgpt_lib"] and hint.endswith(f"--resume {path}")
    assert path.read_bytes() == saved.read_bytes()
    emptied = one_line_error(run(*again, "--resume", ""))  # an unset shell variable
    assert "--resume was given an empty path" in emptied and path.read_bytes() == saved.read_bytes()
    replaced = run("train", "--engine", "numpy", "--steps", "3", *TINY, "--save", str(path), "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert path.read_bytes() != saved.read_bytes()


def test_a_batched_run_does_not_overwrite_an_unfinished_batched_one(tmp_path):
    from microgpt_lib import batch_train as bt
    from microgpt_lib.data import split_docs
    from microgpt_lib.model import GPTConfig
    from microgpt_lib.tokenizer import Tokenizer

    split = split_docs()
    tokenizer = Tokenizer(sorted(set("".join(split.train + split.val + split.test))))
    run_ = bt.start_run(GPTConfig(tokenizer.vocab_size, 8, 2, 1, 16), bt.RunConfig(num_steps=10, batch_size=4, eval_every=5))
    bt.train_run(run_, tokenizer, split.train, split.val[:50], should_stop=lambda: run_.step == 3)
    path = tmp_path / "run.json"
    bt.save_run(path, run_, tokenizer, split.train)
    before = path.read_bytes()
    args = ["train", "--batch-size", "4", "--steps", "10", "--eval-every", "5", *TINY]
    message = one_line_error(run(*args, "--save", str(path)))
    assert f"--save {str(path)!r} holds a run stopped after step 3 of 10 that can still resume" in message
    assert path.read_bytes() == before and not (tmp_path / "run.best.json").exists()
    resumed = run(*args, "--save", str(path), "--resume", str(path))
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming after step 3" in resumed.stdout


def test_a_second_run_with_the_same_save_refuses_until_the_first_is_killed(tmp_path):
    path = tmp_path / "run.json"
    first = start("train", "--engine", "numpy", "--steps", "100000", *TINY, "--save", str(path))
    try:
        wait_for_line(first.stdout, "step    1 /")
        second = run("train", "--engine", "numpy", "--steps", "3", *TINY, "--save", str(path))
        message = one_line_error(second)
        assert f"another run (process {first.pid}) is saving to {str(path)!r} now" in message
        assert second.stdout == ""
    finally:
        first.kill()  # SIGKILL (TerminateProcess on Windows): no handler runs, the lock dies with the process
        first.communicate(timeout=60)
    third = run("train", "--engine", "numpy", "--steps", "3", *TINY, "--save", str(path))
    assert third.returncode == 0, third.stderr
    assert path.is_file() and not pathlib.Path(f"{path}.lock").exists()


@posix_signals
def test_sigterm_saves_like_ctrl_c_and_the_printed_command_resumes_as_is(tmp_path):
    args = ["train", "--engine", "numpy", "--steps", "2000", *TINY]
    whole = run(*args)
    assert whole.returncode == 0, whole.stderr
    path = tmp_path / "my runs" / "run 1.json"  # spaces: the printed command quotes them
    path.parent.mkdir()
    status, out, err = interrupt([*args, "--save", str(path)], "step   20 /", signal.SIGTERM)
    assert status == 143 and "Traceback" not in err, err
    assert "SIGTERM: interrupted after step" in err and path.is_file()
    command = printed_command(err)
    # typed into a shell whose PATH has no Python of the course (the README's .venv workflow)
    env = dict(os.environ, PATH=os.pathsep.join(p for p in ("/usr/bin", "/bin") if p != str(pathlib.Path(sys.executable).parent)))
    resumed = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    first_new = resumed.stdout.splitlines()[4]
    assert resumed.stdout.splitlines()[3].startswith("resuming after step ") and first_new.startswith("step ")
    assert resumed.stdout[resumed.stdout.index(first_new):] == whole.stdout[whole.stdout.index(first_new):]


@pytest.mark.skipif(not (pathlib.Path(sys.executable).parent / "microgpt").is_file(),
                    reason="the microgpt console script is not installed beside this interpreter")
@posix_signals
def test_the_resume_command_of_the_console_script_is_the_console_script(tmp_path):
    script = str(pathlib.Path(sys.executable).parent / "microgpt")
    path = tmp_path / "run.json"
    process = subprocess.Popen([script, "train", "--engine", "numpy", "--steps", "100000", *TINY, "--save", str(path)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_line(process.stdout, "step    3 /")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert shlex.split(printed_command(err))[:2] == [script, "train"]


SLOW = ["train", "--n-layer", "3", "--steps", "1000", "--num-samples", "1"]  # the scalar engine: about a second a step


def stop(args, twice):
    """Run `args` (a slow scalar run), press Ctrl-C during its second step (of this process), and with `twice` again before that
    step ends; (status, stderr)."""
    process = start(*args)
    wait_for_line(process.stdout, "step ")  # the first step done (step 1, or the first after a resume)
    process.send_signal(signal.SIGINT)
    first = wait_for_line(process.stderr, "Ctrl-C: stopping at the end of this step")
    if twice:
        process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    return process.returncode, first + err


@posix_signals
def test_a_second_ctrl_c_says_what_was_and_was_not_saved(tmp_path):
    path = tmp_path / "run.json"
    status, err = stop([*SLOW, "--save", str(path)], twice=True)
    assert status == 130 and "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("Ctrl-C again: stopped at once during step 2 of 1000; ")
    assert last.endswith(f"nothing of this run was saved ({path} is as it was before it)") and not path.exists()
    status, err = stop(SLOW, twice=True)
    assert status == 130 and err.strip().endswith("stopped at once during step 2 of 1000; nothing saved (give --save PATH to keep a run)")


@posix_signals
def test_a_second_ctrl_c_after_a_resume_names_the_step_the_file_holds(tmp_path):
    path = tmp_path / "run.json"
    status, err = stop([*SLOW, "--save", str(path)], twice=False)
    assert status == 130 and "interrupted after step 2 of 1000" in err, err
    saved = path.read_bytes()
    status, err = stop([*SLOW, "--save", str(path), "--resume", str(path)], twice=True)
    assert status == 130 and "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("Ctrl-C again: stopped at once during step 4 of 1000; ")
    assert f"{path} holds step 2 (steps 3-4 are lost; resume with: " in last
    assert path.read_bytes() == saved


def test_a_temperature_that_underflows_is_refused_before_training():
    for args in (["train", "--engine", "numpy", "--steps", "2", "--temperature", "1e-320"],
                 ["sample", "--checkpoint", str(ROOT / "data" / "microgpt_default_1000.json"), "--temperature", "1e-320"]):
        result = run(*args)
        message = one_line_error(result)
        assert "--temperature 1e-320 is below 1e-06" in message and result.stdout == ""
    result = run("train", "--engine", "numpy", "--steps", "2", "--temperature", "inf")
    assert "--temperature inf is not a number to divide the logits by" in one_line_error(result)


# ------------------------------------------------------------------ output that is untrue or unusable


def test_resuming_a_finished_run_with_a_new_save_says_only_what_it_wrote(tmp_path):
    args = ["train", "--batch-size", "4", "--steps", "4", "--eval-every", "2", *TINY]
    first = run(*args, "--save", str(tmp_path / "a.json"))
    assert first.returncode == 0, first.stderr
    assert f"saved {tmp_path / 'a.json'} (resumable) and {tmp_path / 'a.best.json'} (best validation loss" in first.stdout
    again = run(*args, "--resume", str(tmp_path / "a.json"), "--save", str(tmp_path / "b.json"))
    assert again.returncode == 0, again.stderr
    assert "saved" not in again.stdout
    assert f"nothing new to save: {tmp_path / 'a.json'} had already finished its 4 steps" in again.stdout
    assert not (tmp_path / "b.json").exists() and not (tmp_path / "b.best.json").exists()


@posix_signals
def test_batched_options_on_a_plain_runs_checkpoint_are_named(plain_interrupted):
    saved, args = plain_interrupted
    message = one_line_error(run(*args[:-2], "--resume", str(saved), "--batch-size", "8"))
    assert "holds microgpt's plain run (one name a step), which resumes without batched options: leave out --batch-size" in message
    assert "weights only" not in message


@pytest.mark.parametrize(
    "args, message",
    [
        (["--preset", "big", "--steps", "40"], "warmup_steps 200 (from --preset big) must be below the 40 steps (--steps 40)"),
        (["--warmup-steps", "50", "--steps", "40"], "--warmup-steps 50 must be below the 40 steps (--steps 40); lower it"),
        (["--save", ""], "--save was given an empty path"),
        (["--save-every", "5", "--steps", "10"], "--save-every 5 saves nothing without --save PATH"),
        (["--overwrite"], "--overwrite needs --save PATH"),
        (["--tokenizer", "bpe", "--vocab-size", "100000"], "--vocab-size 100000 is too large: the command line's cap is 4096"),
        (["--tokenizer", "bpe", "--vocab-size", "1000", "--batch-size", "2", "--data", "FEW"],
         "--vocab-size 1000 is too large: the training names allow at most "),
        (["--batch-size", "50", "--data", "FEW"], "--batch-size 50 is more than the 4 training names; use at most 4"),
        (["--tokenizer", "bpe", "--vocab-size", "200", "--n-embd", "10"], "n_embd=10 is not divisible by n_head=4"),
        (["--data", "NOT_UTF8"], "is not UTF-8 text (byte 0xe9 on line 2); save it as UTF-8"),
        (["--data", "FOLDER"], "is a folder; pass the path of a text file"),
    ],
    ids=["preset-warmup", "typed-warmup", "empty-save", "save-every-alone", "overwrite-alone", "vocab-cap", "vocab-data",
         "batch-size", "shape-before-merges", "not-utf8", "folder"],
)
def test_bad_settings_are_one_line_before_anything_runs(tmp_path, args, message):
    (tmp_path / "FEW").write_text("anna\nbob\ncecil\ndana\neve\nfay\n", encoding="utf-8")
    (tmp_path / "NOT_UTF8").write_bytes("anna\njosé\n".encode("latin-1"))
    (tmp_path / "FOLDER").mkdir()
    args = [str(tmp_path / a) if a in ("FEW", "NOT_UTF8", "FOLDER") else a for a in args]
    result = run("train", *args, timeout=60)  # today's --vocab-size 100000 merges for minutes first
    assert message in one_line_error(result)
    assert result.stdout == ""
    if "NOT_UTF8" in " ".join(args):
        assert str(tmp_path / "NOT_UTF8") in result.stderr


def test_a_byte_order_mark_is_not_a_character(tmp_path):
    data = tmp_path / "bom.txt"
    data.write_text("\ufeffanna\nbob\ncecil\n", encoding="utf-8")
    result = run("train", "--data", str(data), "--engine", "numpy", "--steps", "2", *TINY)
    assert result.returncode == 0, result.stderr
    assert "vocab size: 9" in result.stdout.splitlines()  # a b c e i l n o, and BOS
    from microgpt_lib.data import load_docs

    assert load_docs(data) == ["anna", "bob", "cecil"]


def test_names_longer_than_the_block_are_counted(tmp_path):
    data = tmp_path / "names.txt"
    data.write_text("anna\nbob\nmaximiliana\nbartholomew\n", encoding="utf-8")
    result = run("train", "--data", str(data), "--engine", "numpy", "--steps", "4", "--block-size", "8",
                 "--n-embd", "8", "--n-head", "2", "--num-samples", "1")
    assert result.returncode == 0, result.stderr
    assert ("note: 2 of the 4 training names need more than --block-size 8 predictions (e.g. 'maximiliana'); "
            "training sees only their first 8 tokens") in result.stderr
    plain = run("train", "--data", str(data), "--engine", "numpy", "--steps", "4", *TINY)
    assert "note:" not in plain.stderr


def test_a_temporary_file_left_by_a_killed_save_is_removed_by_the_next_save(tmp_path):
    path = tmp_path / "run.json"
    left = [tmp_path / "run.json.k2x9_abc.tmp", tmp_path / "run.best.json.q1w2e3.tmp"]  # what SIGKILL mid-save leaves
    for tmp in left:
        tmp.write_text('{"format": "microgpt-checkp')
    other = tmp_path / "other.json.abc.tmp"  # another path's: not ours to remove
    other.write_text("{")
    result = run("train", "--engine", "numpy", "--steps", "2", *TINY, "--save", str(path))
    assert result.returncode == 0, result.stderr
    assert not any(tmp.exists() for tmp in left) and other.exists()
    assert f"removed {left[0]}, left behind by a save that was stopped half way" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.json.abc.tmp", "run.json"]


@posix_signals
def test_sigkill_during_saves_never_leaves_a_broken_checkpoint_or_stale_temporaries(tmp_path):
    """--save-every 1 saves after every step; killed at random moments, the file always loads, and the next
    run removes whatever temporary file the kill left."""
    from microgpt_lib.checkpoint import load_checkpoint

    path = tmp_path / "run.json"
    rng = random.Random(0)
    args = ["train", "--batch-size", "4", "--steps", "100000", "--eval-every", "100000", "--save-every", "1", *TINY]
    for _ in range(3):
        process = start(*args, "--save", str(path), "--overwrite", stdout=subprocess.DEVNULL)
        deadline = time.time() + 60
        while not path.exists() and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.3))
        process.kill()
        process.wait(timeout=60)
        assert load_checkpoint(path, engine="numpy").step >= 1
    result = run("train", "--engine", "numpy", "--steps", "2", *TINY, "--save", str(path), "--overwrite")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]
