"""Plausible wrong answers to the exercises of chapter 04; each must fail its check."""

WRONG = {
    "ex04_1_attn_logits": [
        # missing scale
        '''def attn_logits(q, keys):
    return [sum(qj * kj for qj, kj in zip(q, k)) for k in keys]
''',
        # divided by head_dim, not by its square root
        '''def attn_logits(q, keys):
    head_dim = len(q)
    return [sum(qj * kj for qj, kj in zip(q, k)) / head_dim for k in keys]
''',
        # scaled by the number of keys
        '''def attn_logits(q, keys):
    return [sum(qj * kj for qj, kj in zip(q, k)) / len(keys) ** 0.5 for k in keys]
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
    return [sum(scores[t] * values[t][j] for t in range(len(values))) for j in range(head_dim)]
''',
        # missing scale
        '''def attention_head(q, keys, values):
    scores = [sum(qj * kj for qj, kj in zip(q, k)) for k in keys]
    attn_weights = nn.softmax(scores)
    return [sum(attn_weights[t] * values[t][j] for t in range(len(values))) for j in range(len(values[0]))]
''',
    ],
    "ex04_3_causal_attention": [
        # not causal: every position attends to the whole sequence
        '''def causal_attention(qs, ks, vs):
    return [attention(q, ks, vs, 1) for q in qs]
''',
        # off by one: attends before appending, so position 0 has an empty cache
        '''def causal_attention(qs, ks, vs):
    cache_keys, cache_values, outputs = [], [], []
    for q, k, v in zip(qs, ks, vs):
        outputs.append(attention(q, cache_keys, cache_values, 1))
        cache_keys.append(k)
        cache_values.append(v)
    return outputs
''',
        # the cache emptied at every position: each attends only to itself
        '''def causal_attention(qs, ks, vs):
    outputs = []
    for q, k, v in zip(qs, ks, vs):
        outputs.append(attention(q, [k], [v], 1))
    return outputs
''',
    ],
    "ex04_4_multi_head": [
        # interleaved slices (q[h::n_head]) instead of contiguous ones
        '''def multi_head(q, keys, values, n_head):
    out = []
    for h in range(n_head):
        q_h = q[h::n_head]
        k_h = [k[h::n_head] for k in keys]
        v_h = [v[h::n_head] for v in values]
        out.extend(attention(q_h, k_h, v_h, 1))
    return out
''',
        # only the query sliced: every head sees the start of the keys and values
        '''def multi_head(q, keys, values, n_head):
    head_dim = len(q) // n_head
    out = []
    for h in range(n_head):
        hs = h * head_dim
        q_h = q[hs : hs + head_dim]
        out.extend(attention(q_h, keys, values, 1)[:head_dim])
    return out
''',
        # wrong stride: slices start at h * n_head
        '''def multi_head(q, keys, values, n_head):
    head_dim = len(q) // n_head
    out = []
    for h in range(n_head):
        hs = h * n_head
        q_h = q[hs : hs + head_dim]
        k_h = [k[hs : hs + head_dim] for k in keys]
        v_h = [v[hs : hs + head_dim] for v in values]
        out.extend(attention(q_h, k_h, v_h, 1))
    return out
''',
        # append instead of extend: a list of per-head lists
        '''def multi_head(q, keys, values, n_head):
    head_dim = len(q) // n_head
    out = []
    for h in range(n_head):
        hs = h * head_dim
        q_h = q[hs : hs + head_dim]
        k_h = [k[hs : hs + head_dim] for k in keys]
        v_h = [v[hs : hs + head_dim] for v in values]
        out.append(attention(q_h, k_h, v_h, 1))
    return out
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
        '''def masked_attention(qs, ks, vs):
    head_dim = len(qs[0])
    outputs = []
    for t, q in enumerate(qs):
        scores = [
            sum(qj * kj for qj, kj in zip(q, k)) / head_dim**0.5 if s < t else Value(float("-inf"))
            for s, k in enumerate(ks)
        ]
        attn_weights = nn.softmax(scores)
        outputs.append([sum(attn_weights[s] * vs[s][j] for s in range(len(vs))) for j in range(head_dim)])
    return outputs
''',
        # the mask the wrong way round: the past hidden, the future seen
        '''def masked_attention(qs, ks, vs):
    head_dim = len(qs[0])
    outputs = []
    for t, q in enumerate(qs):
        scores = [
            sum(qj * kj for qj, kj in zip(q, k)) / head_dim**0.5 if s >= t else Value(float("-inf"))
            for s, k in enumerate(ks)
        ]
        attn_weights = nn.softmax(scores)
        outputs.append([sum(attn_weights[s] * vs[s][j] for s in range(len(vs))) for j in range(head_dim)])
    return outputs
''',
        # missing scale
        '''def masked_attention(qs, ks, vs):
    head_dim = len(qs[0])
    outputs = []
    for t, q in enumerate(qs):
        scores = [
            sum(qj * kj for qj, kj in zip(q, k)) if s <= t else Value(float("-inf"))
            for s, k in enumerate(ks)
        ]
        attn_weights = nn.softmax(scores)
        outputs.append([sum(attn_weights[s] * vs[s][j] for s in range(len(vs))) for j in range(head_dim)])
    return outputs
''',
    ],
}
