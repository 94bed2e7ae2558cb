"""Checks for the exercises of chapter 12 (byte-pair encoding): each compares with `microgpt_lib.bpe` or
`microgpt_lib.segmentations`, which compute every expected value (never the learner's answer).

Every check takes `cases=None` (None: the cases the learner sees; the hidden cases of the check cells
pass others). In every check, `__tracebackhide__ = True` asks IPython to leave the check's own frames out of a
traceback, so that a learner sees their code and the message, not the inside of the check.
"""
import collections
import math
import random

import numpy as np

from .. import bpe
from ..data import load_docs
from ..model import GPTConfig
from ..numpy_model import NumpyGPT
from ..segmentations import exact_nll, segmentations
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


def check_recount(recount, cases=None):
    """recount(counts, ids, pair, new_id): merge one document, and update the pair counts of all of them.

    cases: (token_lists, pair, new_id, what) tuples. Every document is passed in turn, with the counts of
    all the documents as they stand; at the end the counts must be those of counting the merged
    documents again, with no pair left at a count of 0.
    """
    __tracebackhide__ = True
    name = "recount"
    hint = ("subtract the pairs of the document as it was (zip(ids, ids[1:])), add those of the merged one, "
            "and delete every pair whose count fell to 0, not only the merged pair")
    cases = cases or [([[2, 0, 1, 3], [2, 0], [1, 3], [0, 1]], (0, 1), 4, "cabd, ca, bd, ab: merging (a, b)"),
                      ([[0, 0, 0, 0], [0, 0, 1], [0, 1]], (0, 0), 2, "aaaa, aab, ab: merging (a, a), overlapping")]
    for token_lists, pair, new_id, what in cases:
        counts = collections.Counter(bpe.count_pairs(token_lists))
        merged_lists = []
        for ids in token_lists:
            got = call(name, recount, counts, list(ids), tuple(pair), new_id,
                       hint="return the merged list, and change counts in place")
            expected_ids = bpe.merge(ids, pair, new_id)
            if got != expected_ids:
                fail(name, f"the merged document {expected_ids} for {ids} ({what})", repr(got)[:80],
                     "return the document with the pair merged, as bpe.merge gives it")
            merged_lists.append(expected_ids)
        expected = dict(bpe.count_pairs(merged_lists))
        if dict(counts) != expected:
            zeros = sorted(p for p, c in counts.items() if c == 0)
            detail = f" (pairs left at 0: {zeros})" if zeros else ""
            fail(name, f"{show_pairs(expected)} after merging {pair} -> {new_id} in {what}",
                 show_pairs(dict(counts)) + detail, hint)
    passed(name, f"{len(cases)} sets of documents: the counts of counting everything again")


def check_merge(merge, cases=None):
    """merge(ids, pair, new_id) against bpe.merge: left to right, every occurrence, a new list.

    cases: (ids, pair, new_id, what) tuples.
    """
    __tracebackhide__ = True
    name = "merge"
    cases = cases or [
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


def check_encode_with_merges(encode_with_merges, cases=None):
    """encode_with_merges(text, uchars, merges) against BPETokenizer(uchars, merges).encode.

    cases: (text, uchars, merges, what) tuples; by default the worked example, the order of the merges,
    and 400 names with 100 merges learnt from names.
    """
    __tracebackhide__ = True
    name = "encode_with_merges"
    hint = ("start from the characters' ids (their positions in uchars); merge k makes token len(uchars) + k; "
            "apply the merges in the order they were learnt, each one everywhere in the text")
    if cases is None:
        cases = [(WORKED, list("abcd"), WORKED_MERGES, "the worked example"),
                 ("abc", list("abc"), [(1, 2), (0, 1)], "merges (b, c) then (a, b)"),
                 ("abab", list("abc"), [(1, 2), (0, 1)], "merges (b, c) then (a, b)"),
                 ("", list("abc"), [(0, 1)], "an empty text")]
        tokenizer = reference_tokenizer()
        cases += [(doc, tokenizer.uchars, tokenizer.merges, "100 merges learnt from names")
                  for doc in some_names(400, seed=3)]
    for text, uchars, merges, what in cases:
        expected = bpe.BPETokenizer(uchars, merges).encode(text)
        got = call(name, encode_with_merges, text, list(uchars), [tuple(p) for p in merges], hint=hint)
        if got != expected:
            pieces = "|".join(bpe.BPETokenizer(uchars, merges).vocab[i] for i in expected)
            fail(name, f"{expected} ({pieces}) for {text!r} with {what}", fmt(got) if isinstance(got, list) else repr(got), hint)
    passed(name, f"{len(cases)} texts, the same ids as BPETokenizer(uchars, merges).encode")


class Strings:
    """A bare vocabulary of token strings, for `segmentations` (no splits is an answer here, not an error)."""

    def __init__(self, vocab):
        self.vocab = list(vocab)

    def encode(self, text):
        return []


def check_splits(splits, cases=None):
    """splits(text, vocab) -> every list of token strings of `vocab` that joins to `text`.

    cases: (text, vocab) pairs; by default vocabularies whose longest tokens have two characters.
    """
    __tracebackhide__ = True
    name = "splits"
    cases = cases or [("anna", ["a", "n", "an", "na", "nn"]), ("abc", ["a", "b", "c", "ab", "bc"]),
                      ("xyz", ["x", "y"])]
    for text, vocab in cases:
        expected = sorted(tuple(vocab[i] for i in ids) for ids in segmentations(text, Strings(vocab)))
        got = call(name, splits, text, list(vocab), hint="return a list of lists of token strings")
        try:
            got = sorted(tuple(split) for split in got)
        except TypeError:
            fail(name, "a list of splits, each a list of strings", repr(got)[:80], "return a list of lists")
        if got != expected:
            missing = [list(s) for s in expected if s not in got][:3]
            extra = [list(s) for s in got if s not in expected][:3]
            fail(name, f"{len(expected)} splits of {text!r} with the tokens {vocab}", f"{len(got)} splits "
                 f"(missing e.g. {missing}, not splits e.g. {extra})",
                 "at position i, try every token of the vocabulary that text starts with at i (any length), "
                 "and follow it with every split of the rest; the end of the text has one split, the empty one")
    passed(name, f"{len(cases)} texts: every split, each once")


def check_exact_name_nll(exact_name_nll, cases=None):
    """exact_name_nll(model, tokenizer, name) -> -log of the model's probability of the name, all splits summed.

    cases: (name, init_std, seed) tuples: a model with weights drawn at that scale, on the 64-token
    tokenizer learnt from 3000 names.
    """
    __tracebackhide__ = True
    name = "exact_name_nll"
    tokenizer = bpe.BPETokenizer.train(some_names(3000, seed=1), vocab_size=64)
    cases = cases or [("anna", 0.08, 0), ("brooklyn", 0.5, 1), ("leo", 1.0, 2)]
    for doc, init_std, seed in cases:
        config = GPTConfig(vocab_size=tokenizer.vocab_size, n_embd=8, n_head=2, init_std=init_std)
        model = NumpyGPT(config, random.Random(seed))
        expected = float(exact_nll(model, tokenizer, [doc])[0])
        got = call(name, exact_name_nll, model, tokenizer, doc)
        try:
            got = float(got)
        except (TypeError, ValueError):
            fail(name, "one number", repr(got)[:80], "return -log of the summed probability, a float")
        if not (math.isfinite(got) and close(got, expected, 1e-9)):
            fail(name, f"{expected:.6f} for {doc!r} ({len(segmentations(doc, tokenizer))} splits, weights of std "
                 f"{init_std})", f"{got:.6f}",
                 "score every split with its closing BOS (tokens = [BOS] + split + [BOS]); add the probabilities, "
                 "not the losses, and do it in logs: -log sum exp(-nll) = m - log sum exp(m - nll) with "
                 "m = min(nll), so that a long or unlikely name does not underflow to 0")
    passed(name, f"{len(cases)} names: -log of the probability summed over every split")
