"""The exact loss per character of chapter 12: every split of a name, summed, against brute force."""
import itertools
import math
import random

import pytest

from microgpt_lib import train
from microgpt_lib.batch_train import evaluate
from microgpt_lib.bpe import BPETokenizer
from microgpt_lib.model import GPTConfig
from microgpt_lib.numpy_model import NumpyGPT
from microgpt_lib.segmentations import exact_evaluate, exact_nll, segmentations
from microgpt_lib.tokenizer import Tokenizer

NAMES = ["anna", "ann", "nana", "aaabdaaabac", "emma", "bob", "hannah", "dana"]
TOKENIZER = BPETokenizer.train(NAMES, vocab_size=16)  # merges such as 'an', 'na', 'aa'


def brute_force_splits(text, tokenizer):
    """Every sequence of 1..len(text) token ids whose strings join to text: tried one by one."""
    ids = range(len(tokenizer.vocab))
    return sorted(list(seq) for n in range(1, len(text) + 1) for seq in itertools.product(ids, repeat=n)
                  if "".join(tokenizer.vocab[i] for i in seq) == text)


@pytest.mark.parametrize("text", ["anna", "nana", "hanna", "aaab", "b"])
def test_segmentations_are_every_split_and_include_the_encoders(text):
    splits = segmentations(text, TOKENIZER)
    assert sorted(splits) == brute_force_splits(text, TOKENIZER)
    assert TOKENIZER.encode(text) in splits and len(splits) > (text != "b")


def test_the_exact_loss_is_the_summed_probability_of_every_split_scored_by_the_scalar_engine():
    model = NumpyGPT(GPTConfig(TOKENIZER.vocab_size, n_embd=8, n_head=2, block_size=8), random.Random(3))
    scalar = model.to_gpt()
    names = ["anna", "hanna", "bob"]
    expected = []
    for name in names:
        total = 0.0
        for split in brute_force_splits(name, TOKENIZER):
            tokens = [TOKENIZER.BOS] + split + [TOKENIZER.BOS]
            total += math.exp(-train.document_loss(scalar, tokens).data * (len(tokens) - 1))
        expected.append(-math.log(total))
    assert exact_nll(model, TOKENIZER, names, batch_size=5) == pytest.approx(expected, rel=1e-10)
    per_char = exact_evaluate(model, TOKENIZER, names)
    assert per_char == pytest.approx(sum(expected) / sum(len(n) + 1 for n in names), rel=1e-12)
    assert per_char < evaluate(model, TOKENIZER, names)  # the encoder's split is one term of the sum


def test_with_characters_only_there_is_one_split_and_the_exact_loss_is_evaluates():
    chars = Tokenizer("abcdefghijklmnopqrstuvwxyz")
    model = NumpyGPT(GPTConfig(chars.vocab_size), random.Random(0))
    names = ["emma", "olivia", "christopher"]
    assert [segmentations(n, chars) for n in names] == [[chars.encode(n)] for n in names]
    assert exact_evaluate(model, chars, names) == pytest.approx(evaluate(model, chars, names), rel=1e-12)


def test_unknown_characters_and_short_contexts_are_errors_that_say_so():
    model = NumpyGPT(GPTConfig(TOKENIZER.vocab_size, block_size=4), random.Random(0))
    with pytest.raises(ValueError, match="unknown character 'z'"):
        segmentations("zoe", TOKENIZER)
    with pytest.raises(ValueError, match="block_size=4 holds fewer"):
        exact_evaluate(model, TOKENIZER, ["hannah"])
    with pytest.raises(ValueError, match="no documents"):
        exact_evaluate(model, TOKENIZER, [])
