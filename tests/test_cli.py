"""The command line: the reference runs line for line, and a clear one-line error for bad input."""
import shlex
import signal
import subprocess
import sys

import pytest

from microgpt_lib.bpe import BPETokenizer
from microgpt_lib.checkpoint import load_checkpoint
from microgpt_lib.data import split_docs

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


@pytest.mark.parametrize("engine", ["scalar", "fused", "numpy"])
def test_seed1_reference_run_line_for_line(engine):
    result = run("train", *SEED1_ARGS, "--engine", engine)
    assert result.returncode == 0, result.stderr
    assert result.stdout == reference_file(SEED1).read_text()


@pytest.mark.parametrize("engine", ["scalar", "fused", "numpy"])
def test_default_50_step_reference_run_line_for_line(engine):
    result = run("train", "--steps", "50", "--engine", engine)
    assert result.returncode == 0, result.stderr
    assert result.stdout == reference_file("microgpt_default_steps50.txt").read_text()


def test_default_1000_step_reference_run_with_numpy():
    # the scalar engine's own 1000-step run is tests/test_reference_1000.py (minutes); NumPy takes seconds
    result = run("train", "--engine", "numpy")
    assert result.returncode == 0, result.stderr
    assert result.stdout == reference_file("microgpt_default_steps1000.txt").read_text()


@pytest.mark.slow
def test_default_1000_step_reference_run_with_fused():
    result = run("train", "--engine", "fused")
    assert result.returncode == 0, result.stderr
    assert result.stdout == reference_file("microgpt_default_steps1000.txt").read_text()


@pytest.mark.parametrize("engine", ["fused", "numpy"])
def test_checkpoints_of_every_engine_sample_like_the_scalar_one(tmp_path, engine):
    saved = {}
    for name in ("scalar", engine):
        saved[name] = tmp_path / f"{name}.json"
        result = run("train", *SEED1_ARGS, "--engine", name, "--save", str(saved[name]))
        assert result.returncode == 0, result.stderr
    samples = [run("sample", "--checkpoint", str(path), "--seed", "3", "--num-samples", "8").stdout for path in saved.values()]
    assert samples[0] == samples[1] and samples[0].count("sample ") == 8


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
        (["train", "--steps", "5", "--lr", "1e6", "--engine", "numpy"], "the loss became infinite (a probability reached 0) at step 2"),
        (["sample", "--checkpoint", "no/such.json"], "checkpoint 'no/such.json' does not exist"),
        (["sample", "--checkpoint", "TRUNCATED"], "is not valid JSON"),
        (["sample", "--checkpoint", "NOTJSON"], "is not valid JSON"),
        (["sample", "--checkpoint", "SHIPPED", "--temperature", "0"], "temperature must be above 0"),
        (["bench", "--steps", "0"], "--steps must be at least 1, got 0"),
    ],
    ids=["missing-data", "empty-data", "n_head", "block_size", "steps", "num_samples", "temperature-0",
         "temperature-negative", "any-characters", "nan-loss", "nan-loss-numpy", "missing-checkpoint", "truncated-checkpoint",
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
    result = run("train", "--engine", "gpu")
    assert result.returncode == 2 and "invalid choice: 'gpu' (choose from" in result.stderr


def test_bench_prints_every_engine_and_its_speed_up():
    result = run("bench", "--steps", "2")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[2:5]}
    assert list(rows) == ["scalar", "fused", "numpy"]
    assert rows["scalar"][-1] == "1.0x" and all(float(r[1]) > 0 for r in rows.values())
    assert result.stdout.splitlines()[-1].startswith("median scalar ")


# ---------------------------------------------------------------- batched training (chapter 11)

SMALL_BATCHED = ["--batch-size", "8", "--steps", "30", "--eval-every", "10", "--num-samples", "2"]


def test_batched_run_ends_with_the_validation_loss_and_evaluate_agrees(tmp_path):
    path = tmp_path / "run.json"
    result = run("train", *SMALL_BATCHED, "--save", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "num docs: 23928 train, 2991 val, 2991 test" and lines[2] == "num params: 4192"
    assert [line.split("|")[0].strip() for line in lines if line.startswith("step")] == ["step 10/30", "step 20/30", "step 30/30"]
    assert lines[-1].startswith("val loss: ") and len(lines[-1]) == len("val loss: 2.0000")
    evaluated = run("evaluate", "--checkpoint", str(path))
    assert evaluated.returncode == 0 and evaluated.stdout == lines[-1] + "\n"
    assert (tmp_path / "run.best.json").is_file()
    test = run("evaluate", "--checkpoint", str(path), "--split", "test")
    assert test.stdout.startswith("test loss: ") and test.stdout != evaluated.stdout


def test_evaluate_reads_the_shipped_checkpoints():
    for name in ("microgpt_default_1000.json", "microgpt_big.json"):
        result = run("evaluate", "--checkpoint", str(ROOT / "data" / name))
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("val loss: ") and float(result.stdout.split()[-1]) < 2.4


def test_preset_values_are_overridden_by_flags():
    result = run("train", "--preset", "big", "--n-embd", "16", "--n-layer", "1", "--steps", "4", "--eval-every", "2",
                 "--warmup-steps", "1", "--num-samples", "1")
    assert result.returncode == 0, result.stderr
    settings = result.stdout.splitlines()[3]
    assert "n_embd=16," in settings and "n_layer=1," in settings and "num_steps=4," in settings
    assert "batch_size=32," in settings and "beta1=0.9," in settings  # from the preset


def test_save_to_a_missing_folder_fails_before_training():
    for args in (["train", "--save", "no/such/dir/run.json"], ["train", "--preset", "big", "--save", "no/such/dir/run.json"]):
        result = run(*args)
        assert result.returncode == 2 and result.stdout == ""  # not even the first line of a run
        assert result.stderr == "error: cannot save to 'no/such/dir/run.json': the folder 'no/such/dir' does not exist\n"


def test_a_mismatched_resume_is_one_line(tmp_path):
    path = tmp_path / "run.json"
    assert run("train", *SMALL_BATCHED, "--save", str(path)).returncode == 0
    result = run("train", *SMALL_BATCHED[:-4], "--steps", "60", "--num-samples", "2", "--resume", str(path))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "num_steps=30 (this run: 60)" in result.stderr
    result = run("train", "--engine", "scalar", "--batch-size", "4")
    assert result.returncode == 2 and "batched training runs on the numpy engine, not --engine scalar" in result.stderr


def test_ctrl_c_saves_and_the_resumed_run_ends_as_an_uninterrupted_one(tmp_path):
    args = ["train", "--batch-size", "8", "--steps", "400", "--eval-every", "20", "--num-samples", "3"]
    whole = run(*args)
    assert whole.returncode == 0, whole.stderr
    path = tmp_path / "run.json"
    process = subprocess.Popen([sys.executable, "-m", "microgpt_lib", *args, "--save", str(path)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in iter(process.stdout.readline, ""):
        if line.startswith("step  40/400"):
            process.send_signal(signal.SIGINT)
            break
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted after step" in err and f"--resume {path}" in err and "Traceback" not in err
    resume_command = shlex.split(err.strip().splitlines()[-1])
    assert resume_command[:3] == [sys.executable, "-m", "microgpt_lib"]  # the interpreter that ran, not a bare python
    resumed = run(*resume_command[3:])
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming after step" in resumed.stdout
    tail = lambda text: text[text.index("--- inference"):]  # samples, then the final validation loss
    assert tail(resumed.stdout) == tail(whole.stdout)


def test_sample_draws_the_scalar_engines_names_from_the_shipped_checkpoint():
    import random

    from microgpt_lib.checkpoint import load_checkpoint
    from microgpt_lib.sample import sample_names

    shipped = ROOT / "data" / "microgpt_default_1000.json"
    result = run("sample", "--checkpoint", str(shipped), "--seed", "3", "--num-samples", "30")
    assert result.returncode == 0, result.stderr
    checkpoint = load_checkpoint(shipped)
    expected = sample_names(checkpoint.model, checkpoint.tokenizer, random.Random(3), 30, 0.5)
    assert [line.split(": ", 1)[1] if ": " in line else "" for line in result.stdout.splitlines()[2:]] == expected


def interrupt(args, at_line):
    """Run `args`, press Ctrl-C once the line starting with `at_line` is out; (return code, stderr)."""
    process = subprocess.Popen([sys.executable, "-m", "microgpt_lib", *args], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in iter(process.stdout.readline, ""):
        if line.startswith(at_line):
            process.send_signal(signal.SIGINT)
            break
    out, err = process.communicate(timeout=120)
    return process.returncode, err


def test_ctrl_c_in_microgpts_own_run_saves_and_resumes_exactly(tmp_path):
    args = ["train", "--engine", "numpy", "--steps", "300", "--num-samples", "5"]
    whole = run(*args, "--save", str(tmp_path / "whole.json"))
    assert whole.returncode == 0, whole.stderr
    path = tmp_path / "run.json"
    status, err = interrupt([*args, "--save", str(path)], "step   30 /")
    assert status == 130 and "Traceback" not in err, err
    resume_command = shlex.split(err.strip().splitlines()[-1])
    assert resume_command[-2:] == ["--resume", str(path)]
    interrupted = path.read_bytes()
    for engine in ("fused", "numpy"):  # every engine computes the same run, so any can continue it
        path.write_bytes(interrupted)  # (the resumed run's --save overwrites it when it ends)
        resumed = run(*resume_command[3:], "--engine", engine)
        assert resumed.returncode == 0, resumed.stderr
        first_new = resumed.stdout.splitlines()[4]
        assert resumed.stdout.splitlines()[3].startswith("resuming after step ") and first_new.startswith("step ")
        assert resumed.stdout[resumed.stdout.index(first_new):] == whole.stdout[whole.stdout.index(first_new):]
    assert path.read_bytes() == (tmp_path / "whole.json").read_bytes()  # the finished checkpoint, byte for byte
    path.write_bytes(interrupted)
    mismatched = run("train", "--engine", "numpy", "--steps", "300", "--lr", "0.02", "--resume", str(path))
    assert mismatched.returncode == 2 and "it was trained with lr=0.01 (this run: 0.02)" in mismatched.stderr
    finished = run("train", "--steps", "300", "--resume", str(ROOT / "data" / "microgpt_default_1000.json"))
    assert finished.returncode == 2 and "it holds weights only" in finished.stderr


def test_cli_trains_samples_and_evaluates_a_bpe_model(tmp_path):
    path = tmp_path / "bpe.json"
    result = run("train", "--tokenizer", "bpe", "--vocab-size", "64", "--batch-size", "8", "--steps", "20",
                 "--eval-every", "10", "--num-samples", "2", "--save", str(path))
    assert result.returncode == 0, result.stderr
    assert "vocab size: 64" in result.stdout.splitlines() and "num params: 5376" in result.stdout.splitlines()
    saved = load_checkpoint(path, engine="numpy")
    assert isinstance(saved.tokenizer, BPETokenizer) and len(saved.tokenizer.merges) == 37
    assert saved.tokenizer.merges == BPETokenizer.train(split_docs().train, 64).merges
    sampled = run("sample", "--checkpoint", str(path), "--num-samples", "3")
    assert sampled.returncode == 0, sampled.stderr
    assert [line.split(":")[0] for line in sampled.stdout.splitlines()[-3:]] == ["sample  1", "sample  2", "sample  3"]
    evaluated = run("evaluate", "--checkpoint", str(path))
    assert evaluated.returncode == 0 and evaluated.stdout == result.stdout.splitlines()[-1] + "\n"


def test_vocab_size_needs_the_bpe_tokenizer():
    result = run("train", "--vocab-size", "64", "--steps", "2")
    assert result.returncode == 2 and "needs --tokenizer bpe" in result.stderr
