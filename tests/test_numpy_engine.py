"""The NumPy engine: every array operation against finite differences, the model against the scalar one."""
import random

import numpy as np
import pytest

from microgpt_lib import batch_train, numpy_model, optim, sample, train
from microgpt_lib.data import load_docs, shuffled
from microgpt_lib.model import GPT, GPTConfig
from microgpt_lib.numpy_model import NumpyGPT, batch_loss, pad_batch
from microgpt_lib.tensor import Tensor, causal_attention, embedding, linear, log_softmax, pick, rmsnorm, softmax
from microgpt_lib.tokenizer import Tokenizer

CONFIGS = {
    "default": GPTConfig(),
    "three-layers": GPTConfig(n_embd=8, n_head=2, n_layer=3, block_size=8),
    "one-head": GPTConfig(n_embd=12, n_head=1, n_layer=2, block_size=16),
    "short-context": GPTConfig(n_embd=16, n_head=4, n_layer=1, block_size=4),  # shorter than most names
}


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


def check_gradients(build, *shapes, positive=False, seed=0):
    """build(*tensors) -> Tensor; its weighted sum's gradients against central differences."""
    gen = np.random.default_rng(seed)
    arrays = [gen.uniform(0.5, 2.0, s) if positive else gen.normal(size=s) for s in shapes]
    tensors = [Tensor(a) for a in arrays]
    out = build(*tensors)
    weights = gen.normal(size=out.shape)  # a random direction, so every output entry matters
    loss = (out * weights).sum()
    loss.backward()
    for t in tensors:
        expected = numerical_grad(lambda: float((build(*[Tensor(a) for a in arrays]).data * weights).sum()), t.data)
        assert t.grad.shape == t.data.shape
        np.testing.assert_allclose(t.grad, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "build, shapes, positive",
    [
        (lambda a, b: a + b, [(3, 4), (4,)], False),  # broadcast over rows
        (lambda a, b: a + b, [(2, 3, 4), (3, 1)], False),
        (lambda a, b: a * b, [(3, 4), (3, 1)], False),
        (lambda a, b: a - b, [(3, 4), (3, 4)], False),
        (lambda a, b: a / b, [(3, 4), (4,)], True),
        (lambda a, b: a @ b, [(3, 4), (4, 5)], False),
        (lambda a, b: a @ b, [(2, 3, 4), (2, 4, 5)], False),
        (lambda a: a**3, [(3, 4)], False),
        (lambda a: a**-0.5, [(3, 4)], True),
        (lambda a: a.exp(), [(3, 4)], False),
        (lambda a: a.log(), [(3, 4)], True),
        (lambda a: a.relu(), [(3, 4)], False),
        (lambda a: a.sum(), [(3, 4)], False),
        (lambda a: a.sum(axis=1), [(2, 3, 4)], False),
        (lambda a: a.sum(axis=-1, keepdims=True), [(2, 3, 4)], False),
        (lambda a: a.reshape(4, 3), [(3, 4)], False),
        (lambda a: a.transpose(1, 0, 2), [(2, 3, 4)], False),
        (lambda a, w: linear(a, w), [(2, 3, 4), (5, 4)], False),
        (lambda a: softmax(a), [(3, 5)], False),
        (lambda a: log_softmax(a), [(2, 3, 5)], False),
        (lambda a: rmsnorm(a), [(2, 3, 8)], False),
        (lambda q, k, v: causal_attention(q, k, v, 2), [(2, 5, 8), (2, 5, 8), (2, 5, 8)], False),
        (lambda q, k, v: causal_attention(q, k, v, 1), [(1, 3, 4), (1, 3, 4), (1, 3, 4)], False),
    ],
    ids=["add-row", "add-column", "mul", "sub", "div", "matmul", "matmul-batched", "pow", "pow-neg", "exp", "log",
         "relu", "sum", "sum-axis", "sum-keepdims", "reshape", "transpose", "linear", "softmax", "log_softmax",
         "rmsnorm", "attention-2-heads", "attention-1-head"],
)
def test_operation_gradient_matches_finite_differences(build, shapes, positive):
    check_gradients(build, *shapes, positive=positive)


def test_embedding_adds_the_gradients_of_repeated_rows():
    ids = np.array([[0, 2, 2], [1, 2, 0]])
    check_gradients(lambda table: embedding(table, ids), (4, 3))
    table = Tensor(np.zeros((4, 3)))
    embedding(table, ids).sum().backward()
    assert table.grad[:, 0].tolist() == [2.0, 1.0, 3.0, 0.0]  # row 2 picked three times, row 3 never


def test_pick_takes_one_entry_per_row():
    ids = np.array([[1, 0], [2, 2]])
    check_gradients(lambda x: pick(x, ids), (2, 2, 3))
    x = Tensor(np.arange(12.0).reshape(2, 2, 3))
    assert pick(x, ids).data.tolist() == [[1.0, 3.0], [8.0, 11.0]]


def test_causal_attention_never_looks_ahead():
    gen = np.random.default_rng(1)
    q, k, v = (Tensor(gen.normal(size=(1, 6, 8))) for _ in range(3))
    later = v.data.copy()
    later[0, 4:] += 100.0  # change the values of positions 4 and 5
    before = causal_attention(q, k, v, 2).data
    after = causal_attention(q, k, Tensor(later), 2).data
    np.testing.assert_array_equal(before[0, :4], after[0, :4])
    assert not np.allclose(before[0, 4:], after[0, 4:])


def test_backward_needs_a_single_number():
    with pytest.raises(ValueError, match="single number"):
        Tensor(np.ones(3)).exp().backward()


def scalar_and_numpy(config, seed=7):
    model = GPT(config, random.Random(seed))
    return model, NumpyGPT.from_gpt(model)


@pytest.mark.parametrize("name", CONFIGS)
def test_same_draws_as_the_scalar_model(name):
    config = CONFIGS[name]
    scalar, fast = GPT(config, random.Random(3)), NumpyGPT(config, random.Random(3))
    assert fast.flat.tolist() == [p.data for p in scalar.params]


@pytest.mark.parametrize("name", CONFIGS)
def test_logits_at_every_position_equal_the_kv_cache_model(name):
    config = CONFIGS[name]
    scalar, fast = scalar_and_numpy(config)
    ids = [config.vocab_size - 1, 3, 0, 25, 7, 7, 12, 4, 19, 1, 2, 8, 8, 14, 20, 5][: config.block_size]
    logits = fast(np.array([ids])).data[0]
    keys, values = scalar.empty_cache()
    for pos_id, token_id in enumerate(ids):
        expected = [v.data for v in scalar(token_id, pos_id, keys, values)]
        np.testing.assert_allclose(logits[pos_id], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("doc", ["emma", "maximilianojose"])  # short, and longer than some block sizes
def test_loss_and_every_gradient_equal_the_scalar_engine(name, doc):
    config = CONFIGS[name]
    tokenizer = Tokenizer("abcdefghijklmnopqrstuvwxyz")
    scalar, fast = scalar_and_numpy(config)
    tokens = tokenizer.tokenize(doc)
    scalar_loss = train.document_loss(scalar, tokens)
    scalar_loss.backward()
    fast_loss = numpy_model.document_loss(fast, tokens)
    fast_loss.backward()
    assert abs(float(fast_loss.data) - scalar_loss.data) < 1e-12
    fast_grads = np.concatenate([p.grad.ravel() for p in fast.params])
    np.testing.assert_allclose(fast_grads, [p.grad for p in scalar.params], rtol=0, atol=1e-12)


def test_batch_loss_is_the_mean_of_the_per_name_losses():
    config = CONFIGS["short-context"]  # block_size 4: some names are cut, others padded
    tokenizer = Tokenizer("abcdefghijklmnopqrstuvwxyz")
    scalar, fast = scalar_and_numpy(config)
    names = ["al", "emma", "christopher", "bo", "zoe"]
    token_lists = [tokenizer.tokenize(n) for n in names]
    per_name = [train.document_loss(scalar, tokens).data for tokens in token_lists]
    loss = batch_loss(fast, token_lists)
    assert abs(float(loss.data) - sum(per_name) / len(per_name)) < 1e-12
    # and its gradients are the mean of the per-name gradients
    loss.backward()
    total = (1 / len(names)) * sum(train.document_loss(scalar, tokens) for tokens in token_lists)
    total.backward()
    fast_grads = np.concatenate([p.grad.ravel() for p in fast.params])
    np.testing.assert_allclose(fast_grads, [p.grad for p in scalar.params], rtol=0, atol=1e-12)


def test_pad_batch_masks_padding_and_cuts_at_block_size():
    inputs, targets, mask = pad_batch([[9, 1, 2, 9], [9, 3, 9], [9, 1, 2, 3, 4, 5, 9]], block_size=4, pad_id=0)
    assert inputs.tolist() == [[9, 1, 2, 0], [9, 3, 0, 0], [9, 1, 2, 3]]
    assert targets.tolist() == [[1, 2, 9, 0], [3, 9, 0, 0], [1, 2, 3, 4]]
    assert mask.tolist() == [[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1]]
    with pytest.raises(ValueError, match="at least 2 tokens"):
        pad_batch([[9]], block_size=4, pad_id=0)


def test_adam_equals_the_scalar_adam_over_several_steps():
    config = CONFIGS["three-layers"]
    tokenizer = Tokenizer("abcdefghijklmnopqrstuvwxyz")
    scalar, fast = scalar_and_numpy(config)
    docs = ["anna", "bob", "christopher", "dee"]
    train.train(scalar, tokenizer, docs, 4, optim.Adam(scalar.params, 4, lr=0.05))
    numpy_model.train(fast, tokenizer, docs, 4, numpy_model.Adam(fast, 4, lr=0.05))
    np.testing.assert_allclose(fast.flat, [p.data for p in scalar.params], rtol=0, atol=1e-12)


def test_samples_equal_the_scalar_engine():
    scalar, fast = scalar_and_numpy(GPTConfig(), seed=42)
    tokenizer = Tokenizer("abcdefghijklmnopqrstuvwxyz")
    expected = sample.sample_names(scalar, tokenizer, random.Random(5), 10, temperature=1.5)
    assert numpy_model.sample_names(fast, tokenizer, random.Random(5), 10, temperature=1.5) == expected


def test_to_gpt_round_trip():
    scalar, fast = scalar_and_numpy(CONFIGS["one-head"])
    back = fast.to_gpt()
    assert [p.data for p in back.params] == [p.data for p in scalar.params]
    assert NumpyGPT.from_gpt(back).flat.tolist() == fast.flat.tolist()


def test_bad_input_is_named():
    fast = NumpyGPT(GPTConfig(block_size=4), random.Random(0))
    with pytest.raises(ValueError, match="block_size=4"):
        fast(np.zeros((1, 5), dtype=int))
    with pytest.raises(ValueError, match="token ids must be in 0..26"):
        fast(np.array([[0, 27]]))
    with pytest.raises(ValueError, match="batch, positions"):
        fast(np.array([0, 1]))
    with pytest.raises(ValueError, match="give either rng"):
        NumpyGPT(GPTConfig())
    with pytest.raises(ValueError, match="has 4192 parameters"):
        NumpyGPT(GPTConfig(), flat=[0.0] * 10)


def test_a_diverging_run_stops_with_the_step():
    rng = random.Random(42)
    docs = shuffled(load_docs(), rng)[:20]
    tokenizer = Tokenizer.from_docs(docs)
    fast = NumpyGPT(GPTConfig(tokenizer.vocab_size), rng)
    with pytest.raises(FloatingPointError, match="at step"):
        numpy_model.train(fast, tokenizer, docs, 10, numpy_model.Adam(fast, 10, lr=1e6))


def test_evaluate_is_the_mean_loss_per_character_computed_by_hand():
    scalar, fast = scalar_and_numpy(CONFIGS["default"])
    tokenizer = Tokenizer("abcdefghijklmnopqrstuvwxyz")
    names = ["al", "emma", "christopher"]
    # the scalar engine's per-name mean loss times its predictions is the name's total loss
    totals = [train.document_loss(scalar, tokenizer.tokenize(n)).data * (len(n) + 1) for n in names]
    expected = sum(totals) / sum(len(n) + 1 for n in names)
    assert abs(batch_train.evaluate(fast, tokenizer, names, batch_size=2) - expected) < 1e-12
    with pytest.raises(ValueError, match="block_size=4 holds fewer"):
        batch_train.evaluate(NumpyGPT(GPTConfig(block_size=4), random.Random(0)), tokenizer, ["emma"])


def test_split_is_disjoint_complete_stable_and_keeps_microgpts_names_out_of_val_and_test():
    from microgpt_lib.data import split_docs

    docs = load_docs()
    parts = split_docs(docs)
    assert len(parts.train) + len(parts.val) + len(parts.test) == len(docs)
    assert set(parts.train) | set(parts.val) | set(parts.test) == set(docs)
    assert not (set(parts.train) & set(parts.val) or set(parts.train) & set(parts.test) or set(parts.val) & set(parts.test))
    assert len(parts.val) == len(parts.test) == round(len(docs) * 0.1)
    assert split_docs(docs) == parts
    microgpt_names = shuffled(docs, random.Random(42))[:1000]
    assert not set(microgpt_names) & (set(parts.val) | set(parts.test))
    with pytest.raises(ValueError, match="too few"):
        split_docs(["a", "b"])
