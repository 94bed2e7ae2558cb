"""Checks for the exercises of chapter 07 (sampling): each compares with `sample` and `nn`.

In every check, `__tracebackhide__ = True` asks IPython to leave the check's own frames out of a
traceback, so that a learner sees their code and the message, not the inside of the check.
"""
import random

from ..autograd import Value
from ..checkpoint import load_checkpoint
from ..data import data_path
from ..nn import softmax
from ..sample import next_token_probs, sample
from ..tokenizer import Tokenizer
from . import all_close, call, close, fail, fmt, passed
from .ch05 import tiny_model


def check_share_in_data(share_in_data):
    """share_in_data(names, docs) on small lists with a repeat, a substring and an empty name."""
    __tracebackhide__ = True
    name = "share_in_data"
    docs = ["emma", "olivia", "joanna", "annabel"]
    cases = [
        (["emma", "zzyx", "ann", "emma", ""], 2 / 5),  # "emma" twice counts twice; "ann" is only part of names
        (["olivia"], 1.0),
        (["kamari", "analia"], 0.0),
    ]
    for names, expected in cases:
        got = call(name, share_in_data, names, docs, hint="count the names that are exactly a document")
        if not isinstance(got, (int, float)) or not close(got, expected):
            fail(
                name,
                f"{fmt(expected)} for names {names!r} and docs {docs!r}",
                fmt(got),
                "count every generated name (repeats too) that equals a whole document, "
                "then divide by how many names there are",
            )
    passed(name, "repeats count, parts of names do not")


def check_probs_at_temperature(probs_at_temperature):
    """probs_at_temperature(logits, temperature) against softmax of logits / temperature."""
    __tracebackhide__ = True
    name = "probs_at_temperature"
    cases = [
        ([2.0, 1.0, 0.1, -1.0], 1.0),
        ([2.0, 1.0, 0.1, -1.0], 0.5),  # colder: sharper
        ([2.0, 1.0, 0.1, -1.0], 2.0),  # hotter: flatter
        ([1000.0, 999.0, -1000.0], 1.0),  # exp(1000) overflows: subtract the max first
        ([10.0, 9.0, 0.0], 0.1),
    ]
    for logits, temperature in cases:
        expected = [p.data for p in softmax([Value(logit) / temperature for logit in logits])]
        got = call(name, probs_at_temperature, logits, temperature, hint="exp overflows above about 709: subtract the largest scaled logit first")
        if not isinstance(got, (list, tuple)) or not all_close(got, expected):
            fail(
                name,
                f"{fmt(expected)} for logits {fmt(logits)} at temperature {temperature}",
                fmt(got),
                "divide every logit by the temperature, then softmax: subtract the max, exp, divide by the sum",
            )
    passed(name, "the library's softmax(logits / temperature) at 5 temperatures, large logits included")


def top_k_reference(probs, k):
    """The k largest probabilities kept and renormalised, the others 0."""
    kept = sorted(range(len(probs)), key=lambda i: probs[i], reverse=True)[:k]
    total = sum(probs[i] for i in kept)
    return [probs[i] / total if i in kept else 0.0 for i in range(len(probs))]


def check_top_k_filter(top_k_filter):
    """top_k_filter(probs, k) on a distribution without ties, k from 1 to all."""
    __tracebackhide__ = True
    name = "top_k_filter"
    probs = [0.12, 0.5, 0.05, 0.3, 0.03]
    for k in [2, 1, 3, 5]:
        expected = top_k_reference(probs, k)
        got = call(name, top_k_filter, list(probs), k, hint="sort the ids by probability")
        if not isinstance(got, (list, tuple)) or not all_close(got, expected):
            fail(
                name,
                f"{fmt(expected)} for k={k} and probs {fmt(probs)}",
                fmt(got),
                "keep the k largest probabilities where they are, set the rest to 0, "
                "then divide by the sum of the kept ones so they add up to 1",
            )
    passed(name, "k = 1, 2, 3 and all 5: the k most likely kept where they were, renormalised")


def greedy_reference(model, tokenizer):
    keys, values = model.empty_cache()
    token_id, chars = tokenizer.BOS, []
    for pos_id in range(model.config.block_size):
        logits = model(token_id, pos_id, keys, values)
        token_id = max(range(tokenizer.vocab_size), key=lambda i: logits[i].data)
        if token_id == tokenizer.BOS:
            break
        chars.append(tokenizer.uchars[token_id])
    return "".join(chars)


def trained():
    """The shipped 1000-step checkpoint: model and tokenizer."""
    checkpoint = load_checkpoint(data_path("microgpt_default_1000.json"))
    return checkpoint.model, checkpoint.tokenizer


def check_greedy_name(greedy_name):
    """greedy_name(model, tokenizer) on the trained model, and on a random one that never says BOS."""
    __tracebackhide__ = True
    name = "greedy_name"
    tokenizer = Tokenizer("abcdefghijklmnopqrstuvwxyz")
    untrained = tiny_model(seed=0)  # block_size 8: its greedy name runs to the end of the context
    model, tok = trained()
    trained_name = greedy_reference(model, tok)
    for label, (model, tok) in [("the trained model", (model, tok)), ("an untrained model with block_size 8", (untrained, tokenizer))]:
        expected = greedy_reference(model, tok)
        got = call(name, greedy_name, model, tok, hint="one forward pass per position, from BOS at position 0, at most block_size positions")
        if got != expected:
            fail(
                name,
                f"{expected!r} from {label}",
                repr(got),
                "start from BOS at position 0, feed back the id with the largest logit, "
                "stop at BOS (not part of the name) or after block_size positions",
            )
    passed(name, f"the trained model's most likely name is {trained_name!r}; "
                 "an untrained model stops at block_size")


def top_k_sample_reference(model, tokenizer, rng, k, temperature):
    keys, values = model.empty_cache()
    token_id, chars = tokenizer.BOS, []
    for pos_id in range(model.config.block_size):
        probs = [p.data for p in next_token_probs(model, token_id, pos_id, keys, values, temperature)]
        token_id = rng.choices(range(tokenizer.vocab_size), weights=top_k_reference(probs, k))[0]
        if token_id == tokenizer.BOS:
            break
        chars.append(tokenizer.uchars[token_id])
    return "".join(chars)


def check_sample_top_k(sample_top_k):
    """sample_top_k(model, tokenizer, rng, k, temperature): library's sample at k=vocab_size, greedy at k=1."""
    __tracebackhide__ = True
    name = "sample_top_k"
    model, tokenizer = trained()
    hint = ("as sample: from BOS, next_token_probs at the temperature, keep the k most likely and renormalise, "
            "draw with rng.choices(range(vocab_size), weights=...)[0], stop at BOS or block_size")
    # (k, temperature, seed, how many names in a row from one generator)
    for k, temperature, seed, count in [(27, 0.5, 42, 2), (1, 1.0, 0, 1), (3, 1.0, 42, 2), (5, 0.8, 3, 1)]:
        rng = random.Random(seed)
        if k == tokenizer.vocab_size:
            what, expected = "the library's sample (all 27 kept)", [sample(model, tokenizer, rng, temperature) for _ in range(count)]
        elif k == 1:
            what, expected = "the greedy name (k=1)", [greedy_reference(model, tokenizer)] * count
        else:
            what, expected = "top-k sampling", [top_k_sample_reference(model, tokenizer, rng, k, temperature) for _ in range(count)]
        rng = random.Random(seed)
        got = [call(name, sample_top_k, model, tokenizer, rng, k, temperature, hint=hint) for _ in range(count)]
        if got != expected:
            fail(name, f"{expected!r}: {what} at k={k}, temperature {temperature}, "
                       f"{count} name(s) from random.Random({seed})", repr(got), hint)
    passed(name, "the library's samples with k=27, the greedy name with k=1, and top-3 and top-5 draws")
