"""microgpt_lib.timing: every engine it builds is microgpt's model (the same loss), and it times what it says."""
import random

import pytest

from microgpt_lib import timing
from microgpt_lib.data import load_docs, shuffled
from microgpt_lib.model import GPTConfig
from microgpt_lib.tokenizer import Tokenizer

DOCS = shuffled(load_docs(), random.Random(42))
TOKENIZER = Tokenizer.from_docs(DOCS)
TOKEN_LISTS = [TOKENIZER.tokenize(doc) for doc in DOCS[:4]]
CONFIG = GPTConfig(vocab_size=27, n_embd=8, n_head=2)


def loss_value(loss):
    data = loss.data
    return float(data.item() if hasattr(data, "item") else data)


@pytest.mark.parametrize("name", timing.ENGINES)
def test_every_engine_computes_microgpts_loss(name):
    if name.startswith("torch"):
        pytest.importorskip("torch")
    _, loss_of, _ = timing.make_engine("scalar", CONFIG)
    expected = loss_value(loss_of(TOKEN_LISTS[:1]))
    _, loss_of, update = timing.make_engine(name, CONFIG)
    loss = loss_of(TOKEN_LISTS[:1])
    assert loss_value(loss) == pytest.approx(expected, abs=1e-12)
    loss.backward()
    update(0)  # the optimizer runs on the gradients it was given
    assert loss_value(loss_of(TOKEN_LISTS[:1])) != pytest.approx(expected, abs=1e-6)


def test_batched_engines_take_the_mean_over_names():
    _, loss_of, _ = timing.make_engine("scalar", CONFIG)
    expected = sum(loss_value(loss_of([tokens])) for tokens in TOKEN_LISTS) / len(TOKEN_LISTS)
    _, loss_of, _ = timing.make_engine("numpy", CONFIG)
    assert loss_value(loss_of(TOKEN_LISTS)) == pytest.approx(expected, abs=1e-12)


def test_one_name_engines_refuse_a_batch():
    _, loss_of, _ = timing.make_engine("fused", CONFIG)
    with pytest.raises(ValueError, match="one name a step"):
        loss_of(TOKEN_LISTS)
    with pytest.raises(ValueError, match="unknown engine 'jax'"):
        timing.make_engine("jax", CONFIG)


def test_step_parts_times_every_round():
    parts = timing.step_parts("numpy", CONFIG, TOKEN_LISTS, batch_size=3, rounds=4)
    assert [len(times) for times in parts.values()] == [4, 4]
    assert all(t > 0 for times in parts.values() for t in times)
    fastest = timing.fastest_step("numpy", CONFIG, TOKEN_LISTS, batch_size=2, rounds=3)
    assert fastest["step"] >= fastest["forward and backward"]


def test_scalar_step_parts_leaves_the_collector_as_it_was():
    import gc

    runs = timing.scalar_step_parts(GPTConfig(vocab_size=27, n_embd=4, n_head=1), TOKEN_LISTS[0], rounds=2,
                                    collector=False)
    assert gc.isenabled()
    assert len(runs) == 2 and list(runs[0]) == ["forward", "sort", "backward", "Adam"]
