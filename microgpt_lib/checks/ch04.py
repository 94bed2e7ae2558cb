"""Checks for the exercises of chapter 04: attention."""
import math
import random

from ..model import attention
from ..nn import softmax
from . import all_close, call, fail, fmt, passed
from .ch03 import compare, expect_values, leaves, values, weighted_sum


def random_vectors(n, dim, seed, spread=1.0):
    """`n` lists of `dim` numbers, rounded so that messages stay short."""
    rng = random.Random(seed)
    return [[round(rng.uniform(-spread, spread), 2) for _ in range(dim)] for _ in range(n)]


def bound(f, *extra):
    """f with its trailing arguments fixed, keeping f's name for the messages of `call`."""
    def with_extra(*args):
        return f(*args, *extra)
    with_extra.__name__ = getattr(f, "__name__", "your function")
    return with_extra


def entropy_reference(q, keys, vals, n_head):
    attn_log = []
    attention(values(q), values(keys), values(vals), n_head, attn_log)
    return [-sum(w * math.log(w) for w in weights if w > 0) for weights in attn_log]


def check_head_entropies(head_entropies, cases=None):
    """head_entropies(q, keys, values, n_head) -> the entropy of each head's attention weights, in nats."""
    __tracebackhide__ = True
    name = "head_entropies"
    # (q, keys, values, n_head), or (n_embd, n_head, number of keys, seed, spread) to draw them
    cases = cases or [(8, 2, 3, 1, 1.0), (8, 4, 5, 2, 2.0), (6, 1, 4, 3, 1.0)]
    for case in cases:
        if len(case) == 5:
            n_embd, n_head, n_keys, seed, spread = case
            q = random_vectors(1, n_embd, seed, spread)[0]
            keys = random_vectors(n_keys, n_embd, seed + 10, spread)
            vals = random_vectors(n_keys, n_embd, seed + 20)
        else:
            q, keys, vals, n_head = case
        expected = entropy_reference(q, keys, vals, n_head)
        got = call(name, head_entropies, values(q), values(keys), values(vals), n_head,
                   hint="the weights of every head (attention's attn_log), then -sum(w * log(w)) per head; "
                        "a weight of exactly 0 adds 0 (the limit of w log w), not log(0)")
        what = f"q={fmt(q)}, {len(keys)} keys, n_head={n_head}"
        if not isinstance(got, (list, tuple)) or not all(isinstance(e, (int, float)) for e in got):
            fail(name, f"a list of {n_head} floats, one per head ({what})", repr(got)[:80],
                 "plain floats: the entropy is a measurement, not part of the model")
        if not all_close(got, expected, 1e-9):
            fail(name, f"{fmt(expected)} ({what})", fmt(list(got)),
                 "one entropy per head, head 0 first: -sum over the positions of w * ln(w), with the natural log; "
                 f"it is 0 when one key takes all the weight and ln({len(keys)}) = {math.log(len(keys)):.4f} "
                 "when every key gets the same")
    passed(name, f"{len(cases)} queries: one entropy per head, between 0 (one key) and ln(number of keys) (all alike)")


def head_reference(q, keys, values):
    scores = [sum(qj * kj for qj, kj in zip(q, k)) / len(q) ** 0.5 for k in keys]
    attn_weights = softmax(scores)
    return [sum(attn_weights[t] * values[t][j] for t in range(len(values))) for j in range(len(values[0]))]


def check_attention_head(attention_head, cases=None):
    """attention_head(q, keys, values) = sum_t softmax(logits)_t * values[t], one head."""
    __tracebackhide__ = True
    name = "attention_head"
    # (head_dim of q and the keys, width of the values, number of keys, seed)
    cases = cases or [(4, 4, 3, 5), (2, 2, 1, 6), (3, 3, 4, 8)]
    for head_dim, value_dim, n_keys, seed in cases:
        q = random_vectors(1, head_dim, seed, 2.0)[0]
        keys = random_vectors(n_keys, head_dim, seed + 10, 2.0)
        vals = random_vectors(n_keys, value_dim, seed + 20)
        compare(f"attention_head(q, keys, values) with head_dim={head_dim}, values of {value_dim}, {n_keys} keys",
                attention_head, head_reference, lambda: (values(q), values(keys), values(vals)),
                "weights = softmax of the scaled scores q . k / sqrt(len(q)); the output is the sum over t of "
                "weights[t] * values[t]: one number per number of a value, made from the values, not the keys",
                "use Value operations (and nn.softmax) so gradients flow back")
    passed("attention_head", f"{len(cases)} heads: softmax of the scaled scores, then the weighted sum of the values")


def reference_causal(qs, ks, vs):
    keys, vals, outputs = [], [], []
    for q, k, v in zip(qs, ks, vs):
        keys.append(k)
        vals.append(v)
        outputs.append(attention(q, keys, vals, 1))
    return outputs


def compare_sequence(name, mine, qs, ks, vs, hint, grad_hint, reference=None):
    """mine(qs, ks, vs) against `reference` (the causal head): the outputs of every position, then the gradients."""
    __tracebackhide__ = True
    inputs = (values(qs), values(ks), values(vs))
    ref_inputs = (values(qs), values(ks), values(vs))
    ref_out = (reference or reference_causal)(*ref_inputs)
    out = call(name, mine, *inputs, hint=hint)
    if not isinstance(out, list) or len(out) != len(qs):
        fail(name, f"a list of {len(qs)} outputs, one per position", repr(type(out).__name__) if not isinstance(out, list)
             else f"{len(out)} outputs", hint)
    for t, (got_t, ref_t) in enumerate(zip(out, ref_out)):
        got = expect_values(f"{name}: output {t}", got_t, len(ref_t), hint, grad_hint)
        expected = [v.data for v in ref_t]
        if not all_close(got, expected, 1e-9):
            fail(f"{name}: output {t}", fmt(expected), fmt(got),
                 f"position {t} attends to the keys of positions 0 to {t}, itself included, and to no later one; " + hint)
    weighted_sum([v for out_t in out for v in out_t]).backward()
    weighted_sum([v for out_t in ref_out for v in out_t]).backward()
    got_grads = [v.grad for v in leaves(list(inputs))]
    expected_grads = [v.grad for v in leaves(list(ref_inputs))]
    if not all_close(got_grads, expected_grads, 1e-7):
        fail(f"{name}: the gradients of qs, ks and vs after backward", fmt(expected_grads), fmt(got_grads), grad_hint)
    return out


def alibi_reference(qs, ks, vs, slope):
    head_dim = len(qs[0])
    outputs = []
    for t, q in enumerate(qs):
        scores = [sum(qj * kj for qj, kj in zip(q, k)) / head_dim**0.5 - slope * (t - s) for s, k in enumerate(ks[: t + 1])]
        attn_weights = softmax(scores)
        outputs.append([sum(attn_weights[s] * vs[s][j] for s in range(t + 1)) for j in range(len(vs[0]))])
    return outputs


def check_alibi_attention(alibi_attention, cases=None):
    """alibi_attention(qs, ks, vs, slope): causal, one head, each score less slope * distance."""
    __tracebackhide__ = True
    # (positions, head_dim, slope, seed)
    cases = cases or [(4, 2, 0.5, 11), (5, 4, 0.5, 13)]
    for n, head_dim, slope, seed in cases:
        qs, ks, vs = (random_vectors(n, head_dim, seed + i, 1.5) for i in range(3))
        compare_sequence(f"alibi_attention(qs, ks, vs, slope={slope}) over {n} positions, head_dim={head_dim}",
                         bound(alibi_attention, slope), qs, ks, vs,
                         f"row t: for s <= t, q_t . k_s / sqrt(head_dim) - slope * (t - s), with slope={slope} as given; "
                         "no score for s > t; softmax; the weighted sum of the values",
                         "use Value operations (and nn.softmax) so gradients flow back",
                         reference=lambda q_, k_, v_: alibi_reference(q_, k_, v_, slope))
    passed("alibi_attention", f"{len(cases)} sequences: causal, and each key pushed down by slope times its distance")


def multi_query_reference(q, keys, values, n_head):
    head_dim = len(q) // n_head
    out = []
    for h in range(n_head):
        out.extend(attention(q[h * head_dim : (h + 1) * head_dim], keys, values, 1))
    return out


def check_multi_query(multi_query, cases=None):
    """multi_query(q, keys, values, n_head): every head's slice of q against one shared set of keys and values."""
    __tracebackhide__ = True
    # (n_head, head_dim, number of keys, seed)
    cases = cases or [(2, 2, 3, 21), (2, 4, 2, 22)]
    for n_head, head_dim, n_keys, seed in cases:
        q = random_vectors(1, n_head * head_dim, seed, 2.0)[0]
        keys = random_vectors(n_keys, head_dim, seed + 10, 2.0)
        vals = random_vectors(n_keys, head_dim, seed + 20)
        compare(f"multi_query(q of {n_head * head_dim}, {n_keys} keys and values of {head_dim}, n_head={n_head})",
                bound(multi_query, n_head),
                lambda q_, k_, v_: multi_query_reference(q_, k_, v_, n_head),
                lambda: (values(q), values(keys), values(vals)),
                f"head h takes the slice [h * head_dim : (h + 1) * head_dim] of q only (head_dim = len(q) // n_head "
                f"= {head_dim}), and attends with ALL of every key and value, which have head_dim numbers; the "
                "heads' outputs are concatenated, head 0 first",
                "one flat list of len(q) Values (out.extend), built with Value operations so gradients flow back")
    passed("multi_query", f"{len(cases)} queries: every head on its own slice of q, all sharing one key and value per position")


def check_masked_attention(masked_attention, cases=None):
    """masked_attention(qs, ks, vs): every score at once, the future masked; equals the KV-cache outputs."""
    __tracebackhide__ = True
    # (positions, head_dim, seed, spread of the numbers)
    # or (qs, ks, vs) written out
    cases = cases or [(4, 2, 31, 1.5), (1, 2, 32, 1.5), (5, 4, 33, 1.5)]
    for case in cases:
        if len(case) == 3:
            qs, ks, vs = case
            n, head_dim = len(qs), len(qs[0])
        else:
            n, head_dim, seed, spread = case
            qs, ks, vs = (random_vectors(n, head_dim, seed + i, spread) for i in range(3))
        compare_sequence(f"masked_attention(qs, ks, vs) over {n} positions, head_dim={head_dim}", masked_attention,
                         qs, ks, vs,
                         "score s of row t is q_t . k_s / sqrt(head_dim) for s <= t and -inf for s > t (the future); "
                         "then softmax and the weighted sum of the values",
                         "use Value operations (and nn.softmax) so gradients flow back")
    # the point of the mask: a later key or value changes no earlier output
    qs, ks, vs = (random_vectors(5, 2, 40 + i, 1.5) for i in range(3))
    hint = "position t must not see positions after t"
    before = call("masked_attention", masked_attention, values(qs), values(ks), values(vs), hint=hint)
    ks[-1], vs[-1] = [9.0, -9.0], [5.0, 5.0]
    after = call("masked_attention", masked_attention, values(qs), values(ks), values(vs), hint=hint)
    before, after = [[v.data for v in out] for out in before], [[v.data for v in out] for out in after]
    for t in range(4):
        if not all_close(before[t], after[t], 1e-12):
            fail(f"masked_attention: output {t} after changing the key and value of position 4", fmt(before[t]), fmt(after[t]),
                 "position t must not see positions after t")
    passed("masked_attention", f"{len(cases)} sequences: the outputs of the KV cache; changing the last key changes no earlier output")
