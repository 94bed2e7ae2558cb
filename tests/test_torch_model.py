"""microgpt_lib.torch_model against the scalar engine: the one-to-one port (logits, loss, every gradient),
the idiomatic model against the port (one name and padded batches), training with torch.optim.Adam against
the 50-step reference run, checkpoints both ways, and the one-line message when torch is missing.

Without torch every test here is skipped with the reason, except the message test, which hides torch itself.
"""
import random
import subprocess
import sys

import pytest

from microgpt_lib.checkpoint import load_checkpoint, save_checkpoint
from microgpt_lib.data import load_docs, shuffled
from microgpt_lib.model import GPT, GPTConfig, param_shapes
from microgpt_lib.optim import Adam
from microgpt_lib.sample import sample_names as scalar_sample_names
from microgpt_lib.tokenizer import Tokenizer
from microgpt_lib.train import document_loss as scalar_document_loss

from conftest import ROOT, reference_file

TOL = 1e-12
NO_TORCH = "torch is not installed: make torch"
CONFIGS = [  # (config, seed of the weights)
    (GPTConfig(), 42),  # microgpt's
    (GPTConfig(n_embd=8, n_head=2, n_layer=2, block_size=8), 1),  # the seed-1 reference run's
    (GPTConfig(n_embd=12, n_head=3, n_layer=3, block_size=6, init_std=0.5), 7),  # large weights: every slip shows
    (GPTConfig(vocab_size=27, n_embd=4, n_head=1, n_layer=1, block_size=16), 3),  # one head
]
CONFIG_IDS = ["default", "2-layer", "3-layer-big-weights", "1-head"]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason=NO_TORCH)


@pytest.fixture(scope="module")
def tm(torch):
    from microgpt_lib import torch_model

    return torch_model


@pytest.fixture(scope="module")
def names():
    rng = random.Random(42)
    docs = shuffled(load_docs(), rng)
    return docs, Tokenizer.from_docs(docs)


def max_abs_diff(a, b):
    return (a - b).abs().max().item()


def scalar_grads(torch, gpt):
    return {name: torch.tensor([[p.grad for p in row] for row in mat], dtype=torch.float64) for name, mat in gpt.state_dict.items()}


# ---------------------------------------------------------------- the one-to-one port against the scalar engine


@pytest.mark.parametrize("config, seed", CONFIGS, ids=CONFIG_IDS)
def test_state_dict_has_microgpts_names_shapes_and_draws(tm, torch, config, seed):
    gpt = GPT(config, random.Random(seed))
    model = tm.MicroGPT(config, random.Random(seed))
    sd = model.state_dict()
    assert list(sd) == list(param_shapes(config))
    assert [tuple(t.shape) for t in sd.values()] == list(param_shapes(config).values())
    assert all(t.dtype == torch.float64 for t in sd.values())
    for name, tensor in sd.items():  # the same draws from the same generator, bit for bit
        assert tensor.tolist() == [[p.data for p in row] for row in gpt.state_dict[name]], name
    assert sum(p.numel() for p in model.parameters()) == len(gpt.params)


@pytest.mark.parametrize("config, seed", CONFIGS, ids=CONFIG_IDS)
def test_one_to_one_logits_loss_and_gradients_equal_the_scalar_engine(tm, torch, names, config, seed):
    docs, tokenizer = names
    gpt = GPT(config, random.Random(seed))
    model = tm.MicroGPT.from_gpt(gpt)
    for doc in docs[:3]:
        tokens = tokenizer.tokenize(doc)
        keys, values = gpt.empty_cache()
        torch_keys, torch_values = model.empty_cache()
        for pos_id, token_id in enumerate(tokens[: config.block_size]):
            expected = torch.tensor([v.data for v in gpt(token_id, pos_id, keys, values)], dtype=torch.float64)
            assert max_abs_diff(model(token_id, pos_id, torch_keys, torch_values), expected) < TOL, (doc, pos_id)
        for p in gpt.params:
            p.grad = 0
        model.zero_grad()
        loss = scalar_document_loss(gpt, tokens)
        loss.backward()
        torch_loss = model.document_loss(tokens)
        torch_loss.backward()
        assert abs(torch_loss.item() - loss.data) < TOL, doc
        grads = scalar_grads(torch, gpt)
        for name, p in model.named_parameters():
            assert max_abs_diff(p.grad, grads[name]) < TOL, (doc, name)
        assert max(g.abs().max().item() for g in grads.values()) > 1e-3  # the gradients are not all tiny


def test_one_to_one_rejects_what_microgpt_rejects(tm):
    model = tm.MicroGPT(GPTConfig(), random.Random(0))
    keys, values = model.empty_cache()
    with pytest.raises(ValueError, match="token id 27 is outside the vocabulary"):
        model(27, 0, keys, values)
    with pytest.raises(ValueError, match="position 16 is outside the context"):
        model(0, 16, keys, values)
    with pytest.raises(ValueError, match="at least 2 tokens"):
        model.document_loss([26])


# ---------------------------------------------------------------- the idiomatic model against the port


@pytest.mark.parametrize("config, seed", CONFIGS, ids=CONFIG_IDS)
def test_idiomatic_equals_one_to_one_on_one_name(tm, torch, names, config, seed):
    docs, tokenizer = names
    model = tm.MicroGPT(config, random.Random(seed))
    idiomatic = tm.IdiomaticGPT.from_micro(model)
    tokens = tokenizer.tokenize(docs[5])[: config.block_size]
    logits, _ = idiomatic(torch.tensor([tokens]))
    keys, values = model.empty_cache()
    expected = torch.stack([model(t, pos, keys, values) for pos, t in enumerate(tokens)])
    assert max_abs_diff(logits[0], expected) < TOL
    tokens = tokenizer.tokenize(docs[5])
    loss, expected_loss = idiomatic.document_loss(tokens), model.document_loss(tokens)
    loss.backward()
    expected_loss.backward()
    assert abs(loss.item() - expected_loss.item()) < TOL
    grads = tm.to_idiomatic_names({name: p.grad for name, p in model.named_parameters()})
    for name, p in idiomatic.named_parameters():
        assert max_abs_diff(p.grad, grads[name]) < TOL, name


@pytest.mark.parametrize("config, seed", CONFIGS, ids=CONFIG_IDS)
def test_idiomatic_batch_with_padding_equals_the_mean_of_single_names(tm, torch, names, config, seed):
    docs, tokenizer = names
    model = tm.MicroGPT(config, random.Random(seed))
    idiomatic = tm.IdiomaticGPT.from_micro(model)
    batch = [tokenizer.tokenize(doc) for doc in docs[10:15] + ["bo", "x"]]  # short ones too, whatever block_size
    assert len({min(len(t) - 1, config.block_size) for t in batch}) > 1  # lengths differ: there is padding
    loss = idiomatic.batch_loss(batch)
    loss.backward()
    expected = sum(model.document_loss(tokens) for tokens in batch) / len(batch)
    expected.backward()
    assert abs(loss.item() - expected.item()) < TOL
    grads = tm.to_idiomatic_names({name: p.grad for name, p in model.named_parameters()})
    for name, p in idiomatic.named_parameters():
        assert max_abs_diff(p.grad, grads[name]) < TOL, name
    # the padding really is masked: another pad id changes nothing
    assert abs(idiomatic.batch_loss(batch, pad_id=3).item() - loss.item()) < TOL


def test_idiomatic_is_nanogpt_shaped(tm, torch):
    config = GPTConfig(n_layer=2)
    idiomatic = tm.IdiomaticGPT(config)
    assert isinstance(idiomatic.transformer.wte, torch.nn.Embedding)
    assert all(m.bias is None for m in idiomatic.modules() if isinstance(m, torch.nn.Linear))
    assert sum(p.numel() for p in idiomatic.parameters()) == 4192 + 12 * 16 * 16  # microgpt's 4192, one more layer
    sd = idiomatic.state_dict()
    assert tm.to_idiomatic_names(tm.to_microgpt_names(sd, config)).keys() == sd.keys()
    micro = tm.MicroGPT(config, random.Random(3))
    back = tm.IdiomaticGPT.from_micro(micro).to_micro().state_dict()
    assert list(back) == list(micro.state_dict())
    assert all(torch.equal(back[name], t) for name, t in micro.state_dict().items())


# ---------------------------------------------------------------- training with torch.optim.Adam


def test_torch_adam_with_lambdalr_is_our_adam(tm, torch, names):
    """Three steps of torch.optim.Adam + LambdaLR against microgpt_lib.optim.Adam, from the same gradients."""
    docs, tokenizer = names
    config = GPTConfig(n_embd=8, n_head=2, block_size=8)
    gpt = GPT(config, random.Random(5))
    model = tm.MicroGPT.from_gpt(gpt)
    num_steps = 3
    ours = Adam(gpt.params, num_steps)
    optimizer, scheduler = tm.make_optimizer(model, num_steps)
    for step in range(num_steps):
        tokens = tokenizer.tokenize(docs[step])
        scalar_document_loss(gpt, tokens).backward()
        ours.step(step)
        optimizer.zero_grad()
        model.document_loss(tokens).backward()
        optimizer.step()
        scheduler.step()
        expected = tm.state_dict_of(gpt)
        for name, p in model.named_parameters():
            assert max_abs_diff(p.detach(), expected[name]) < TOL, (step, name)
    assert max_abs_diff(model.wte.detach(), tm.state_dict_of(GPT(config, random.Random(5)))["wte"]) > 1e-3  # it moved


def test_fifty_steps_print_the_reference_run(tm, torch):
    """microgpt's 50-step reference file, every loss to the printed digit and every sample, with torch.optim.Adam."""
    rng = random.Random(42)
    docs = shuffled(load_docs(), rng)
    tokenizer = Tokenizer.from_docs(docs)
    model = tm.MicroGPT(GPTConfig(vocab_size=tokenizer.vocab_size), rng)
    lines = [f"num docs: {len(docs)}", f"vocab size: {tokenizer.vocab_size}",
             f"num params: {sum(p.numel() for p in model.parameters())}"]
    from microgpt_lib.train import format_step

    tm.train(model, tokenizer, docs, 50, callback=lambda *a: lines.append(format_step(*a)))
    lines += ["", "--- inference (new, hallucinated names) ---"]
    lines += [f"sample {i + 1:2d}: {name}" for i, name in enumerate(tm.sample_names(model, tokenizer, rng, 20, 0.5))]
    assert lines == reference_file("microgpt_default_steps50.txt").read_text(encoding="utf-8").splitlines()


def test_idiomatic_trains_like_the_port(tm, torch, names):
    docs, tokenizer = names
    config = GPTConfig(n_embd=8, n_head=2, block_size=8)
    model = tm.MicroGPT(config, random.Random(9))
    idiomatic = tm.IdiomaticGPT.from_micro(model)
    expected = tm.train(model, tokenizer, docs, 5)
    got = tm.train(idiomatic, tokenizer, docs, 5)
    assert max(abs(a - b) for a, b in zip(got, expected)) < 1e-10
    assert expected[0] != expected[-1]


# ---------------------------------------------------------------- checkpoints, both ways


def test_scalar_checkpoint_loads_into_torch_and_samples_the_same(tm, tmp_path):
    config = GPTConfig(n_embd=8, n_head=2, n_layer=2, block_size=8)
    tokenizer = Tokenizer("abcdefghijklmnopqrstuvwxyz")
    gpt = GPT(config, random.Random(4))
    path = tmp_path / "scalar.json"
    save_checkpoint(path, gpt, tokenizer, 0, [])
    model, loaded_tokenizer = tm.MicroGPT.from_checkpoint(path)
    assert loaded_tokenizer.uchars == tokenizer.uchars
    expected = scalar_sample_names(gpt, tokenizer, random.Random(1), 12, 1.0)
    assert tm.sample_names(model, tokenizer, random.Random(1), 12, 1.0) == expected
    assert tm.sample_names(tm.IdiomaticGPT.from_micro(model), tokenizer, random.Random(1), 12, 1.0) == expected
    assert len(set(expected)) > 6


def test_cli_checkpoint_loads_into_torch(tm, tmp_path):
    path = tmp_path / "cli.json"
    subprocess.run([sys.executable, "-m", "microgpt_lib", "train", "--steps", "3", "--n-embd", "8", "--n-head", "2",
                    "--block-size", "8", "--num-samples", "1", "--save", str(path)], check=True, capture_output=True, cwd=ROOT)
    checkpoint = load_checkpoint(path)
    model, tokenizer = tm.MicroGPT.from_checkpoint(path)
    assert tm.sample_names(model, tokenizer, random.Random(2), 10) == \
        scalar_sample_names(checkpoint.model, checkpoint.tokenizer, random.Random(2), 10)


def test_torch_model_exports_to_our_checkpoint(tm, torch, names, tmp_path):
    docs, tokenizer = names
    model = tm.MicroGPT(GPTConfig(n_embd=8, n_head=2, block_size=8), random.Random(6))
    idiomatic = tm.IdiomaticGPT.from_micro(model)
    loss_history = tm.train(idiomatic, tokenizer, docs, 4)  # trained in nanoGPT's layout
    path = tmp_path / "torch.json"
    save_checkpoint(path, idiomatic.to_micro().to_gpt(), tokenizer, 4, loss_history)
    checkpoint = load_checkpoint(path)
    assert checkpoint.loss_history == loss_history
    for name, tensor in idiomatic.to_micro().state_dict().items():  # JSON keeps every float exactly
        assert tensor.tolist() == [[p.data for p in row] for row in checkpoint.model.state_dict[name]]
    assert scalar_sample_names(checkpoint.model, checkpoint.tokenizer, random.Random(3), 10) == \
        tm.sample_names(idiomatic, tokenizer, random.Random(3), 10)


def test_gpt_from_state_dict_names_what_does_not_fit(tm, torch):
    config = GPTConfig(n_embd=8, n_head=2)
    sd = tm.MicroGPT(config).state_dict()
    with pytest.raises(ValueError, match=r"wpe is \(16, 8\), the config needs \(8, 8\)"):
        tm.gpt_from_state_dict(sd, GPTConfig(n_embd=8, n_head=2, block_size=8))
    del sd["lm_head"]
    with pytest.raises(ValueError, match="expected the matrices"):
        tm.gpt_from_state_dict(sd, config)


# ---------------------------------------------------------------- without torch


def test_without_torch_one_line_says_how_to_install():
    code = "import sys; sys.modules['torch'] = None\nimport microgpt_lib.torch_model"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ModuleNotFoundError: PyTorch is not installed: run `make torch`"), result.stderr
    assert "--index-url https://download.pytorch.org/whl/cpu" in last_line


def test_the_rest_of_the_course_never_imports_torch():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import microgpt_lib, microgpt_lib.cli, microgpt_lib.numpy_model, microgpt_lib.fused, microgpt_lib.viz\n"
            "from microgpt_lib.checks import ch08\n"
            "print('ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout == "ok\n", result.stderr
