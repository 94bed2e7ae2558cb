"""`train --preset modern` and `--preset makemore` (issue 19): chapter 13's ModernGPT, command line.

The runs are as `--preset big`'s (split, progress, checkpoints, Ctrl-C, exact resume), on a model of
chapter 13's options. Every run here is a tiny one: the presets' shapes overridden by small flags.
Nothing here hard-codes a preset's numbers: what a run should have used is read from `modern.PRESETS`.
"""
import json
import random
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from microgpt_lib import batch_train as bt
from microgpt_lib import modern
from microgpt_lib.checkpoint import decode_array, load_checkpoint
from microgpt_lib.data import load_docs, split_docs
from microgpt_lib.numpy_model import sample_names
from microgpt_lib.tokenizer import Tokenizer

posix_signals = pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT to a process")
TINY = ["--n-embd", "8", "--n-head", "2", "--warmup-steps", "2", "--eval-every", "5",
        "--num-samples", "2"]
DATA_LINES = 3000  # a slice of the shipped names: its 300 validation names are quick to evaluate


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "names.txt"
    path.write_text("".join(f"{name}\n" for name in load_docs()[:DATA_LINES]), encoding="utf-8")
    return path


def run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "microgpt_lib", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def one_line_error(result):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr and result.stdout == ""
    return result.stderr


def settings_line(stdout):
    return next(line for line in stdout.splitlines() if line.startswith("settings: "))


def val_loss(stdout):
    last = stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"val loss: \d\.\d{4}", last), last
    return last


def saved(path):
    payload = json.loads(path.read_text(encoding="utf-8"))
    return payload["loss_history"], payload["val_history"], decode_array(payload["weights"])


# ---------------------------------------------------------- the presets train chapter 13's model


@pytest.mark.parametrize("preset", sorted(modern.PRESETS))
def test_a_preset_trains_its_modern_model_as_the_library_does(preset, data):
    """The command line's run is the library's run of the preset's settings (flags over them)."""
    result = run("train", "--preset", preset, "--steps", "6", *TINY, "--data", str(data))
    assert result.returncode == 0, result.stderr
    settings = settings_line(result.stdout)
    overridden = {"n_embd": 8, "n_head": 2, "warmup_steps": 2, "eval_every": 5, "num_steps": 6}
    for key, value in {**modern.PRESETS[preset], **overridden}.items():
        assert f" {key}={value}," in f"{settings},", (key, value, settings)
    # the same run in the library: the preset's options, the flags over them
    model_settings, run_settings = modern.split_settings({**modern.PRESETS[preset], **overridden})
    split = split_docs(load_docs(data))
    tokenizer = Tokenizer(sorted(set("".join(split.train + split.val + split.test))))
    model_config = modern.ModernConfig(vocab_size=tokenizer.vocab_size, **model_settings)
    expected = modern.start_run(model_config, modern.ModernRunConfig(**run_settings))
    bt.train_run(expected, tokenizer, split.train, split.val)
    assert f"num params: {expected.model.flat.size}\n" in result.stdout
    assert val_loss(result.stdout) == f"val loss: {expected.val_history[-1][1]:.4f}"


# ---------------------------------------------------------- Ctrl-C, resume, sample, evaluate

STEPS = 200  # so that the Ctrl-C sent on seeing step 5 lands long before the end, on a busy machine
MODERN_RUN = ["train", "--preset", "modern", "--steps", str(STEPS), *TINY, "--dropout", "0.25"]


@pytest.fixture(scope="module")
def straight(data, tmp_path_factory):
    """The dropout run of MODERN_RUN trained straight through, saved: (path, stdout)."""
    path = tmp_path_factory.mktemp("straight") / "run.json"
    result = run(*MODERN_RUN, "--data", str(data), "--save", str(path))
    assert result.returncode == 0, result.stderr
    return path, result.stdout


@posix_signals
def test_ctrl_c_then_resume_ends_as_the_straight_run_with_dropout(straight, data, tmp_path):
    path = tmp_path / "run.json"
    args = [*MODERN_RUN, "--data", str(data), "--save", str(path)]
    process = subprocess.Popen([sys.executable, "-m", "microgpt_lib", *args], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in iter(process.stdout.readline, ""):
        if line.startswith(f"step {5:{len(str(STEPS))}d}/"):
            break
    process.send_signal(signal.SIGINT)  # a real Ctrl-C: the run stops at the end of a step, saves
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130 and "Ctrl-C: interrupted after step" in err, err
    stopped_at = int(re.search(rf"after step (\d+) of {STEPS}", err).group(1))
    assert 5 <= stopped_at < STEPS and f"--resume {path}" in err
    resumed = run(*args, "--resume", str(path))
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming after step {stopped_at} from {path}" in resumed.stdout
    straight_path, straight_out = straight
    losses, vals, weights = saved(path)
    straight_losses, straight_vals, straight_weights = saved(straight_path)
    assert len(losses) == STEPS and losses == straight_losses  # bit for bit
    assert vals == straight_vals
    assert np.array_equal(weights, straight_weights)
    assert val_loss(resumed.stdout) == val_loss(straight_out)
    # and the masks are drawn: without dropout, the first loss (same weights, same batch) is another
    without = tmp_path / "without.json"
    args = [*MODERN_RUN[: MODERN_RUN.index("--steps")], "--steps", "3", *TINY, "--data", str(data)]
    assert run(*args, "--save", str(without)).returncode == 0
    assert saved(without)[0][0] != losses[0]


def test_sample_and_evaluate_read_a_modern_checkpoint(straight, data):
    path, stdout = straight
    checkpoint = load_checkpoint(path, engine="numpy")
    assert isinstance(checkpoint.model, modern.ModernGPT) and checkpoint.model.config.dropout == 0.25
    defaults = modern.ModernConfig(vocab_size=2)
    for key in ("activation", "norm", "position"):
        expected = modern.PRESETS["modern"].get(key, getattr(defaults, key))
        assert getattr(checkpoint.model.config, key) == expected
    sampled = run("sample", "--checkpoint", str(path), "--num-samples", "4", "--seed", "7")
    assert sampled.returncode == 0, sampled.stderr
    names = sample_names(checkpoint.model, checkpoint.tokenizer, random.Random(7), 4, 0.5)
    lines = [f"sample {i + 1:2d}: {name}" for i, name in enumerate(names)]
    assert sampled.stdout.splitlines()[2:] == lines
    evaluated = run("evaluate", "--checkpoint", str(path), "--data", str(data))
    assert evaluated.returncode == 0, evaluated.stderr
    assert evaluated.stdout == val_loss(stdout) + "\n"  # the run's last validation loss, measured again
    split = split_docs(load_docs(data))
    tested = run("evaluate", "--checkpoint", str(path), "--data", str(data), "--split", "test")
    expected = bt.evaluate(checkpoint.model, checkpoint.tokenizer, split.test)
    assert tested.stdout == f"test loss: {expected:.4f}\n"
    # the held-out guard: on other data (the whole shipped file), "test" names may be training ones
    message = one_line_error(run("evaluate", "--checkpoint", str(path), "--split", "test"))
    assert "it was trained on other data than these names' training split" in message


def test_a_modern_checkpoint_resumes_only_as_what_it_is(straight, data):
    path, _ = straight
    other = [a for a in MODERN_RUN if a != "modern"]
    other.insert(other.index("--preset") + 1, "makemore")
    message = one_line_error(run(*other, "--data", str(data), "--resume", str(path)))
    assert "it was trained with" in message
    presets = modern.PRESETS
    differs = [k for k in ("norm", "activation") if presets["makemore"].get(k) != presets["modern"].get(k)]
    assert differs and all(f"{k}=" in message for k in differs)
    message = one_line_error(run(*MODERN_RUN, "--engine", "numpy", "--data", str(data), "--resume", str(path)))
    assert "engine='manual' (this run: 'numpy')" in message  # float32 and float64 steps: not the same run
    plain = ["train", "--steps", str(STEPS), *TINY[:4], "--batch-size", "32", "--data", str(data),
             "--resume", str(path)]
    message = one_line_error(run(*plain))
    assert "it holds a run of chapter 13's ModernGPT" in message and "--preset modern" in message


# ---------------------------------------------------------- refusals, in one line, before anything runs


@pytest.mark.parametrize("value", ["1", "-0.1", "nan", "1.5"])
def test_a_bad_dropout_is_refused(value):
    message = one_line_error(run("train", "--preset", "modern", "--dropout", value))
    assert f"--dropout {float(value)} must be at least 0 and below 1" in message


@pytest.mark.parametrize("value", ["1", "-0.5", "nan"])
def test_a_bad_average_is_refused(value):
    message = one_line_error(run("train", "--preset", "modern", "--average", value))
    assert f"--average {float(value)} must be at least 0 and below 1" in message


def test_average_without_a_modern_preset_is_refused():
    message = one_line_error(run("train", "--preset", "big", "--average", "0.99"))
    assert "--average sets chapter 13's model, which only --preset" in message


def test_dropout_without_a_modern_preset_is_refused():
    for args in (["--dropout", "0.1"], ["--preset", "big", "--dropout", "0.1"]):
        message = one_line_error(run("train", *args))
        assert "--dropout sets chapter 13's model, which only --preset" in message
        assert "--preset modern" in message


@pytest.mark.parametrize("engine", ["torch", "fused", "scalar"])
def test_other_engines_are_refused_for_a_modern_preset(engine):
    message = one_line_error(run("train", "--preset", "makemore", "--engine", engine))
    assert ("--preset makemore trains chapter 13's ModernGPT on the manual engine (chapter 13's fast one, "
            f"the preset's) or the numpy engine, not --engine {engine}") in message
    assert message.rstrip().endswith("give --engine manual or numpy, or leave --engine out")


@pytest.mark.parametrize("preset", sorted(modern.PRESETS))
def test_a_presets_engine_is_the_fast_one_and_numpy_is_the_tensor_graph(preset, data):
    """--engine numpy trains the same model on ModernGPT's graph (float64): another run to rounding; the
    preset's default, the manual engine, is chapter 13's fast one (its settings line says which)."""
    assert modern.PRESETS[preset]["engine"] == "manual"
    outputs = {}
    for engine in ("numpy", "manual", None):
        result = run("train", "--preset", preset, "--steps", "6", *TINY, "--data", str(data),
                     *(["--engine", engine] if engine else []))
        assert result.returncode == 0, result.stderr
        assert f" engine={engine or 'manual'}," in settings_line(result.stdout) + ","
        outputs[engine] = result.stdout
    for same in (settings_line, val_loss):
        assert same(outputs[None]) == same(outputs["manual"])
    fast, graph = (float(val_loss(outputs[e]).split()[-1]) for e in ("manual", "numpy"))
    assert abs(fast - graph) < 2e-4  # float32 against float64: the same run to rounding


def test_the_manual_engine_is_refused_for_big_with_the_way_out():
    message = one_line_error(run("train", "--preset", "big", "--engine", "manual"))
    assert ("batched training runs on the numpy engine, not --engine manual "
            "(it is batched because of --preset)") in message
    assert "give --engine numpy" in message


def test_help_lists_every_preset_with_its_settings():
    result = run("train", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())  # argparse wraps lines
    for name, preset in modern.PRESETS.items():
        listed = text[text.index(f"{name}: chapter 13's ModernGPT,"):]
        listed = listed[: listed.find(";") if ";" in listed else None]  # up to the next preset
        for key, value in preset.items():
            assert f" {'steps' if key == 'num_steps' else key}={value}" in listed, (name, key, listed)
    assert "big: n_embd=" in text and "--dropout" in text


def test_load_checkpoint_builds_the_model_its_config_records(straight, tmp_path):
    from microgpt_lib.model import GPTConfig
    from microgpt_lib.numpy_model import NumpyGPT

    path, _ = straight
    big = load_checkpoint(ROOT / "data" / "microgpt_big.json", engine="numpy")
    assert type(big.model) is NumpyGPT and type(big.model.config) is GPTConfig  # chapter 11's, as before
    mine = load_checkpoint(path, engine="numpy")
    with pytest.raises(ValueError, match=r"ModernGPT \(norm=.*\), which has no scalar engine"):
        load_checkpoint(path)
    shape = GPTConfig(mine.model.config.vocab_size, 8, 2, mine.model.config.n_layer, 16)
    with pytest.raises(ValueError, match="holds a ModernConfig, not the GPTConfig expected"):
        load_checkpoint(path, config=shape, engine="numpy")
    payload = json.loads(path.read_text(encoding="utf-8"))
    payload["config"]["activation"] = "tanh"
    (tmp_path / "bad.json").write_text(json.dumps(payload), encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.json' has an impossible config: activation='tanh' is not one of"):
        load_checkpoint(tmp_path / "bad.json", engine="numpy")
    payload["config"]["colour"] = "blue"
    (tmp_path / "bad.json").write_text(json.dumps(payload), encoding="utf-8")
    with pytest.raises(ValueError, match="has a config this library does not know"):
        load_checkpoint(tmp_path / "bad.json", engine="numpy")
