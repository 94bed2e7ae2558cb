"""`train --engine torch` (chapter 14) through the command line: the numpy engine's run, printed the same;
the one-line message without torch; and two processes under torchrun (DistributedDataParallel, gloo on
the CPU) against one process with the whole batch, stopped by SIGTERM, saved by rank 0, resumed in one process.
"""
import json
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
    # it says to resume with the torchrun command that was used, or in one process; one process, to the end
    again = shlex.split(err.split("resume with:\n")[1].splitlines()[0])
    assert again == [*command, "--resume", str(path)]
    one_process = "or in one process (the checkpoint resumes under any number of processes):\n"
    resume = shlex.split(err.split(one_process)[1].splitlines()[0])
    assert resume == [sys.executable, "-m", "microgpt_lib", *command[command.index("microgpt_lib") + 1 :],
                      "--resume", str(path)]
    resumed = subprocess.run(resume, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    bt.train_run(one, tokenizer, split.train, split.val)
    final = load_checkpoint(path, engine="numpy")
    assert final.step == 40
    np.testing.assert_allclose(final.model.flat, one.model.flat, rtol=0, atol=1e-12)
    assert resumed.stdout.splitlines()[-1] == f"val loss: {one.val_history[-1][1]:.4f}"


def test_under_torchrun_the_resume_command_is_torchruns_own(monkeypatch, tmp_path):
    """The words that restart a run under torchrun: torchrun's command line (read from the parent process)
    up to this program's arguments; rebuilt from torchrun's variables where it cannot be read; and the same
    words in the message that refuses to overwrite a run that can still resume."""
    from microgpt_lib import cli_torch
    from microgpt_lib.cli_train import resume_command
    from microgpt_lib.save_guard import check_overwrite

    own = ["train", "--engine", "torch", "--save", "run.json"]
    parent = ["/venv/bin/python3", "/venv/bin/torchrun", "--nproc-per-node", "2", "-m", "microgpt_lib", *own]
    assert cli_torch.torchrun_launcher(parent, own) == parent[1:-len(own)]  # the torchrun script says it
    parent = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "-m", "microgpt_lib", *own]
    assert cli_torch.torchrun_launcher(parent, own) == parent[:-len(own)]
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    monkeypatch.setenv("GROUP_WORLD_SIZE", "2")
    assert cli_torch.torchrun_launcher([], own) == ["torchrun", "--nnodes", "2", "--nproc-per-node", "4", "-m",
                                                    "microgpt_lib"]
    path = tmp_path / "run.json"  # a batched run stopped after step 3 of 10 (what the overwrite guard reads)
    path.write_text(json.dumps({"format": "microgpt-checkpoint", "version": 2, "step": 3, "optimizer": {},
                                "rng_state": [], "run": {"num_steps": 10}, "command": own}))
    torchrun_words = ["/venv/bin/torchrun", "--nproc-per-node", "2", "-m", "microgpt_lib"]
    monkeypatch.setattr(sys, "argv", ["microgpt_lib", *own])  # what torchrun passes on (not pytest's own words)
    monkeypatch.setattr(cli_torch, "parent_command", lambda: [*torchrun_words, *own])
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "none")  # what torchrun sets in every process it starts
    torchrun = "/venv/bin/torchrun --nproc-per-node 2 -m microgpt_lib train --engine torch --save run.json"
    assert resume_command(own, "run.json") == f"{torchrun} --resume run.json"
    with pytest.raises(ValueError, match=f"can still resume \\(with: {re.escape(torchrun)} --resume "):
        check_overwrite(path, how_to_resume=resume_command)
    monkeypatch.delenv("TORCHELASTIC_RUN_ID")
    one_process = shlex.join([sys.executable, "-m", "microgpt_lib", "train"])
    assert resume_command(own, "run.json").startswith(one_process)


def plain_checkpoints(folder):
    """A plain run (microgpt's, one name a step, version 1) finished after 3 steps, and one stopped
    after 3 of 10."""
    from microgpt_lib.checkpoint import save_checkpoint
    from microgpt_lib.model import GPT

    tokenizer = Tokenizer(list("abc"))
    config = GPTConfig(tokenizer.vocab_size, n_embd=4, n_head=1, n_layer=1, block_size=4)
    model = GPT(config, random.Random(0))
    finished, stopped = folder / "finished.json", folder / "stopped.json"
    save_checkpoint(finished, model, tokenizer, 3, [3.0, 2.9, 2.8])
    save_checkpoint(stopped, model, tokenizer, 3, [3.0, 2.9, 2.8], optimizer={"m": [], "v": []},
                    plain_run={"steps": 10}, command=["train", "--steps", "10", "--save", str(stopped)])
    return finished, stopped


def test_resuming_a_plain_runs_checkpoint_says_what_it_is_and_what_resumes_it(torch, tmp_path):
    from microgpt_lib import torch_train as tt

    finished, stopped = plain_checkpoints(tmp_path)
    with pytest.raises(ValueError, match=r"with --engine torch: it holds the weights of a plain run \(microgpt's "
                                         r"training, one name a step; step 3\), with no optimizer.*`sample` and "
                                         r"`evaluate` read it.*A batched run .* continues only from"):
        tt.check_batched_checkpoint(finished)
    result = cli("train", "--engine", "torch", "--steps", "10", "--resume", str(stopped))
    assert result.returncode == 2 and result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
    one_process = shlex.join([sys.executable, "-m", "microgpt_lib", "train", "--steps", "10",
                              "--save", str(stopped), "--resume", str(stopped)])
    assert (f"it holds a plain run (microgpt's training, one name a step), stopped after step 3 of 10; "
            f"the plain engines resume it, with: {one_process}. A batched run") in result.stderr
    assert "weights only" not in result.stderr


def test_compile_trains_a_tiny_run_on_the_cpu_as_without_it(torch):
    """`train --engine torch --compile`: torch.compile (inductor, C++ built with the machine's compiler) trains
    to the losses of the same run without it (float32, to the printed digits). Where torch.compile does not
    work (no C compiler), the command says so in one line, and this test is skipped with that line."""
    tiny = ["train", "--engine", "torch", "--device", "cpu", "--dtype", "float32", "--steps", "4",
            "--batch-size", "4", "--eval-every", "2", "--n-embd", "8", "--n-head", "2", "--num-samples", "1"]
    compiled = cli(*tiny, "--compile")
    if compiled.returncode == 2 and "--compile: torch.compile does not work here" in compiled.stderr:
        pytest.skip(compiled.stderr.strip())
    plain = cli(*tiny)
    assert compiled.returncode == 0 and plain.returncode == 0, compiled.stderr[-2000:]
    assert "float32, compiled, 1 thread" in compiled.stdout
    losses = lambda out: [float(x) for x in re.findall(r"(?:train|val) (\d+\.\d{4})", out)]
    assert len(losses(compiled.stdout)) == 4  # train and val, at steps 2 and 4
    np.testing.assert_allclose(losses(compiled.stdout), losses(plain.stdout), rtol=0, atol=2e-4)


def test_no_module_but_torch_model_and_torch_train_imports_torch():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import microgpt_lib.cli, microgpt_lib.cli_train, microgpt_lib.cli_torch, microgpt_lib.torch_bench\n"
            "from microgpt_lib.checks import ch14\n"
            "print('ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.stdout == "ok\n", result.stderr


def test_bench_prints_each_precision_against_numpy_and_two_processes_against_one(torch):
    """`bench --engine torch`: names and tokens per second of the NumPy engine and of each torch precision,
    each as a ratio to NumPy's (1.0x for itself), then DistributedDataParallel on 2 processes (torchrun)
    against 1, and the scaling efficiency."""
    result = cli("bench", "--engine", "torch", "--steps", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = re.findall(r"^(numpy float64|torch float64|torch float32|torch bfloat16) +(\d+) +(\d+) +([\d.]+)x$",
                      result.stdout, re.M)
    assert [row[0] for row in rows] == ["numpy float64", "torch float64", "torch float32", "torch bfloat16"]
    assert rows[0][3] == "1.0" and all(int(names) > 0 and int(tokens) > int(names) for _, names, tokens, _ in rows)
    assert "torch.compile not measured: not asked (add --compile)" in result.stdout
    times = re.findall(r"^  (1 process  |2 processes): +[\d.]+ ms/step, +(\d+) names/s$", result.stdout, re.M)
    assert [n for n, _ in times] == ["1 process  ", "2 processes"]
    efficiency = re.search(r"scaling efficiency: (\d+)% \(speed-up ([\d.]+)x on 2 processes", result.stdout)
    names_per_s = [int(v) for _, v in times]
    assert efficiency and abs(float(efficiency.group(2)) - names_per_s[1] / names_per_s[0]) < 0.02
    assert abs(int(efficiency.group(1)) - 50 * names_per_s[1] / names_per_s[0]) <= 1
