"""`evaluate --split val|test` scores only checkpoints whose training could not have seen those names
(issue 15, item 3): accepted and refused cases, through the command line."""
import json
import random
import signal
import subprocess
import sys

import pytest

from microgpt_lib.data import load_docs, shuffled, split_docs

from conftest import ROOT

SHIPPED = ROOT / "data" / "microgpt_default_1000.json"
BIG = ROOT / "data" / "microgpt_big.json"
TINY = ["--n-embd", "8", "--n-head", "2", "--num-samples", "1"]


def run(*args):
    return subprocess.run([sys.executable, "-m", "microgpt_lib", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def evaluate(path, split, *data):
    return run("evaluate", "--checkpoint", str(path), "--split", split, *data)


def refused(result):
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == "" and result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "so its" in result.stderr and "loss would not be held out" in result.stderr
    return result.stderr


def accepted(result, split):
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{split} loss: ") and len(result.stdout) == len(f"{split} loss: 2.0000\n")
    return float(result.stdout.split()[-1])


def train(tmp_path, name, *args):
    path = tmp_path / name
    result = run("train", *args, "--save", str(path))
    assert result.returncode == 0, result.stderr
    return path


def test_the_shipped_checkpoints_are_accepted_on_val_and_test():
    # microgpt_default_1000.json records no seed: its first loss is --seed 42's, so its 1000 names are training names
    assert accepted(evaluate(SHIPPED, "val"), "val") == pytest.approx(2.3576, abs=1e-4)
    assert accepted(evaluate(SHIPPED, "test"), "test") == pytest.approx(2.3672, abs=1e-4)
    assert accepted(evaluate(BIG, "test"), "test") == pytest.approx(1.9882, abs=1e-4)  # a batched run: its data fingerprint


def test_the_shipped_checkpoint_with_its_first_loss_changed_is_refused(tmp_path):
    payload = json.loads(SHIPPED.read_text())
    payload["loss_history"][0] += 1e-6  # as if another run had started elsewhere
    path = tmp_path / "altered.json"
    path.write_text(json.dumps(payload))
    message = refused(evaluate(path, "val"))
    assert "it does not record its seed, and its first loss is not that of --seed 42 on this data" in message
    accepted(evaluate(path, "train"), "train")


@pytest.mark.parametrize("engine", ["scalar", "numpy"])
def test_a_plain_run_with_seed_42_is_accepted_with_another_seed_refused(tmp_path, engine):
    ours = train(tmp_path, "seed42.json", "--engine", engine, "--steps", "3", *TINY)
    accepted(evaluate(ours, "val"), "val")
    accepted(evaluate(ours, "test"), "test")
    other = train(tmp_path, "seed1.json", "--engine", engine, "--seed", "1", "--steps", "3", *TINY)
    for split in ("val", "test"):
        assert "its first loss is not that of --seed 42" in refused(evaluate(other, split))
    accepted(evaluate(other, "train"), "train")


def test_a_plain_run_longer_than_one_pass_over_the_training_names_is_refused(tmp_path):
    data = tmp_path / "names.txt"
    data.write_text("\n".join(f"{a}{b}" for a in "abcdefghij" for b in "klmnopqrst") + "\n", encoding="utf-8")
    n_train = len(split_docs(load_docs(data)).train)
    assert n_train == 80
    within = train(tmp_path, "within.json", "--data", str(data), "--engine", "numpy", "--steps", str(n_train), *TINY)
    accepted(evaluate(within, "val", "--data", str(data)), "val")
    beyond = train(tmp_path, "beyond.json", "--data", str(data), "--engine", "numpy", "--steps", str(n_train + 1), *TINY)
    message = refused(evaluate(beyond, "test", "--data", str(data)))
    assert f"its {n_train + 1} steps went past the {n_train} training names into the held-out ones" in message
    # and on the shipped names, which it was not trained on, it is refused too
    assert "its first loss is not that of --seed 42 on this data" in refused(evaluate(within, "val"))


def test_a_batched_run_is_refused_on_other_data_than_its_own(tmp_path):
    data = tmp_path / "names.txt"
    data.write_text("\n".join(load_docs()[:400]) + "\n", encoding="utf-8")
    path = train(tmp_path, "batched.json", "--data", str(data), "--batch-size", "4", "--steps", "2", "--eval-every", "2", *TINY)
    accepted(evaluate(path, "test", "--data", str(data)), "test")
    message = refused(evaluate(path, "test"))  # the shipped names: their training split is another one
    assert "it was trained on other data than these names' training split (give the --data it was trained on)" in message


def test_a_checkpoint_that_records_nothing_of_its_training_is_refused(tmp_path):
    path = train(tmp_path, "batched.json", "--batch-size", "4", "--steps", "2", "--eval-every", "2", *TINY)
    accepted(evaluate(path, "val"), "val")
    payload = json.loads(path.read_text())
    del payload["data"]  # a version-2 checkpoint written without the fingerprint of its training names
    path.write_text(json.dumps(payload))
    assert "it does not record which names it trained on" in refused(evaluate(path, "val"))
    accepted(evaluate(path, "train"), "train")


@pytest.mark.skipif(sys.platform == "win32", reason="stops a run with SIGINT")
def test_an_interrupted_plain_run_with_another_seed_is_refused_with_what_it_saw(tmp_path):
    path = tmp_path / "run.json"
    process = subprocess.Popen([sys.executable, "-m", "microgpt_lib", "train", "--engine", "numpy", "--seed", "1",
                                "--steps", "100000", *TINY, "--save", str(path)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in iter(process.stdout.readline, ""):
        if line.startswith("step  300 /"):
            process.send_signal(signal.SIGINT)
            break
    process.communicate(timeout=120)
    saved = json.loads(path.read_text())
    assert saved["plain_run"]["seed"] == 1  # an interrupted plain run records its seed
    steps = saved["step"]
    docs = load_docs()
    seen = set(shuffled(docs, random.Random(1))[:steps])
    val = split_docs(docs).val
    message = refused(evaluate(path, "val"))
    assert (f"it is a plain run with --seed 1, whose {steps} training names come from another shuffle than the split's "
            f"({len(seen & set(val))} of the {len(val)} val names among them)") in message
