"""The hand-written backward (chapter 09b): each layer against finite differences and against the Tensor
engine's gradient, the whole model and its batched form against the Tensor engine, the command line's
reference runs byte for byte."""
import random
import subprocess
import sys

import numpy as np
import pytest

from microgpt_lib import batch_train, manual, numpy_model
from microgpt_lib.manual import ManualGPT
from microgpt_lib.model import GPTConfig
from microgpt_lib.numpy_model import NumpyGPT
from microgpt_lib.tensor import Tensor, causal_attention, embedding, linear, pick, rmsnorm, softmax
from microgpt_lib.tokenizer import Tokenizer

from conftest import ROOT, reference_file

CONFIGS = {
    "default": GPTConfig(),
    "three-layers": GPTConfig(n_embd=8, n_head=2, n_layer=3, block_size=8),
    "one-head": GPTConfig(n_embd=12, n_head=1, n_layer=2, block_size=16),
    "short-context": GPTConfig(n_embd=16, n_head=4, n_layer=1, block_size=4),  # shorter than most names
}
TOKENIZER = Tokenizer("abcdefghijklmnopqrstuvwxyz")
NAMES = ["al", "emma", "christopher", "bo", "zoe", "maximilianojose"]


def numerical_grad(f, x, h=1e-6):
    """Central differences of the scalar f() with respect to every entry of the array x (changed in place)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f()
        x[i] = old - h
        down = f()
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def assert_fd(forward, backward, arrays, seed=0):
    """forward(*arrays) -> (out, cache); backward(dout, cache) -> the gradient of each array, in order.

    The loss is sum(out * R) for a random R, so that every output entry matters.
    """
    out, cache = forward(*arrays)
    weights = np.random.default_rng(seed).normal(size=out.shape)
    grads = backward(weights, cache)
    for array, grad in zip(arrays, grads):
        expected = numerical_grad(lambda: float((forward(*arrays)[0] * weights).sum()), array)
        assert grad.shape == array.shape
        np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-8)


def normal(*shape, seed=1):
    return np.random.default_rng(seed).normal(size=shape)


# ---------------------------------------------------------------- each layer against finite differences

def test_embedding_backward_matches_finite_differences_and_adds_repeated_rows():
    ids = np.array([[0, 2, 2], [1, 2, 0]])

    def backward(dout, cache):
        dwte, dwpe = np.zeros((4, 3)), np.zeros((5, 3))
        manual.embedding_backward(dout, cache, dwte, dwpe)
        return dwte, dwpe

    assert_fd(lambda wte, wpe: manual.embedding_forward(wte, wpe, ids), backward, [normal(4, 3), normal(5, 3, seed=2)])
    dwte, dwpe = backward(np.ones((6, 3)), ids)
    assert dwte[:, 0].tolist() == [2.0, 1.0, 3.0, 0.0]  # row 2 picked three times, row 3 never
    assert dwpe[:, 0].tolist() == [2.0, 2.0, 2.0, 0.0, 0.0]  # positions 0..2 of two names; 3, 4 unused


def test_rmsnorm_backward_matches_finite_differences():
    assert_fd(manual.rmsnorm_forward, lambda dout, cache: [manual.rmsnorm_backward(dout, cache)], [normal(5, 8)])


def test_linear_backward_matches_finite_differences_and_accumulates():
    def backward(dout, cache):
        x, w = cache
        dw = np.zeros_like(w)
        return manual.linear_backward(dout, x, w, dw), dw

    assert_fd(lambda x, w: (manual.linear_forward(x, w)[0], (x, w)), backward, [normal(5, 4), normal(3, 4, seed=2)])
    x, w, dout = normal(5, 4), normal(3, 4), normal(5, 3)
    dw = np.ones_like(w)
    manual.linear_backward(dout, x, w, dw)
    np.testing.assert_allclose(dw, 1 + dout.T @ x)  # added to what was there: llm.c's +=


def test_relu_backward_matches_finite_differences():
    assert_fd(manual.relu_forward, lambda dout, cache: [manual.relu_backward(dout, cache)], [normal(4, 6)])


@pytest.mark.parametrize("B, T, n_head, C", [(2, 5, 2, 8), (1, 3, 1, 4), (1, 6, 4, 16)])
def test_attention_backward_matches_finite_differences(B, T, n_head, C):
    assert_fd(lambda qkv: manual.attention_forward(qkv, B, T, n_head),
              lambda dout, cache: [manual.attention_backward(dout, cache)], [normal(B * T, 3 * C)])


def test_attention_never_looks_ahead():
    qkv = normal(6, 24)
    before, _ = manual.attention_forward(qkv, 1, 6, 2)
    qkv[4:, 16:] += 100.0  # the values of positions 4 and 5
    after, _ = manual.attention_forward(qkv, 1, 6, 2)
    np.testing.assert_array_equal(before[:4], after[:4])
    assert not np.allclose(before[4:], after[4:])


def test_softmax_nll_backward_matches_finite_differences_with_weights_and_padding():
    targets, weights = np.array([1, 0, 4, 4]), np.array([0.5, 0.25, 0.25, 0.0])  # the last row is padding
    forward = lambda logits: manual.softmax_nll_forward(logits, targets, weights)
    logits = normal(4, 5)
    loss, cache = forward(logits)
    expected = numerical_grad(lambda: float(forward(logits)[0]), logits)
    np.testing.assert_allclose(manual.softmax_nll_backward(cache), expected, rtol=1e-6, atol=1e-8)
    assert np.all(manual.softmax_nll_backward(cache)[3] == 0)  # padding gets no gradient
    big = manual.softmax_nll_forward(logits + 1000.0, targets, weights)[0]  # the max is subtracted: no overflow
    assert abs(big - loss) < 1e-9


# ---------------------------------------------------------------- each layer against the Tensor engine

def tensor_grads(build, *arrays, seed=3):
    """The Tensor engine's gradients of sum(build(*tensors) * R), and R."""
    tensors = [Tensor(a.copy()) for a in arrays]
    out = build(*tensors)
    weights = np.random.default_rng(seed).normal(size=out.shape)
    (out * weights).sum().backward()
    return [t.grad for t in tensors], weights


def test_every_layer_equals_the_tensor_engine():
    x, w = normal(6, 8), normal(5, 8, seed=2)
    (dx, dw), dout = tensor_grads(linear, x, w)
    got_dw = np.zeros_like(w)
    np.testing.assert_allclose(manual.linear_backward(dout, x, w, got_dw), dx, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got_dw, dw, rtol=0, atol=1e-12)

    (dx,), dout = tensor_grads(rmsnorm, x)
    np.testing.assert_allclose(manual.rmsnorm_backward(dout, manual.rmsnorm_forward(x)[1]), dx, rtol=0, atol=1e-12)

    (dx,), dout = tensor_grads(lambda t: t.relu(), x)
    np.testing.assert_allclose(manual.relu_backward(dout, manual.relu_forward(x)[1]), dx, rtol=0, atol=1e-12)

    ids = np.array([[3, 1, 3]])
    wte, wpe = normal(4, 8), normal(5, 8, seed=2)
    (dwte, dwpe), dout = tensor_grads(lambda a, b: embedding(a, ids) + embedding(b, np.arange(3)), wte, wpe)
    got_dwte, got_dwpe = np.zeros_like(wte), np.zeros_like(wpe)
    manual.embedding_backward(dout.reshape(3, 8), ids, got_dwte, got_dwpe)
    np.testing.assert_allclose(got_dwte, dwte, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got_dwpe, dwpe, rtol=0, atol=1e-12)


@pytest.mark.parametrize("B, T, n_head, C", [(2, 5, 2, 8), (1, 7, 1, 12), (3, 4, 4, 16)])
def test_attention_equals_the_tensor_engine(B, T, n_head, C):
    qkv = normal(B * T, 3 * C)
    q, k, v = (qkv[:, i * C : (i + 1) * C].reshape(B, T, C) for i in range(3))
    (dq, dk, dv), dout = tensor_grads(lambda q, k, v: causal_attention(q, k, v, n_head), q, k, v)
    out, cache = manual.attention_forward(qkv, B, T, n_head)
    np.testing.assert_allclose(out, causal_attention(Tensor(q), Tensor(k), Tensor(v), n_head).data.reshape(B * T, C),
                               rtol=0, atol=1e-12)
    dqkv = manual.attention_backward(dout.reshape(B * T, C), cache)
    expected = np.concatenate([g.reshape(B * T, C) for g in (dq, dk, dv)], axis=1)
    np.testing.assert_allclose(dqkv, expected, rtol=0, atol=1e-12)


def test_softmax_nll_equals_the_tensor_engine():
    logits, targets, weights = normal(5, 27), np.array([3, 26, 0, 0, 9]), np.array([0.2, 0.2, 0.3, 0.3, 0.0])
    z = Tensor(logits.copy())
    loss = -(pick(softmax(z), targets).log() * weights).sum()
    loss.backward()
    got, cache = manual.softmax_nll_forward(logits, targets, weights)
    assert abs(got - float(loss.data)) < 1e-12
    np.testing.assert_allclose(manual.softmax_nll_backward(cache), z.grad, rtol=0, atol=1e-12)


# ---------------------------------------------------------------- the whole model against the Tensor engine

def tensor_and_manual(config, seed=7):
    return NumpyGPT(config, random.Random(seed)), ManualGPT(config, random.Random(seed))


def assert_same_loss_and_gradients(tensor_loss, manual_loss, tensor_model, manual_model):
    assert abs(float(manual_loss.data) - float(tensor_loss.data)) < 1e-12
    tensor_loss.backward()
    manual_loss.backward()
    expected = np.concatenate([p.grad.ravel() for p in tensor_model.params])
    np.testing.assert_allclose(manual_model.grad, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("doc", ["emma", "maximilianojose"])  # short, and longer than some block sizes
def test_loss_and_every_gradient_equal_the_tensor_engine(name, doc):
    slow, fast = tensor_and_manual(CONFIGS[name])
    assert fast.flat.tolist() == slow.flat.tolist()  # the same draws, in the same layout
    tokens = TOKENIZER.tokenize(doc)
    assert_same_loss_and_gradients(numpy_model.document_loss(slow, tokens), manual.document_loss(fast, tokens), slow, fast)


@pytest.mark.parametrize("name", CONFIGS)
def test_batched_losses_and_gradients_equal_the_tensor_engine(name):
    token_lists = [TOKENIZER.tokenize(n) for n in NAMES]  # padded, and some cut at block_size
    slow, fast = tensor_and_manual(CONFIGS[name])
    assert_same_loss_and_gradients(numpy_model.batch_loss(slow, token_lists), manual.batch_loss(fast, token_lists), slow, fast)
    slow, fast = tensor_and_manual(CONFIGS[name])
    assert_same_loss_and_gradients(batch_train.masked_loss(slow, token_lists), manual.masked_loss(fast, token_lists),
                                   slow, fast)


def test_gradients_accumulate_until_adam_uses_them():
    model = ManualGPT(CONFIGS["default"], random.Random(1))
    tokens = TOKENIZER.tokenize("emma")
    manual.document_loss(model, tokens).backward()
    once = model.grad.copy()
    manual.document_loss(model, tokens).backward()
    np.testing.assert_allclose(model.grad, 2 * once, rtol=1e-15)  # as the Tensor engine: backward adds
    manual.Adam(model, 1).step(0)
    manual.document_loss(model, tokens).backward()
    assert not np.allclose(model.grad, 2 * once)  # a fresh gradient (of the updated weights)


def test_training_equals_the_tensor_engine_over_several_steps():
    slow, fast = tensor_and_manual(CONFIGS["three-layers"])
    docs = ["anna", "bob", "christopher", "dee"]
    slow_losses = numpy_model.train(slow, TOKENIZER, docs, 4, numpy_model.Adam(slow, 4, lr=0.05))
    fast_losses = manual.train(fast, TOKENIZER, docs, 4, manual.Adam(fast, 4, lr=0.05))
    np.testing.assert_allclose(fast_losses, slow_losses, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.flat, slow.flat, rtol=0, atol=1e-12)


def test_samples_and_checkpoint_weights_are_shared_with_the_tensor_engine():
    slow, fast = tensor_and_manual(GPTConfig(), seed=42)
    expected = numpy_model.sample_names(slow, TOKENIZER, random.Random(5), 10, temperature=1.5)
    assert manual.sample_names(fast, TOKENIZER, random.Random(5), 10, temperature=1.5) == expected
    back = ManualGPT.from_gpt(fast.to_gpt())
    assert back.flat.tolist() == fast.flat.tolist() and back.grad.shape == fast.flat.shape


def test_bad_input_is_named():
    model = ManualGPT(GPTConfig(block_size=4), random.Random(0))
    with pytest.raises(ValueError, match="block_size=4"):
        model.forward(np.zeros((1, 5), dtype=int))
    with pytest.raises(ValueError, match="batch, positions"):
        model.forward(np.array([0, 1]))
    with pytest.raises(ValueError, match="at least 2 tokens"):
        manual.document_loss(model, [26])
    with pytest.raises(FloatingPointError, match="at step"):
        manual.train(model, TOKENIZER, ["emma", "bo"], 10, manual.Adam(model, 10, lr=1e6))


# ---------------------------------------------------------------- the command line

def run(*args):
    return subprocess.run([sys.executable, "-m", "microgpt_lib", *args], cwd=ROOT, capture_output=True, text=True)


@pytest.mark.parametrize("steps, args", [
    ("50", ["--steps", "50"]),
    ("seed1", ["--seed", "1", "--n-embd", "8", "--n-head", "2", "--n-layer", "2", "--block-size", "8",
               "--steps", "20", "--temperature", "0.7", "--num-samples", "8"]),
    ("1000", []),  # the full run and its 20 names: a few seconds
])
def test_reference_runs_byte_for_byte(steps, args):
    files = {"50": "microgpt_default_steps50.txt", "1000": "microgpt_default_steps1000.txt",
             "seed1": "microgpt_seed1_embd8_head2_layer2_block8_steps20_temp0.7_samples8.txt"}
    result = run("train", "--engine", "manual", *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout == reference_file(files[steps]).read_text()


@pytest.mark.parametrize("args", [
    ["--n-layer", "3", "--n-embd", "8", "--n-head", "2", "--steps", "60"],  # several layers
    ["--n-head", "1", "--seed", "3", "--steps", "60", "--temperature", "0.9"],  # one head
    ["--block-size", "4", "--steps", "60"],  # a block shorter than most names
])
def test_other_settings_print_the_tensor_engines_lines(args):
    expected = run("train", "--engine", "numpy", "--num-samples", "10", *args)
    result = run("train", "--engine", "manual", "--num-samples", "10", *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected.stdout and "sample 10:" in result.stdout


def test_bench_has_the_manual_row():
    result = run("bench", "--steps", "2", "--engine", "manual")
    assert result.returncode == 0, result.stderr
    row = result.stdout.splitlines()[2].split()
    assert row[0] == "manual" and float(row[1]) > 0


def test_plugged_into_chapter_11s_batched_run_it_gives_the_same_run(monkeypatch):
    """How batch_train would use it: ManualGPT for NumpyGPT, manual.masked_loss for masked_loss; the rest unchanged."""
    docs = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "charlotte", "amelia", "evelyn", "abigail",
            "harper", "emily", "liam", "noah", "william", "james", "oliver", "ben", "eli", "lucas"]
    train_docs, val_docs = docs[:16], docs[16:]
    gpt_config, config = GPTConfig(n_embd=8, n_head=2, n_layer=2, block_size=8), batch_train.RunConfig(
        num_steps=12, batch_size=4, lr=0.02, warmup_steps=2, weight_decay=0.1, eval_every=6)
    expected = batch_train.train_run(batch_train.start_run(gpt_config, config), TOKENIZER, train_docs, val_docs)
    rng = random.Random(config.seed)
    model = ManualGPT(gpt_config, rng)  # the same draws as start_run's NumpyGPT
    run = batch_train.Run(model, batch_train.make_optimizer(model, config), rng, config)
    monkeypatch.setattr(batch_train, "masked_loss", manual.masked_loss)
    batch_train.train_run(run, TOKENIZER, train_docs, val_docs)
    np.testing.assert_allclose(run.loss_history, expected.loss_history, rtol=0, atol=1e-12)
    np.testing.assert_allclose([v for _, v in run.val_history], [v for _, v in expected.val_history], rtol=0, atol=1e-12)
    np.testing.assert_allclose(run.model.flat, expected.model.flat, rtol=0, atol=1e-12)
