"""The command line: the reference runs line for line, and a clear one-line error for bad input."""
import subprocess
import sys

import pytest

from conftest import REFERENCE_DIR, ROOT, SPEC_REFERENCE_DIR, reference_file

SEED1 = "microgpt_seed1_embd8_head2_layer2_block8_steps20_temp0.7_samples8.txt"
SEED1_ARGS = ["--seed", "1", "--n-embd", "8", "--n-head", "2", "--n-layer", "2", "--block-size", "8",
              "--steps", "20", "--temperature", "0.7", "--num-samples", "8"]


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "microgpt_lib", *args], cwd=cwd, capture_output=True, text=True)


@pytest.mark.skipif(not SPEC_REFERENCE_DIR.is_dir(), reason="the course specification is not beside this repository")
def test_reference_copies_equal_the_specification():
    for spec in SPEC_REFERENCE_DIR.glob("microgpt_*.txt"):
        assert (REFERENCE_DIR / spec.name).read_bytes() == spec.read_bytes(), spec.name
    assert len(list(REFERENCE_DIR.glob("microgpt_*.txt"))) == 3


def test_seed1_reference_run_line_for_line():
    result = run("train", *SEED1_ARGS)
    assert result.returncode == 0, result.stderr
    assert result.stdout == reference_file(SEED1).read_text()


def test_default_50_step_reference_run_line_for_line():
    result = run("train", "--steps", "50")
    assert result.returncode == 0, result.stderr
    assert result.stdout == reference_file("microgpt_default_steps50.txt").read_text()


def test_train_save_then_sample(tmp_path):
    path = tmp_path / "run.json"
    trained = run("train", *SEED1_ARGS, "--save", str(path))
    assert trained.returncode == 0, trained.stderr
    first = run("sample", "--checkpoint", str(path), "--seed", "3", "--num-samples", "5", "--temperature", "0.7")
    again = run("sample", "--checkpoint", str(path), "--seed", "3", "--num-samples", "5", "--temperature", "0.7")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[:2] == ["", "--- inference (new, hallucinated names) ---"] and len(lines) == 7
    assert first.stdout == again.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--data", "no/such/file.txt"], "data file 'no/such/file.txt' does not exist"),
        (["train", "--data", "EMPTY"], "has no documents"),
        (["train", "--n-embd", "10", "--n-head", "4"], "n_embd=10 is not divisible by n_head=4"),
        (["train", "--block-size", "0"], "block_size must be a whole number of at least 1, got 0"),
        (["train", "--steps", "0"], "--steps must be at least 1, got 0"),
        (["train", "--num-samples", "0"], "--num-samples must be at least 1, got 0"),
        (["train", "--temperature", "0"], "temperature must be above 0, got 0.0"),
        (["train", "--temperature", "-1"], "temperature must be above 0, got -1.0"),
        (["train", "--data", "BADCHAR", "--steps", "1"], None),  # ok: the vocabulary comes from the data
        (["train", "--steps", "5", "--lr", "1e6"], "the loss became infinite (math domain error) at step 2"),
        (["sample", "--checkpoint", "no/such.json"], "checkpoint 'no/such.json' does not exist"),
        (["sample", "--checkpoint", "TRUNCATED"], "is not valid JSON"),
        (["sample", "--checkpoint", "NOTJSON"], "is not valid JSON"),
        (["sample", "--checkpoint", "SHIPPED", "--temperature", "0"], "temperature must be above 0"),
        (["bench", "--steps", "0"], "--steps must be at least 1, got 0"),
    ],
    ids=["missing-data", "empty-data", "n_head", "block_size", "steps", "num_samples", "temperature-0",
         "temperature-negative", "any-characters", "nan-loss", "missing-checkpoint", "truncated-checkpoint",
         "not-json-checkpoint", "sample-temperature", "bench-steps"],
)
def test_bad_input_gives_one_line_and_status_2(tmp_path, args, message):
    files = {
        "EMPTY": "\n\n",
        "BADCHAR": "josé\nzoë\n",
        "TRUNCATED": (ROOT / "data" / "microgpt_default_1000.json").read_text()[:5000],
        "NOTJSON": "not a checkpoint",
    }
    for i, arg in enumerate(args):
        if arg in files:
            (tmp_path / arg).write_text(files[arg], encoding="utf-8")
            args[i] = str(tmp_path / arg)
        elif arg == "SHIPPED":
            args[i] = str(ROOT / "data" / "microgpt_default_1000.json")
    result = run(*args, "--num-samples", "1") if args[0] == "train" and "--num-samples" not in args else run(*args)
    if message is None:
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert message in result.stderr


def test_usage_errors_exit_2():
    result = run("train", "--steps", "many")
    assert result.returncode == 2 and "invalid int value: 'many'" in result.stderr


def test_bench_prints_a_median():
    result = run("bench", "--steps", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("median ")
