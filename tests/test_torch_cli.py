"""`train --engine torch` (chapter 14) through the command line: the numpy engine's run, printed the same;
the one-line message without torch; and two processes under torchrun (DistributedDataParallel, gloo on
the CPU) against one process with the whole batch, stopped by SIGTERM, saved by rank 0, resumed in one process.
"""
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from microgpt_lib import batch_train as bt
from microgpt_lib.checkpoint import load_checkpoint
from microgpt_lib.data import load_docs, split_docs
from microgpt_lib.model import GPTConfig
from microgpt_lib.tokenizer import Tokenizer

from conftest import ROOT

NO_TORCH = "torch is not installed: make torch"
RUN = ["train", "--steps", "30", "--batch-size", "8", "--eval-every", "10", "--n-layer", "2", "--num-samples", "3"]
TIMING = re.compile(r"\| +[\d.]+ steps/s \| [\dms ]+ left \|")


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "microgpt_lib", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=env)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason=NO_TORCH)


def test_the_torch_engine_prints_the_numpy_engines_run(torch):
    numpy_run, torch_run = cli(*RUN), cli(*RUN, "--engine", "torch", "--device", "cpu", "--dtype", "float64")
    assert numpy_run.returncode == torch_run.returncode == 0, torch_run.stderr
    torch_lines = torch_run.stdout.splitlines()
    engine_line = [line for line in torch_lines if line.startswith("engine: torch")]
    assert len(engine_line) == 1 and "on cpu, float64" in engine_line[0]
    strip = lambda lines: [TIMING.sub("|", line) for line in lines if not line.startswith("engine:")]
    assert strip(torch_lines) == strip(numpy_run.stdout.splitlines())  # progress, samples, `val loss:` last
    assert torch_lines[-1].startswith("val loss: ")


def test_torch_options_without_the_torch_engine_are_refused():
    result = cli("train", "--dtype", "float32", "--steps", "2")
    assert result.returncode == 2
    assert "--dtype set how the torch engine computes: add --engine torch" in result.stderr


def test_without_torch_the_torch_engine_says_how_to_install_it():
    code = ("import sys; sys.modules['torch'] = None\n"
            "from microgpt_lib.cli import main\n"
            "sys.exit(main(['train', '--engine', 'torch', '--steps', '2']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert "--engine torch needs PyTorch, which is not installed: run `make torch`" in result.stderr


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SMALL = ["train", "--steps", "40", "--batch-size", "9", "--eval-every", "40", "--n-embd", "8", "--n-head", "2",
         "--engine", "torch", "--device", "cpu", "--dtype", "float64", "--num-samples", "2"]


def test_two_processes_train_as_one_with_the_whole_batch_and_resume_in_one(torch, tmp_path):
    """torchrun with 2 processes (each 4 or 5 names of the 9), SIGTERM once rank 0 has saved a step:
    every step's loss and the saved weights are those of one process with the whole batch (to 1e-12), and
    the command it prints resumes the run in one process, to the one-process run's end."""
    path = tmp_path / "two.json"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
               "--master-port", str(free_port()), "-m", "microgpt_lib", *SMALL, "--save-every", "2", "--save", str(path)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not path.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)  # torchrun passes it on to both processes
    out, err = process.communicate(timeout=120)
    assert path.exists(), err
    saved = load_checkpoint(path, engine="numpy")
    assert 2 <= saved.step < 40, (saved.step, err)
    assert "SIGTERM: interrupted after step" in err and out.count("num docs:") == 1  # rank 0 alone prints
    # one process, the whole batch, as many steps, in the library
    split = split_docs(load_docs())
    tokenizer = Tokenizer(sorted(set("".join(split.train + split.val + split.test))))
    gpt_config = GPTConfig(tokenizer.vocab_size, n_embd=8, n_head=2, n_layer=1, block_size=16)
    config = bt.RunConfig(num_steps=40, batch_size=9, eval_every=40, seed=42)
    one = bt.start_run(gpt_config, config)
    bt.train_run(one, tokenizer, split.train, split.val, should_stop=lambda: one.step >= saved.step)
    np.testing.assert_allclose(saved.model.flat, one.model.flat, rtol=0, atol=1e-12)
    np.testing.assert_allclose(saved.loss_history, one.loss_history, rtol=0, atol=1e-12)
    # the printed command resumes it in one process, to the end
    resume = shlex.split(err.split("resume with:\n")[1].splitlines()[0])
    assert resume[:3] == [sys.executable, "-m", "microgpt_lib"] and "--resume" in resume
    resumed = subprocess.run(resume, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    bt.train_run(one, tokenizer, split.train, split.val)
    final = load_checkpoint(path, engine="numpy")
    assert final.step == 40
    np.testing.assert_allclose(final.model.flat, one.model.flat, rtol=0, atol=1e-12)
    assert resumed.stdout.splitlines()[-1] == f"val loss: {one.val_history[-1][1]:.4f}"


def test_no_module_but_torch_model_and_torch_train_imports_torch():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import microgpt_lib.cli, microgpt_lib.cli_train, microgpt_lib.cli_torch, microgpt_lib.torch_bench\n"
            "from microgpt_lib.checks import ch14\n"
            "print('ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.stdout == "ok\n", result.stderr
