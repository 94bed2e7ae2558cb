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
from . import all_close, call, fail, fmt, passed
from .ch05 import tiny_model


def check_probs_at_temperature(probs_at_temperature, cases=None):
    """probs_at_temperature(logits, temperature) against softmax of logits / temperature."""
    __tracebackhide__ = True
    name = "probs_at_temperature"
    # (logits, temperature)
    cases = cases or [
        ([2.0, 1.0, 0.1, -1.0], 1.0),
        ([2.0, 1.0, 0.1, -1.0], 0.5),  # colder: sharper
        ([2.0, 1.0, 0.1, -1.0], 2.0),  # hotter: flatter
        ([3.0, 3.0], 0.7),
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
    passed(name, f"the library's softmax(logits / temperature) for {len(cases)} (logits, temperature)")


def top_k_reference(probs, k):
    """The k largest probabilities kept and renormalised, the others 0."""
    kept = sorted(range(len(probs)), key=lambda i: probs[i], reverse=True)[:k]
    total = sum(probs[i] for i in kept)
    return [probs[i] / total if i in kept else 0.0 for i in range(len(probs))]


def check_top_k_filter(top_k_filter, cases=None):
    """top_k_filter(probs, k) on distributions without a tie at the boundary, k from 1 to all."""
    __tracebackhide__ = True
    name = "top_k_filter"
    # (probs, k)
    cases = cases or [([0.12, 0.5, 0.05, 0.3, 0.03], k) for k in [2, 1, 3, 5]]
    for probs, k in cases:
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
    passed(name, f"{len(cases)} (probs, k): the k most likely kept where they were, renormalised")


def top_p_reference(probs, p):
    """The most likely tokens until their sum reaches p (the one that crosses p included), renormalised."""
    kept, total = [], 0.0
    for i in sorted(range(len(probs)), key=lambda i: probs[i], reverse=True):
        if total >= p:
            break
        kept.append(i)
        total += probs[i]
    return [probs[i] / total if i in kept else 0.0 for i in range(len(probs))]


def check_top_p_filter(top_p_filter, cases=None):
    """top_p_filter(probs, p): nucleus sampling's filter."""
    __tracebackhide__ = True
    name = "top_p_filter"
    probs = [0.12, 0.5, 0.05, 0.3, 0.03]  # sorted: 0.5, 0.3, 0.12, 0.05, 0.03
    # (probs, p): p below the top probability, crossing inside, and all but the last two
    cases = cases or [(probs, 0.4), (probs, 0.6), (probs, 0.9), (probs, 0.99)]
    for probs, p in cases:
        expected = top_p_reference(probs, p)
        got = call(name, top_p_filter, list(probs), p, hint="sort the ids by probability, largest first")
        if not isinstance(got, (list, tuple)) or not all_close(got, expected):
            fail(name, f"{fmt(expected)} for p={p} and probs {fmt(probs)}", fmt(got),
                 "take the ids from the most likely down, adding up their probabilities, and stop as soon as the "
                 "sum has reached p: the token that crosses p is kept; the kept ones stay where they are, "
                 "divided by their sum; the others are 0")
    passed(name, f"{len(cases)} (probs, p): the smallest set of most likely tokens that reaches p, renormalised")


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


def model_for(which):
    """("the trained model", model, tokenizer) for "trained", else an untrained tiny model from that seed."""
    if which == "trained":
        return ("the trained model", *trained())
    return (f"an untrained model with block_size 8 (seed {which})", tiny_model(seed=which),
            Tokenizer("abcdefghijklmnopqrstuvwxyz"))


def check_greedy_name(greedy_name, cases=None):
    """greedy_name(model, tokenizer) on the trained model (cases: "trained", or seeds of untrained tiny models)."""
    __tracebackhide__ = True
    name = "greedy_name"
    cases = cases or ["trained"]
    names = []
    for which in cases:
        label, model, tok = model_for(which)
        expected = greedy_reference(model, tok)
        names.append(expected)
        got = call(name, greedy_name, model, tok, hint="one forward pass per position, from BOS at position 0, at most block_size positions")
        if got != expected:
            fail(
                name,
                f"{expected!r} from {label}",
                repr(got),
                "start from BOS at position 0, feed back the id with the largest logit, "
                "stop at BOS (not part of the name) or after block_size positions",
            )
    passed(name, f"the greedy names of {len(cases)} model(s): {', '.join(map(repr, names))}")


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


def check_sample_top_k(sample_top_k, cases=None):
    """sample_top_k(model, tokenizer, rng, k, temperature): library's sample at k=vocab_size, greedy at k=1."""
    __tracebackhide__ = True
    name = "sample_top_k"
    hint = ("as sample: from BOS, next_token_probs at the temperature, keep the k most likely and renormalise, "
            "draw with rng.choices(range(vocab_size), weights=...)[0], stop at BOS or block_size")
    # (model: "trained" or the seed of an untrained tiny one, k, temperature, seed, how many names from one generator)
    cases = cases or [("trained", 27, 0.5, 42, 2), ("trained", 3, 1.0, 42, 2)]
    for which, k, temperature, seed, count in cases:
        _, model, tokenizer = model_for(which)
        rng = random.Random(seed)
        if k >= tokenizer.vocab_size:
            what, expected = "the library's sample (all 27 kept)", [sample(model, tokenizer, rng, temperature) for _ in range(count)]
        elif k == 1:
            what, expected = "the greedy name (k=1)", [greedy_reference(model, tokenizer)] * count
        else:
            what, expected = "top-k sampling", [top_k_sample_reference(model, tokenizer, rng, k, temperature) for _ in range(count)]
        rng = random.Random(seed)
        got = [call(name, sample_top_k, model, tokenizer, rng, k, temperature, hint=hint) for _ in range(count)]
        if got != expected:
            fail(name, f"{expected!r}: {what} at k={k}, temperature {temperature}, {model_for(which)[0]}, "
                       f"{count} name(s) from random.Random({seed})", repr(got), hint)
    passed(name, f"{len(cases)} settings: with k=27 the library's samples, with k=1 the greedy name, and top-k draws")
