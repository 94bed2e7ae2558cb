"""Byte-pair encoding (microgpt_lib/bpe.py): a worked example by hand, every name, tiktoken, the model."""
import json
import math
import random

import numpy as np
import pytest

from microgpt_lib.batch_train import evaluate
from microgpt_lib.bpe import BPETokenizer, count_pairs, merge, most_frequent, to_tiktoken, tokenizer_from_dict
from microgpt_lib.checkpoint import load_checkpoint, save_run_checkpoint
from microgpt_lib.data import load_docs, split_docs
from microgpt_lib.model import GPTConfig
from microgpt_lib.numpy_model import NumpyGPT, sample_names
from microgpt_lib.tokenizer import Tokenizer


@pytest.fixture(scope="module")
def docs():
    return load_docs()


@pytest.fixture(scope="module")
def tokenizer_256():
    """The chapter's largest tokenizer: 229 merges learnt from the training names."""
    return BPETokenizer.train(split_docs().train, 256)


def prefix(tokenizer, vocab_size):
    """The tokenizer with only the merges learnt first (BPE's vocabularies are nested)."""
    return BPETokenizer(tokenizer.uchars, tokenizer.merges[: vocab_size - len(tokenizer.uchars) - 1])


# ---------------------------------------------------------------- the worked example, by hand

def test_count_pairs_and_merge_by_hand():
    a, b, c, d = 0, 1, 2, 3
    ids = [a, a, a, b, d, a, a, a, b, a, c]  # aaabdaaabac
    counts = count_pairs([ids, [d, a]])  # a pair never crosses from one document to the next
    assert counts == {(a, a): 4, (a, b): 2, (b, d): 1, (d, a): 2, (b, a): 1, (a, c): 1}
    assert merge(ids, (a, a), 4) == [4, a, b, d, 4, a, b, a, c]  # aaa -> aa, a: left to right
    assert merge([a, a, a, a], (a, a), 4) == [4, 4]
    assert merge([a], (a, a), 4) == [a] and merge([], (a, a), 4) == []


def test_ties_go_to_the_smallest_pair():
    assert most_frequent({(4, 0): 2, (0, 1): 2, (1, 3): 1}) == (0, 1)
    assert most_frequent({(4, 0): 3, (0, 1): 2}) == (4, 0)


def test_worked_example_aaabdaaabac():
    """Wikipedia's example: aa -> Z, ab -> Y, ZY -> X, so aaabdaaabac is X d X a c."""
    tokenizer = BPETokenizer.train(["aaabdaaabac"], vocab_size=8)  # 4 characters + 3 merges + BOS
    assert tokenizer.uchars == ["a", "b", "c", "d"]
    assert tokenizer.merges == [(0, 0), (0, 1), (4, 5)]
    assert tokenizer.vocab == ["a", "b", "c", "d", "aa", "ab", "aaab"]
    assert tokenizer.BOS == 7 and tokenizer.vocab_size == 8
    assert tokenizer.encode("aaabdaaabac") == [6, 3, 6, 0, 2]
    assert tokenizer.tokenize("aaabdaaabac") == [7, 6, 3, 6, 0, 2, 7]
    assert tokenizer.decode([7, 6, 3, 6, 0, 2, 7]) == "aaabdaaabac"
    assert tokenizer.encode("abaa") == [5, 4] and tokenizer.encode("") == []
    assert repr(tokenizer) == "BPETokenizer(a-d + 3 merges + BOS, vocab_size=8)"


def test_encode_applies_the_merges_in_the_order_learnt():
    tokenizer = BPETokenizer(["a", "b", "c"], [(1, 2), (0, 1)])  # bc first, then ab
    assert tokenizer.encode("abc") == [0, 3]  # a, bc (ab then c would be [4, 2])
    assert tokenizer.encode("abab") == [4, 4]


def test_the_learnt_merges_are_those_of_counting_again_after_every_merge(docs):
    """train() recounts only the names that change; counting every name again gives the same merges."""
    sample = docs[:3000]
    tokenizer = BPETokenizer.train(sample, vocab_size=27 + 80)
    chars = Tokenizer.from_docs(sample)
    token_lists, merges = [chars.encode(doc) for doc in sample], []
    for k in range(80):
        pair = most_frequent(count_pairs(token_lists))
        token_lists = [merge(ids, pair, 26 + k) for ids in token_lists]
        merges.append(pair)
    assert tokenizer.merges == merges
    assert BPETokenizer.train(sample[::-1], vocab_size=27 + 80).merges == merges  # the order of the names does not matter


def test_no_merges_is_the_character_tokenizer(docs):
    bpe_chars, chars = BPETokenizer.train(docs, vocab_size=27), Tokenizer.from_docs(docs)
    assert bpe_chars.vocab_size == chars.vocab_size == 27 and bpe_chars.BOS == chars.BOS
    assert all(bpe_chars.tokenize(doc) == chars.tokenize(doc) for doc in docs)


def test_vocab_size_out_of_range():
    with pytest.raises(ValueError, match="too small: the 4 characters and BOS alone need 5"):
        BPETokenizer.train(["aaabdaaabac"], vocab_size=4)
    with pytest.raises(ValueError, match="too large: after 7 merges"):
        BPETokenizer.train(["aaabdaaabac"], vocab_size=20)


def test_characters_can_come_from_elsewhere():
    """Merges from the training names, characters from every split: a held-out letter is still known."""
    tokenizer = BPETokenizer.train(["abab", "ab"], vocab_size=6, uchars="zab")
    assert tokenizer.uchars == ["a", "b", "z"] and tokenizer.merges == [(0, 1), (3, 3)]
    assert tokenizer.encode("zabab") == [2, 4]


def test_a_merge_can_only_use_tokens_learnt_before_it():
    with pytest.raises(ValueError, match="merge 0 is"):
        BPETokenizer(["a", "b"], [(0, 2)])
    with pytest.raises(ValueError, match="single characters"):
        BPETokenizer(["ab", "c"], [])


# ---------------------------------------------------------------- every name

def test_the_first_merges_of_the_names(tokenizer_256):
    assert tokenizer_256.vocab_size == 256 and len(tokenizer_256.merges) == 229
    assert tokenizer_256.vocab[26:30] == ["an", "el", "ar", "le"]


def test_round_trip_on_every_name(docs, tokenizer_256):
    for vocab_size in (64, 256):
        tokenizer = prefix(tokenizer_256, vocab_size)
        for doc in docs:
            tokens = tokenizer.tokenize(doc)
            assert tokenizer.decode(tokens) == doc and max(tokens) == tokenizer.BOS == vocab_size - 1


def test_more_merges_fewer_tokens(docs, tokenizer_256):
    tokenizers = [prefix(tokenizer_256, v) for v in (27, 64, 128, 256)]
    lengths = [sum(len(tokenizer.encode(doc)) for doc in docs) for tokenizer in tokenizers]
    assert lengths[0] == sum(len(doc) for doc in docs)
    assert lengths == sorted(lengths, reverse=True) and lengths[-1] < 0.6 * lengths[0]


def test_agrees_with_tiktoken_on_every_name(docs, tokenizer_256):
    pytest.importorskip("tiktoken")
    for vocab_size in (27, 64, 128, 256):
        tokenizer = prefix(tokenizer_256, vocab_size)
        encoding = to_tiktoken(tokenizer)
        disagree = [doc for doc in docs if encoding.encode(doc) != tokenizer.encode(doc)]
        assert not disagree, f"vocab_size={vocab_size}: tiktoken disagrees on {len(disagree)} names, e.g. {disagree[:3]}"
    worked = BPETokenizer.train(["aaabdaaabac"], vocab_size=8)
    assert to_tiktoken(worked).encode("aaabdaaabac") == [6, 3, 6, 0, 2]


def test_tiktoken_needs_one_byte_per_character():
    pytest.importorskip("tiktoken")
    with pytest.raises(ValueError, match="not ASCII"):
        to_tiktoken(BPETokenizer(["a", "é"], []))


def test_unseen_character(tokenizer_256):
    with pytest.raises(ValueError, match=r"unknown character 'é' at position 3 of 'josé'; the vocabulary has a-z"):
        tokenizer_256.encode("josé")
    with pytest.raises(ValueError, match="unknown character 'A' at position 0 of 'Ann'"):
        tokenizer_256.tokenize("Ann")
    with pytest.raises(ValueError, match="token id 256 is outside the vocabulary"):
        tokenizer_256.decode([3, 256])


# ---------------------------------------------------------------- saving, and the model

def test_to_dict_and_back(docs, tokenizer_256):
    d = json.loads(json.dumps(tokenizer_256.to_dict()))  # what a checkpoint holds
    assert d["kind"] == "bpe"
    loaded = BPETokenizer.from_dict(d)
    assert loaded.vocab == tokenizer_256.vocab and loaded.merges == tokenizer_256.merges
    assert all(loaded.encode(doc) == tokenizer_256.encode(doc) for doc in docs[:2000])
    with pytest.raises(ValueError, match="'kind': 'bpe'"):
        BPETokenizer.from_dict({"kind": "chars", "uchars": "ab"})


def test_checkpoint_round_trip_with_bpe(tmp_path, tokenizer_256):
    """A version 2 checkpoint stores tokenizer.to_dict(), so a BPE model comes back with its merges."""
    tokenizer = prefix(tokenizer_256, 64)
    model = NumpyGPT(GPTConfig(vocab_size=64), random.Random(0))
    path = tmp_path / "bpe.json"
    save_run_checkpoint(path, model, tokenizer, step=3, loss_history=[3.0, 2.5, 2.0])
    loaded = load_checkpoint(path, engine="numpy")
    assert isinstance(loaded.tokenizer, BPETokenizer) and loaded.tokenizer.merges == tokenizer.merges
    assert np.array_equal(loaded.model.flat, model.flat) and loaded.step == 3
    assert sample_names(loaded.model, loaded.tokenizer, random.Random(1), 5) == sample_names(model, tokenizer, random.Random(1), 5)
    assert tokenizer_from_dict(tokenizer.to_dict()).vocab == tokenizer.vocab


def test_evaluate_is_per_character_by_hand():
    """A model whose logits are all 0 puts 1/8 on each of 8 tokens: each prediction costs ln 8.

    'aaabdaaabac' is 5 tokens, 'dab' is 2 (d, ab); with the closing BOS, 6 + 3 = 9 predictions
    over 11 + 1 + 3 + 1 = 16 characters: 9 ln 8 / 16 nats per character (not ln 8, per token).
    """
    tokenizer = BPETokenizer.train(["aaabdaaabac"], vocab_size=8)
    config = GPTConfig(vocab_size=8, n_embd=4, n_head=1, block_size=8)
    model = NumpyGPT(config, flat=np.zeros(NumpyGPT(config, random.Random(0)).flat.size))
    assert evaluate(model, tokenizer, ["aaabdaaabac", "dab"]) == pytest.approx(9 * math.log(8) / 16, rel=1e-12)


def test_sampling_decodes_bpe_tokens(tokenizer_256):
    tokenizer = prefix(tokenizer_256, 64)
    model = NumpyGPT(GPTConfig(vocab_size=64), random.Random(0))
    names = sample_names(model, tokenizer, random.Random(1), num_samples=5, temperature=1.0)
    assert all(isinstance(name, str) and set(name) <= set(tokenizer.uchars) for name in names)
    assert any(len(name) > 16 for name in sample_names(model, tokenizer, random.Random(2), 40, 2.0))  # 16 tokens, more letters



def test_a_version_1_checkpoint_refuses_a_bpe_tokenizer(tmp_path):
    import random

    from microgpt_lib.checkpoint import save_checkpoint
    from microgpt_lib.model import GPT, GPTConfig

    tokenizer = BPETokenizer.train(["aaabdaaabac"], 8)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, n_embd=4, n_head=1, block_size=4), random.Random(0))
    with pytest.raises(ValueError, match="not a bpe tokenizer: use save_run_checkpoint"):
        save_checkpoint(tmp_path / "run.json", model, tokenizer, 0, [])
    assert not (tmp_path / "run.json").exists()
