"""Plausible wrong answers to the exercises of chapter 04.

WRONG: each must fail its check cell, hidden cases included.
HIDDEN_ONLY: each passes the visible check and fails only because of the hidden cases.
"""

MASKED = '''def masked_attention(qs, ks, vs):
    head_dim = len(qs[0])
    outputs = []
    for t, q in enumerate(qs):
        scores = [
            sum(qj * kj for qj, kj in zip(q, k)) {scale} if s {keep} t else Value({masked})
            for s, k in enumerate(ks)
        ]
        attn_weights = nn.softmax(scores)
        outputs.append([sum(attn_weights[s] * vs[s][j] for s in range(len(vs))) for j in range(head_dim)])
    return outputs
'''


def masked(scale="/ head_dim**0.5", keep="<=", masked='float("-inf")'):
    return MASKED.format(scale=scale, keep=keep, masked=masked)


WRONG = {
    "ex04_1_head_entropies": [
        # log base 2: bits, not nats
        '''def head_entropies(q, keys, values, n_head):
    attn_log = []
    attention(q, keys, values, n_head, attn_log)
    return [-sum(w * math.log2(w) for w in weights if w > 0) for weights in attn_log]
''',
        # the sign forgotten: negative entropies
        '''def head_entropies(q, keys, values, n_head):
    attn_log = []
    attention(q, keys, values, n_head, attn_log)
    return [sum(w * math.log(w) for w in weights if w > 0) for weights in attn_log]
''',
        # one entropy over all the heads' weights together
        '''def head_entropies(q, keys, values, n_head):
    attn_log = []
    attention(q, keys, values, n_head, attn_log)
    return [-sum(w * math.log(w) for weights in attn_log for w in weights if w > 0) / n_head] * n_head
''',
    ],
    "ex04_2_attention_head": [
        # the keys mixed instead of the values
        '''def attention_head(q, keys, values):
    head_dim = len(q)
    scores = [sum(qj * kj for qj, kj in zip(q, k)) / head_dim**0.5 for k in keys]
    attn_weights = nn.softmax(scores)
    return [sum(attn_weights[t] * keys[t][j] for t in range(len(keys))) for j in range(head_dim)]
''',
        # no softmax: the raw scores as weights
        '''def attention_head(q, keys, values):
    head_dim = len(q)
    scores = [sum(qj * kj for qj, kj in zip(q, k)) / head_dim**0.5 for k in keys]
    return [sum(scores[t] * values[t][j] for t in range(len(values))) for j in range(len(values[0]))]
''',
        # missing scale
        '''def attention_head(q, keys, values):
    scores = [sum(qj * kj for qj, kj in zip(q, k)) for k in keys]
    attn_weights = nn.softmax(scores)
    return [sum(attn_weights[t] * values[t][j] for t in range(len(values))) for j in range(len(values[0]))]
''',
    ],
    "ex04_3_alibi_attention": [
        # the penalty added: older keys favoured
        '''def alibi_attention(qs, ks, vs, slope=0.5):
    head_dim = len(qs[0])
    outputs = []
    for t, q in enumerate(qs):
        scores = [sum(qj * kj for qj, kj in zip(q, ks[s])) / head_dim**0.5 + slope * (t - s) for s in range(t + 1)]
        attn_weights = nn.softmax(scores)
        outputs.append([sum(attn_weights[s] * vs[s][j] for s in range(t + 1)) for j in range(len(vs[0]))])
    return outputs
''',
        # the penalty divided by sqrt(head_dim) with the dot product
        '''def alibi_attention(qs, ks, vs, slope=0.5):
    head_dim = len(qs[0])
    outputs = []
    for t, q in enumerate(qs):
        scores = [(sum(qj * kj for qj, kj in zip(q, ks[s])) - slope * (t - s)) / head_dim**0.5 for s in range(t + 1)]
        attn_weights = nn.softmax(scores)
        outputs.append([sum(attn_weights[s] * vs[s][j] for s in range(t + 1)) for j in range(len(vs[0]))])
    return outputs
''',
        # not causal: every position sees every key, penalised by the distance either way
        '''def alibi_attention(qs, ks, vs, slope=0.5):
    head_dim = len(qs[0])
    outputs = []
    for t, q in enumerate(qs):
        scores = [sum(qj * kj for qj, kj in zip(q, k)) / head_dim**0.5 - slope * abs(t - s) for s, k in enumerate(ks)]
        attn_weights = nn.softmax(scores)
        outputs.append([sum(attn_weights[s] * vs[s][j] for s in range(len(vs))) for j in range(len(vs[0]))])
    return outputs
''',
    ],
    "ex04_4_multi_query": [
        # the keys and values sliced too, as in multi-head attention: later heads see nothing
        '''def multi_query(q, keys, values, n_head):
    head_dim = len(q) // n_head
    out = []
    for h in range(n_head):
        hs = slice(h * head_dim, (h + 1) * head_dim)
        out.extend(attention(q[hs], [k[hs] for k in keys], [v[hs] for v in values], 1))
    return out
''',
        # interleaved slices of q
        '''def multi_query(q, keys, values, n_head):
    out = []
    for h in range(n_head):
        out.extend(attention(q[h::n_head], keys, values, 1))
    return out
''',
        # one head over the whole query, its output repeated
        '''def multi_query(q, keys, values, n_head):
    head_dim = len(q) // n_head
    return attention(q[:head_dim], keys, values, 1) * n_head
''',
    ],
    "ex04_5_masked_attention": [
        # no mask: the future leaks in
        '''def masked_attention(qs, ks, vs):
    head_dim = len(qs[0])
    outputs = []
    for q in qs:
        scores = [sum(qj * kj for qj, kj in zip(q, k)) / head_dim**0.5 for k in ks]
        attn_weights = nn.softmax(scores)
        outputs.append([sum(attn_weights[s] * vs[s][j] for s in range(len(vs))) for j in range(head_dim)])
    return outputs
''',
        # off by one: s >= t masked, so a position cannot see itself
        masked(keep="<"),
        # the mask the wrong way round: the past hidden, the future seen
        masked(keep=">="),
        # missing scale
        masked(scale=""),
    ],
}

HIDDEN_ONLY = {
    "ex04_1_head_entropies": [
        # log(0) for a weight that underflowed to exactly 0
        '''def head_entropies(q, keys, values, n_head):
    attn_log = []
    attention(q, keys, values, n_head, attn_log)
    return [-sum(w * math.log(w) for w in weights) for weights in attn_log]
''',
    ],
    "ex04_2_attention_head": [
        # the output as wide as q, not as a value
        '''def attention_head(q, keys, values):
    head_dim = len(q)
    scores = [sum(qj * kj for qj, kj in zip(q, k)) / head_dim**0.5 for k in keys]
    attn_weights = nn.softmax(scores)
    return [sum(attn_weights[t] * values[t][j] for t in range(len(values))) for j in range(head_dim)]
''',
    ],
    "ex04_3_alibi_attention": [
        # the example's slope written in, the argument ignored
        '''def alibi_attention(qs, ks, vs, slope=0.5):
    head_dim = len(qs[0])
    outputs = []
    for t, q in enumerate(qs):
        scores = [sum(qj * kj for qj, kj in zip(q, ks[s])) / head_dim**0.5 - 0.5 * (t - s) for s in range(t + 1)]
        attn_weights = nn.softmax(scores)
        outputs.append([sum(attn_weights[s] * vs[s][j] for s in range(t + 1)) for j in range(len(vs[0]))])
    return outputs
''',
    ],
    "ex04_4_multi_query": [
        # written for the example's two heads
        '''def multi_query(q, keys, values, n_head):
    half = len(q) // 2
    return attention(q[:half], keys, values, 1) + attention(q[half:], keys, values, 1)
''',
    ],
    "ex04_5_masked_attention": [
        # -100 instead of -inf: enough for small scores, not for large ones
        masked(masked="-100.0"),
    ],
}
