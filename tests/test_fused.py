"""The fused scalar engine against the scalar one: every op, the whole model, training and sampling."""
import math
import random

import pytest

from conftest import reference_file
from microgpt_lib import fused, model as scalar_model, nn
from microgpt_lib.autograd import Value, topological_order
from microgpt_lib.data import load_docs, shuffled
from microgpt_lib.model import GPT, GPTConfig
from microgpt_lib.optim import Adam
from microgpt_lib.sample import sample_names
from microgpt_lib.tokenizer import Tokenizer
from microgpt_lib.train import document_loss, format_step, train

LETTERS = Tokenizer(list("abcdefghijklmnopqrstuvwxyz"))


def values(rng, n):
    return [Value(rng.gauss(0, 1)) for _ in range(n)]


def as_list(out):
    return out if isinstance(out, list) else [out]


def gradients(op, leaves, coeffs):
    """The outputs of op() and the gradient of sum_i coeffs[i] * output_i with respect to each leaf."""
    for leaf in leaves:
        leaf.grad = 0
    out = as_list(op())
    sum(c * y for c, y in zip(coeffs, out)).backward()
    return [y.data for y in out], [leaf.grad for leaf in leaves]


def op_cases():
    """(name, scalar op, fused op, leaves): each fused op beside the scalar chain it replaces."""
    rng = random.Random(0)
    x, w = values(rng, 5), [values(rng, 5) for _ in range(3)]
    v = values(rng, 6)
    logits = values(rng, 7)
    xs = values(rng, 5)
    q, keys, vals = values(rng, 8), [values(rng, 8) for _ in range(3)], [values(rng, 8) for _ in range(3)]
    attn_leaves = q + [e for k in keys for e in k] + [e for val in vals for e in val]
    return [
        ("linear", lambda: nn.linear(x, w), lambda: fused.linear(x, w), x + [e for row in w for e in row]),
        ("rmsnorm", lambda: nn.rmsnorm(v), lambda: fused.rmsnorm(v), v),
        ("relu", lambda: nn.relu(v), lambda: fused.relu(v), v),
        ("softmax_nll", lambda: nn.nll(nn.softmax(logits), 3), lambda: fused.softmax_nll(logits, 3), logits),
        ("mean", lambda: (1 / len(xs)) * sum(xs), lambda: fused.mean(xs), xs),
        ("attention", lambda: scalar_model.attention(q, keys, vals, 2), lambda: fused.attention(q, keys, vals, 2),
         attn_leaves),
    ]


@pytest.mark.parametrize("name, scalar_op, fused_op, leaves", op_cases(), ids=[case[0] for case in op_cases()])
def test_fused_op_equals_the_scalar_chain(name, scalar_op, fused_op, leaves):
    coeffs = [random.Random(1).gauss(0, 1) for _ in range(50)]
    scalar_out, scalar_grads = gradients(scalar_op, leaves, coeffs)
    fused_out, fused_grads = gradients(fused_op, leaves, coeffs)
    assert fused_out == scalar_out  # bit for bit: the same floating-point order
    assert max(abs(a - b) for a, b in zip(fused_grads, scalar_grads)) < 1e-12
    assert sum(g != 0 for g in fused_grads) >= len(leaves) // 2  # the comparison is not of zeros


@pytest.mark.parametrize("name, scalar_op, fused_op, leaves", op_cases(), ids=[case[0] for case in op_cases()])
def test_fused_op_gradient_against_finite_differences(name, scalar_op, fused_op, leaves):
    coeffs = [random.Random(2).gauss(0, 1) for _ in range(50)]
    _, grads = gradients(fused_op, leaves, coeffs)

    def f():
        return sum(c * y.data for c, y in zip(coeffs, as_list(fused_op())))

    h = 1e-6
    for leaf, grad in zip(leaves, grads):
        original = leaf.data
        leaf.data = original + h
        up = f()
        leaf.data = original - h
        down = f()
        leaf.data = original
        assert grad == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-8), name


def test_sums_round_like_the_scalar_chain():
    """Left to right from 0, no compensation (Python 3.12's sum() of floats would give 1.0 here)."""
    x = [Value(1e16), Value(1.0), Value(-1e16)]
    w = [[Value(1.0), Value(1.0), Value(1.0)]]
    assert fused.linear(x, w)[0].data == nn.linear(x, w)[0].data == 0.0
    assert fused.mean(x).data == ((1 / 3) * sum(x)).data


CONFIGS = {
    "default": (GPTConfig(vocab_size=27), "isabella"),
    "three-layers": (GPTConfig(vocab_size=27, n_embd=8, n_head=2, n_layer=3), "jo"),
    "one-head": (GPTConfig(vocab_size=27, n_embd=8, n_head=1, n_layer=2), "emma"),
    "block-shorter-than-name": (GPTConfig(vocab_size=27, n_embd=8, n_head=4, block_size=4), "christopher"),
    "wide-heads": (GPTConfig(vocab_size=27, n_embd=12, n_head=3, n_layer=2, block_size=8), "maximilian"),
}


@pytest.mark.parametrize("config, name", CONFIGS.values(), ids=CONFIGS.keys())
def test_whole_model_equals_the_scalar_engine(config, name):
    model = GPT(config, random.Random(7))
    fused_model = fused.FusedGPT(model)
    tokens = LETTERS.tokenize(name)
    # logits at every position, each engine with its own cache
    caches = model.empty_cache(), fused_model.empty_cache()
    for pos_id, token_id in enumerate(tokens[: config.block_size]):
        scalar_logits = model(token_id, pos_id, *caches[0])
        assert [z.data for z in fused_model(token_id, pos_id, *caches[1])] == [z.data for z in scalar_logits]
    # the loss and every parameter's gradient
    loss = document_loss(model, tokens)
    loss.backward()
    scalar_grads = [p.grad for p in model.params]
    for p in model.params:
        p.grad = 0
    fused_loss = fused.document_loss(fused_model, tokens)
    fused_loss.backward()
    assert fused_loss.data == loss.data
    assert max(abs(p.grad - g) for p, g in zip(model.params, scalar_grads)) < 1e-12
    assert sum(g != 0 for g in scalar_grads) > len(scalar_grads) // 4


def test_fused_graph_is_many_times_smaller():
    model = GPT(GPTConfig(vocab_size=27), random.Random(0))
    tokens = LETTERS.tokenize("emma")
    scalar_nodes = len(topological_order(document_loss(model, tokens)))
    fused_nodes = len(topological_order(fused.document_loss(fused.FusedGPT(model), tokens)))
    assert fused_nodes * 5 < scalar_nodes


def test_fused_model_shares_the_parameters():
    model = GPT(GPTConfig(vocab_size=27, n_embd=8, n_head=2), random.Random(0))
    fused_model = fused.FusedGPT(model)
    assert fused_model.params is model.params and fused_model.state_dict is model.state_dict
    assert fused_model.config == model.config
    before = [p.data for p in model.params]
    fused.train(fused_model, LETTERS, ["ava", "mia"], 2)  # the default optimizer moves the shared weights
    assert [p.data for p in model.params] != before


def test_fused_model_rejects_what_the_scalar_model_rejects():
    fused_model = fused.FusedGPT(GPT(GPTConfig(vocab_size=5, n_embd=4, n_head=2, block_size=3), random.Random(0)))
    keys, values_ = fused_model.empty_cache()
    with pytest.raises(ValueError, match="position 3 is outside the context of block_size=3"):
        fused_model(0, 3, keys, values_)
    with pytest.raises(ValueError, match="token id 5 is outside the vocabulary"):
        fused_model(5, 0, keys, values_)
    with pytest.raises(ValueError, match="at least 2 tokens"):
        fused.document_loss(fused_model, [4])


def test_attention_weights_logged_like_the_scalar_model():
    model = GPT(GPTConfig(vocab_size=27, n_embd=8, n_head=2, n_layer=2), random.Random(0))
    logs = [], []
    for engine, log in zip((model, fused.FusedGPT(model)), logs):
        keys, values_ = engine.empty_cache()
        for pos_id, token_id in enumerate(LETTERS.tokenize("zoe")):
            engine(token_id, pos_id, keys, values_, log)
    assert logs[0] == logs[1] and len(logs[0]) == 5 * 2 * 2  # positions * layers * heads
    tokens = LETTERS.tokenize("zoe")
    assert fused.FusedGPT(model).attention_maps(tokens) == model.attention_maps(tokens)


def test_training_losses_and_resuming_match_the_scalar_engine():
    config = GPTConfig(vocab_size=27, n_embd=8, n_head=2, block_size=8)
    docs = ["olivia", "liam", "ava", "noah"]
    scalar = train(GPT(config, random.Random(3)), LETTERS, docs, 6)
    fused_model = fused.FusedGPT(GPT(config, random.Random(3)))
    optimizer = Adam(fused_model.params, 6)
    first = fused.train(fused_model, LETTERS, docs, 3, optimizer)  # stop after 3 steps, as a checkpoint would
    rest = fused.train(fused_model, LETTERS, docs, 6, optimizer, start_step=3)
    assert first + rest == pytest.approx(scalar, rel=0, abs=1e-12)
    assert len(set(first + rest)) == 6


def test_divergence_gives_the_scalar_engine_error():
    rng = random.Random(42)
    docs = shuffled(load_docs(), rng)
    tokenizer = Tokenizer.from_docs(docs)
    model = GPT(GPTConfig(tokenizer.vocab_size), rng)
    state = {name: [[p.data for p in row] for row in mat] for name, mat in model.state_dict.items()}
    messages = []
    for engine, run in ((model, train), (fused.FusedGPT(model), fused.train)):
        for name, mat in model.state_dict.items():  # the same starting weights for both engines
            for row, row_data in zip(mat, state[name]):
                for p, data in zip(row, row_data):
                    p.data, p.grad = data, 0
        with pytest.raises(FloatingPointError) as err:
            run(engine, tokenizer, docs, 5, Adam(engine.params, 5, lr=1e6))
        messages.append(str(err.value))
    assert messages[0] == messages[1] and "at step 2" in messages[1]
    with pytest.raises(ValueError, match="no documents"):
        fused.train(fused.FusedGPT(model), tokenizer, [], 5)


def test_samples_equal_the_scalar_samples():
    model = GPT(GPTConfig(vocab_size=27, n_embd=8, n_head=2, n_layer=2, block_size=8), random.Random(4))
    for temperature in (0.5, 1.3):
        scalar = sample_names(model, LETTERS, random.Random(5), 6, temperature)
        assert sample_names(fused.FusedGPT(model), LETTERS, random.Random(5), 6, temperature) == scalar
        assert len(set(scalar)) > 1


def test_default_50_step_reference_run_line_for_line():
    """microgpt's set-up (seed 42, shuffle, vocabulary, weights, Adam), trained by the fused engine."""
    num_steps = 50
    rng = random.Random(42)
    docs = shuffled(load_docs(), rng)
    tokenizer = Tokenizer.from_docs(docs)
    model = fused.FusedGPT(GPT(GPTConfig(tokenizer.vocab_size), rng))
    lines = [f"num docs: {len(docs)}", f"vocab size: {tokenizer.vocab_size}", f"num params: {len(model.params)}"]
    fused.train(model, tokenizer, docs, num_steps, Adam(model.params, num_steps),
                callback=lambda *step: lines.append(format_step(*step)))
    lines += ["", "--- inference (new, hallucinated names) ---"]
    lines += [f"sample {i + 1:2d}: {name}" for i, name in enumerate(sample_names(model, tokenizer, rng, 20, 0.5))]
    assert "\n".join(lines) + "\n" == reference_file("microgpt_default_steps50.txt").read_text()
