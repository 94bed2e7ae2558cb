"""Checks for the exercises of chapter 04: attention."""
import random

from ..autograd import Value
from ..model import attention
from . import all_close, call, fail, fmt, passed
from .ch03 import compare, expect_values, leaves, values, weighted_sum


def random_vectors(n, dim, seed, spread=1.0):
    """`n` lists of `dim` numbers, rounded so that messages stay short."""
    rng = random.Random(seed)
    return [[round(rng.uniform(-spread, spread), 2) for _ in range(dim)] for _ in range(n)]


def reference_logits(q, keys):
    head_dim = len(q)
    return [sum(qj * kj for qj, kj in zip(q, k)) / head_dim**0.5 for k in keys]


def check_attn_logits(attn_logits):
    """attn_logits(q, keys) -> [q . k / sqrt(head_dim) for each key], as Values."""
    __tracebackhide__ = True
    for head_dim, n_keys, seed in [(4, 3, 1), (1, 2, 2), (9, 4, 3), (4, 1, 4)]:
        q = random_vectors(1, head_dim, seed, 2.0)[0]
        keys = random_vectors(n_keys, head_dim, seed + 10, 2.0)
        compare(f"attn_logits(q, keys) with head_dim={head_dim}, {n_keys} keys: q={q}, keys={keys}",
                attn_logits, reference_logits, lambda: (values(q), values(keys)),
                "one score per key: the dot product q . k (sum of q[j] * k[j]) divided by sqrt(head_dim), "
                "the square root of len(q), not head_dim itself",
                "use Value operations (*, sum, /) so gradients flow back to q and the keys")
    passed("attn_logits", "q . k / sqrt(head_dim) for every key; with head_dim 4 the scale is 2")


def check_attention_head(attention_head):
    """attention_head(q, keys, values) = sum_t softmax(logits)_t * values[t], one head."""
    __tracebackhide__ = True
    for head_dim, n_keys, seed in [(4, 3, 5), (2, 1, 6), (2, 5, 7), (3, 4, 8)]:
        q = random_vectors(1, head_dim, seed, 2.0)[0]
        keys = random_vectors(n_keys, head_dim, seed + 10, 2.0)
        vals = random_vectors(n_keys, head_dim, seed + 20)
        compare(f"attention_head(q, keys, values) with head_dim={head_dim}, {n_keys} keys",
                attention_head, lambda q_, k_, v_: attention(q_, k_, v_, 1),
                lambda: (values(q), values(keys), values(vals)),
                "weights = softmax of the scaled scores q . k / sqrt(head_dim); the output is the sum over t of "
                "weights[t] * values[t]: a vector of head_dim numbers made from the values, not the keys",
                "use Value operations (and nn.softmax) so gradients flow back")
    passed("attention_head", "softmax of the scaled scores, then the weighted sum of the values")


def reference_causal(qs, ks, vs):
    keys, vals, outputs = [], [], []
    for q, k, v in zip(qs, ks, vs):
        keys.append(k)
        vals.append(v)
        outputs.append(attention(q, keys, vals, 1))
    return outputs


def compare_sequence(name, mine, qs, ks, vs, hint, grad_hint):
    """mine(qs, ks, vs) against reference_causal: the outputs of every position, then the gradients."""
    __tracebackhide__ = True
    inputs = (values(qs), values(ks), values(vs))
    ref_inputs = (values(qs), values(ks), values(vs))
    ref_out = reference_causal(*ref_inputs)
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


def check_causal_attention(causal_attention):
    """causal_attention(qs, ks, vs): one position at a time, appending to a KV cache, then attending."""
    __tracebackhide__ = True
    for n, head_dim, seed in [(4, 2, 11), (1, 3, 12), (6, 4, 13)]:
        qs, ks, vs = (random_vectors(n, head_dim, seed + i, 1.5) for i in range(3))
        compare_sequence(f"causal_attention(qs, ks, vs) over {n} positions, head_dim={head_dim}", causal_attention,
                         qs, ks, vs,
                         "for each position t: append ks[t] and vs[t] to the cache first, then "
                         "attention(qs[t], keys, values, 1) over the cache so far",
                         "use Value operations (and the library's attention) so gradients flow back")
    passed("causal_attention", "each position sees itself and the past, through the KV cache")


def check_multi_head(multi_head):
    """multi_head(q, keys, values, n_head) equals the library's attention with n_head heads."""
    __tracebackhide__ = True
    for n_embd, n_head, n_keys, seed in [(8, 2, 3, 21), (8, 4, 2, 22), (6, 3, 4, 23), (4, 1, 3, 24), (16, 4, 5, 25)]:
        q = random_vectors(1, n_embd, seed, 2.0)[0]
        keys = random_vectors(n_keys, n_embd, seed + 10, 2.0)
        vals = random_vectors(n_keys, n_embd, seed + 20)
        compare(f"multi_head(q, keys, values, n_head={n_head}) with n_embd={n_embd}, {n_keys} keys",
                lambda q_, k_, v_: multi_head(q_, k_, v_, n_head), lambda q_, k_, v_: attention(q_, k_, v_, n_head),
                lambda: (values(q), values(keys), values(vals)),
                f"head h uses the slice [h * head_dim : (h + 1) * head_dim] of q, of every key and of every value "
                f"(head_dim = n_embd // n_head = {n_embd // n_head}); the heads' outputs are concatenated, "
                "head 0 first, into one list of n_embd Values",
                "one flat list of n_embd Values: out.extend(...) each head's output, not out.append(...), "
                "and Value operations (the library's attention) so gradients flow back")
    passed("multi_head", "each head on its own slice, concatenated: the library's attention for 1, 2, 3 and 4 heads")


def check_masked_attention(masked_attention):
    """masked_attention(qs, ks, vs): every score at once, the future masked; equals the KV-cache outputs."""
    __tracebackhide__ = True
    for n, head_dim, seed in [(4, 2, 31), (1, 2, 32), (5, 4, 33)]:
        qs, ks, vs = (random_vectors(n, head_dim, seed + i, 1.5) for i in range(3))
        compare_sequence(f"masked_attention(qs, ks, vs) over {n} positions, head_dim={head_dim}", masked_attention,
                         qs, ks, vs,
                         "score s of row t is q_t . k_s / sqrt(head_dim) for s <= t and -inf for s > t (the future); "
                         "then softmax and the weighted sum of the values",
                         "use Value operations (and nn.softmax) so gradients flow back")
    # the point of the mask: a later key or value changes no earlier output
    qs, ks, vs = (random_vectors(5, 2, 40 + i, 1.5) for i in range(3))
    before = [[v.data for v in out] for out in masked_attention(values(qs), values(ks), values(vs))]
    ks[-1], vs[-1] = [9.0, -9.0], [5.0, 5.0]
    after = [[v.data for v in out] for out in masked_attention(values(qs), values(ks), values(vs))]
    for t in range(4):
        if not all_close(before[t], after[t], 1e-12):
            fail(f"masked_attention: output {t} after changing the key and value of position 4", fmt(before[t]), fmt(after[t]),
                 "position t must not see positions after t")
    passed("masked_attention", "the same outputs as the KV cache; changing the last key changes no earlier output")
