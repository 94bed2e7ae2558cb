"""Checks for the exercises of chapter 12 (byte-pair encoding): each compares with `microgpt_lib.bpe`.

In every check, `__tracebackhide__ = True` asks IPython to leave the check's own frames out of a
traceback, so that a learner sees their code and the message, not the inside of the check.
"""
import math
import random

import numpy as np

from .. import bpe
from ..data import load_docs
from ..model import GPTConfig
from ..numpy_model import NumpyGPT, evaluate
from ..tokenizer import Tokenizer
from . import call, close, fail, fmt, passed

WORKED = "aaabdaaabac"  # a=0, b=1, c=2, d=3: merges aa -> 4, ab -> 5, (aa)(ab) -> 6
WORKED_IDS = [0, 0, 0, 1, 3, 0, 0, 0, 1, 0, 2]
WORKED_MERGES = [(0, 0), (0, 1), (4, 5)]


def some_names(count, seed):
    """`count` names of the data set, drawn with a fixed seed."""
    return random.Random(seed).sample(load_docs(), count)


def show_pairs(counts):
    """A short text form of a pair -> count mapping, largest first."""
    if not isinstance(counts, dict):
        return repr(counts)[:80]
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]) if isinstance(kv[1], int) else (0, kv[0]))[:6]
    return "{" + ", ".join(f"{k}: {v}" for k, v in items) + (", ..." if len(counts) > 6 else "") + "}"


def check_count_pairs(count_pairs):
    """count_pairs(token_lists) against bpe.count_pairs: every adjacent pair within each list, counted."""
    __tracebackhide__ = True
    name = "count_pairs"
    chars = Tokenizer([chr(ord("a") + i) for i in range(26)])
    cases = [
        ([WORKED_IDS], "aaabdaaabac: aa three times... count them"),
        ([[0, 1], [1, 0]], "two documents: no pair crosses from one to the next"),
        ([[0, 0, 0]], "'aaa' holds the pair (a, a) twice, overlapping"),
        ([[5], []], "a single token and an empty document have no pairs"),
        ([chars.encode(doc) for doc in some_names(300, seed=12)], "300 names"),
    ]
    for token_lists, what in cases:
        expected = {pair: count for pair, count in bpe.count_pairs(token_lists).items() if count}
        got = call(name, count_pairs, [list(ids) for ids in token_lists], hint="return a dict (or a Counter) of pair -> count")
        if not isinstance(got, dict):
            fail(name, "a dict (or collections.Counter) from pairs to counts", type(got).__name__, "count into a dict and return it")
        got = {tuple(pair) if isinstance(pair, (list, tuple)) else pair: count for pair, count in got.items() if count}
        if got != expected:
            fail(
                name,
                f"{show_pairs(expected)} for {what}",
                show_pairs(got),
                "zip(ids, ids[1:]) gives every pair of neighbours of one document, overlapping ones included; "
                "count those of each document separately, never joining two documents",
            )
    passed(name, "the worked example, overlapping pairs, document boundaries and 300 names")


def check_merge(merge):
    """merge(ids, pair, new_id) against bpe.merge: left to right, every occurrence, a new list."""
    __tracebackhide__ = True
    name = "merge"
    cases = [
        (WORKED_IDS, (0, 0), 4, "aaabdaaabac, merging (a, a)"),
        ([0, 0, 0, 0], (0, 0), 4, "aaaa, merging (a, a)"),
        ([0, 0, 0], (0, 0), 4, "aaa, merging (a, a): left to right"),
        ([3, 0, 1], (0, 1), 5, "the pair at the very end"),
        ([0, 1, 0, 1, 2], (1, 0), 9, "the pair (b, a) in abab c"),
        ([1, 2, 1, 2], (1, 2), 7, "the pair twice"),
        ([0], (0, 0), 4, "a single token"),
        ([], (0, 0), 4, "an empty list"),
    ]
    for ids, pair, new_id, what in cases:
        original = list(ids)
        expected = bpe.merge(ids, pair, new_id)
        got = call(name, merge, list(ids), pair, new_id, hint="walk the list with an index i and build a new list")
        if got != expected:
            fail(
                name,
                f"{expected} for {original} with pair {pair} -> {new_id} ({what})",
                fmt(got) if isinstance(got, list) else repr(got),
                "walk from the left: where ids[i], ids[i + 1] is the pair, append new_id and jump by 2, "
                "else append ids[i] and step by 1; keep going to the last token",
            )
    ids = [0, 0, 1]
    call(name, merge, ids, (0, 0), 4)
    if ids != [0, 0, 1]:
        fail(name, "the input list left as it was", fmt(ids), "build and return a new list instead of changing ids")
    passed(name, f"{len(cases)} cases: every occurrence, left to right, at either end")


def reference_tokenizer():
    """A small tokenizer learnt from 3000 names: 100 merges, some built on others."""
    return bpe.BPETokenizer.train(some_names(3000, seed=1), vocab_size=127)


def check_encode_with_merges(encode_with_merges):
    """encode_with_merges(text, uchars, merges) against BPETokenizer(uchars, merges).encode."""
    __tracebackhide__ = True
    name = "encode_with_merges"
    hint = ("start from the characters' ids (their positions in uchars); merge k makes token len(uchars) + k; "
            "apply the merges in the order they were learnt, each one everywhere in the text")
    cases = [(WORKED, list("abcd"), WORKED_MERGES, "the worked example"),
             ("abc", list("abc"), [(1, 2), (0, 1)], "merges (b, c) then (a, b)"),
             ("abab", list("abc"), [(1, 2), (0, 1)], "merges (b, c) then (a, b)"),
             ("", list("abc"), [(0, 1)], "an empty text")]
    tokenizer = reference_tokenizer()
    cases += [(doc, tokenizer.uchars, tokenizer.merges, "100 merges learnt from names") for doc in some_names(400, seed=3)]
    for text, uchars, merges, what in cases:
        expected = bpe.BPETokenizer(uchars, merges).encode(text)
        got = call(name, encode_with_merges, text, list(uchars), [tuple(p) for p in merges], hint=hint)
        if got != expected:
            pieces = "|".join(bpe.BPETokenizer(uchars, merges).vocab[i] for i in expected)
            fail(name, f"{expected} ({pieces}) for {text!r} with {what}", fmt(got) if isinstance(got, list) else repr(got), hint)
    passed(name, "the worked example, the order of the merges, and 400 names with 100 merges")


def check_learn_merges(learn_merges):
    """learn_merges(docs, num_merges) against BPETokenizer.train(docs, ...).merges."""
    __tracebackhide__ = True
    name = "learn_merges"
    hint = ("ids: the sorted characters of docs; repeat num_merges times: count the pairs over all documents, "
            "take bpe.most_frequent (ties: the smallest pair), merge it everywhere as id len(uchars) + k, "
            "and count again on the merged documents")
    cases = [([WORKED], 3, "the worked example aaabdaaabac (a tie at the second merge)"),
             (["ab", "ba", "ab"], 1, "three tiny documents (pairs do not cross from one to the next)"),
             (some_names(1500, seed=4), 40, "40 merges of 1500 names")]
    for docs, num_merges, what in cases:
        uchars = sorted(set("".join(docs)))
        expected = bpe.BPETokenizer.train(docs, len(uchars) + num_merges + 1).merges
        got = call(name, learn_merges, list(docs), num_merges, hint=hint)
        got_pairs = [tuple(p) if isinstance(p, (list, tuple)) else p for p in got] if isinstance(got, (list, tuple)) else got
        if got_pairs != expected:
            first_wrong = next((k for k, (a, b) in enumerate(zip(got_pairs, expected)) if a != b), None) if isinstance(got_pairs, list) else None
            detail = f" (the first difference is merge {first_wrong})" if first_wrong is not None else ""
            fail(name, f"{fmt(expected)} for {what}", (fmt(got_pairs) if isinstance(got_pairs, list) else repr(got)) + detail, hint)
    passed(name, "the worked example, document boundaries, and 40 merges of real names")


def check_loss_per_char(loss_per_char):
    """loss_per_char(model, tokenizer, docs) against numpy_model.evaluate (and a value by hand)."""
    __tracebackhide__ = True
    name = "loss_per_char"
    hint = ("for each doc: tokens = tokenizer.tokenize(doc); the model's logits for tokens[:-1] predict tokens[1:] "
            "(the closing BOS included); add up -log softmax at each target over all docs, then divide by "
            "the sum of len(doc) + 1, not by the number of tokens")
    # by hand: logits all 0, so each of the 9 predictions costs ln 8, over 16 characters
    tokenizer = bpe.BPETokenizer(list("abcd"), WORKED_MERGES)
    config = GPTConfig(vocab_size=8, n_embd=4, n_head=1, block_size=8)
    uniform = NumpyGPT(config, flat=np.zeros(sum(p.data.size for p in NumpyGPT(config, random.Random(0)).params)))
    expected = 9 * math.log(8) / 16
    got = call(name, loss_per_char, uniform, tokenizer, [WORKED, "dab"], hint=hint)
    if not isinstance(got, (int, float, np.floating)) or not close(float(got), expected, 1e-9):
        fail(name, f"{expected:.6f} (9 predictions of ln 8 over 12 + 4 characters) for a model whose logits are all 0, "
             f"on {WORKED!r} (5 tokens) and 'dab' (2 tokens)", fmt(got) if not isinstance(got, np.floating) else fmt(float(got)), hint)
    names_tokenizer = reference_tokenizer()
    model = NumpyGPT(GPTConfig(vocab_size=names_tokenizer.vocab_size, n_embd=8, n_head=2, init_std=0.5), random.Random(5))
    docs = some_names(60, seed=6)
    expected = evaluate(model, names_tokenizer, docs)
    got = call(name, loss_per_char, model, names_tokenizer, docs, hint=hint)
    if not isinstance(got, (int, float, np.floating)) or not close(float(got), expected, 1e-9):
        fail(name, f"{expected:.6f} nats per character for 60 names, a random model and 100 merges",
             fmt(got) if not isinstance(got, np.floating) else fmt(float(got)), hint)
    passed(name, "a model with all logits 0 by hand, and a random model on 60 names, per character")
