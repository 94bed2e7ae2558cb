"""Plausible wrong answers to the exercises of chapter 07.

WRONG: each must fail its check cell, hidden cases included.
HIDDEN_ONLY: each passes the visible check and fails only because of the hidden cases.
"""

WRONG = {
    "ex07_1_probs_at_temperature": [
        # multiplied by the temperature
        '''def probs_at_temperature(logits, temperature):
    scaled = [z * temperature for z in logits]
    top = max(scaled)
    exps = [math.exp(s - top) for s in scaled]
    total = sum(exps)
    return [e / total for e in exps]
''',
        # the max not subtracted: exp(1000) overflows
        '''def probs_at_temperature(logits, temperature):
    exps = [math.exp(z / temperature) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]
''',
        # not normalised
        '''def probs_at_temperature(logits, temperature):
    scaled = [z / temperature for z in logits]
    top = max(scaled)
    return [math.exp(s - top) for s in scaled]
''',
        # the temperature ignored
        '''def probs_at_temperature(logits, temperature):
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]
''',
    ],
    "ex07_2_top_k_filter": [
        # not renormalised
        '''def top_k_filter(probs, k):
    kept = sorted(range(len(probs)), key=lambda i: probs[i], reverse=True)[:k]
    return [probs[i] if i in kept else 0.0 for i in range(len(probs))]
''',
        # the k least likely kept
        '''def top_k_filter(probs, k):
    kept = sorted(range(len(probs)), key=lambda i: probs[i])[:k]
    total = sum(probs[i] for i in kept)
    return [probs[i] / total if i in kept else 0.0 for i in range(len(probs))]
''',
        # off by one: k - 1 kept
        '''def top_k_filter(probs, k):
    kept = sorted(range(len(probs)), key=lambda i: probs[i], reverse=True)[: k - 1]
    total = sum(probs[i] for i in kept)
    return [probs[i] / total if i in kept else 0.0 for i in range(len(probs))]
''',
        # the kept probabilities sorted to the front: their token ids are lost
        '''def top_k_filter(probs, k):
    kept = sorted(probs, reverse=True)[:k]
    total = sum(kept)
    return [p / total for p in kept] + [0.0] * (len(probs) - k)
''',
    ],
    "ex07_3_top_p_filter": [
        # the token that crosses p left out
        '''def top_p_filter(probs, p):
    kept, total = [], 0.0
    for i in sorted(range(len(probs)), key=lambda i: probs[i], reverse=True):
        if total + probs[i] > p:
            break
        kept.append(i)
        total += probs[i]
    return [probs[i] / total if i in kept else 0.0 for i in range(len(probs))]
''',
        # not renormalised
        '''def top_p_filter(probs, p):
    kept, total = [], 0.0
    for i in sorted(range(len(probs)), key=lambda i: probs[i], reverse=True):
        if total >= p:
            break
        kept.append(i)
        total += probs[i]
    return [probs[i] if i in kept else 0.0 for i in range(len(probs))]
''',
        # the positions in their own order, not sorted by probability
        '''def top_p_filter(probs, p):
    kept, total = [], 0.0
    for i in range(len(probs)):
        if total >= p:
            break
        kept.append(i)
        total += probs[i]
    return [probs[i] / total if i in kept else 0.0 for i in range(len(probs))]
''',
        # every token at least p kept: a threshold on each probability, not on their sum
        '''def top_p_filter(probs, p):
    kept = [i for i in range(len(probs)) if probs[i] >= 1 - p]
    total = sum(probs[i] for i in kept)
    return [probs[i] / total if i in kept else 0.0 for i in range(len(probs))]
''',
    ],
    "ex07_4_greedy_name": [
        # off by one: one position short of block_size
        '''def greedy_name(model, tokenizer):
    keys, values = model.empty_cache()
    token_id, chars = tokenizer.BOS, []
    for pos_id in range(model.config.block_size - 1):
        logits = model(token_id, pos_id, keys, values)
        token_id = max(range(tokenizer.vocab_size), key=lambda i: logits[i].data)
        if token_id == tokenizer.BOS:
            break
        chars.append(tokenizer.uchars[token_id])
    return "".join(chars)
''',
        # the least likely token: min for max
        '''def greedy_name(model, tokenizer):
    keys, values = model.empty_cache()
    token_id, chars = tokenizer.BOS, []
    for pos_id in range(model.config.block_size):
        logits = model(token_id, pos_id, keys, values)
        token_id = min(range(tokenizer.vocab_size), key=lambda i: logits[i].data)
        if token_id == tokenizer.BOS:
            break
        chars.append(tokenizer.uchars[token_id])
    return "".join(chars)
''',
        # started from token 0 ('a') instead of BOS
        '''def greedy_name(model, tokenizer):
    keys, values = model.empty_cache()
    token_id, chars = 0, []
    for pos_id in range(model.config.block_size):
        logits = model(token_id, pos_id, keys, values)
        token_id = max(range(tokenizer.vocab_size), key=lambda i: logits[i].data)
        if token_id == tokenizer.BOS:
            break
        chars.append(tokenizer.uchars[token_id])
    return "".join(chars)
''',
        # a fresh cache at every position: the model forgets what it wrote
        '''def greedy_name(model, tokenizer):
    token_id, chars = tokenizer.BOS, []
    for pos_id in range(model.config.block_size):
        keys, values = model.empty_cache()
        logits = model(token_id, pos_id, keys, values)
        token_id = max(range(tokenizer.vocab_size), key=lambda i: logits[i].data)
        if token_id == tokenizer.BOS:
            break
        chars.append(tokenizer.uchars[token_id])
    return "".join(chars)
''',
    ],
    "ex07_5_sample_top_k": [
        # no filter at all: every token can be drawn
        '''def sample_top_k(model, tokenizer, rng, k, temperature=1.0):
    keys, values = model.empty_cache()
    token_id, chars = tokenizer.BOS, []
    for pos_id in range(model.config.block_size):
        probs = [p.data for p in next_token_probs(model, token_id, pos_id, keys, values, temperature)]
        token_id = rng.choices(range(tokenizer.vocab_size), weights=probs)[0]
        if token_id == tokenizer.BOS:
            break
        chars.append(tokenizer.uchars[token_id])
    return "".join(chars)
''',
        # the temperature forgotten
        '''def sample_top_k(model, tokenizer, rng, k, temperature=1.0):
    keys, values = model.empty_cache()
    token_id, chars = tokenizer.BOS, []
    for pos_id in range(model.config.block_size):
        probs = [p.data for p in next_token_probs(model, token_id, pos_id, keys, values)]
        kept = sorted(range(len(probs)), key=lambda i: probs[i], reverse=True)[:k]
        weights = [probs[i] if i in kept else 0.0 for i in range(len(probs))]
        token_id = rng.choices(range(tokenizer.vocab_size), weights=weights)[0]
        if token_id == tokenizer.BOS:
            break
        chars.append(tokenizer.uchars[token_id])
    return "".join(chars)
''',
        # off by one: k + 1 tokens kept
        '''def sample_top_k(model, tokenizer, rng, k, temperature=1.0):
    keys, values = model.empty_cache()
    token_id, chars = tokenizer.BOS, []
    for pos_id in range(model.config.block_size):
        probs = [p.data for p in next_token_probs(model, token_id, pos_id, keys, values, temperature)]
        kept = sorted(range(len(probs)), key=lambda i: probs[i], reverse=True)[: k + 1]
        weights = [probs[i] if i in kept else 0.0 for i in range(len(probs))]
        token_id = rng.choices(range(tokenizer.vocab_size), weights=weights)[0]
        if token_id == tokenizer.BOS:
            break
        chars.append(tokenizer.uchars[token_id])
    return "".join(chars)
''',
        # drawn among the kept ids by position in the sorted list, not by token id
        '''def sample_top_k(model, tokenizer, rng, k, temperature=1.0):
    keys, values = model.empty_cache()
    token_id, chars = tokenizer.BOS, []
    for pos_id in range(model.config.block_size):
        probs = [p.data for p in next_token_probs(model, token_id, pos_id, keys, values, temperature)]
        top = sorted(probs, reverse=True)[:k]
        token_id = rng.choices(range(len(top)), weights=top)[0]
        if token_id == tokenizer.BOS:
            break
        chars.append(tokenizer.uchars[token_id])
    return "".join(chars)
''',
    ],
}

HIDDEN_ONLY = {
    "ex07_1_probs_at_temperature": [
        # the max not subtracted: exp overflows on large scaled logits
        '''def probs_at_temperature(logits, temperature):
    exps = [math.exp(z / temperature) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]
''',
    ],
    "ex07_2_top_k_filter": [
        # positions found with probs.index: equal probabilities all map to the first of them
        '''def top_k_filter(probs, k):
    kept = [probs.index(p) for p in sorted(probs, reverse=True)[:k]]
    total = sum(probs[i] for i in kept)
    return [probs[i] / total if i in kept else 0.0 for i in range(len(probs))]
''',
    ],
    "ex07_3_top_p_filter": [
        # positions found with probs.index: equal probabilities all map to the first of them
        '''def top_p_filter(probs, p):
    kept, total = [], 0.0
    for q in sorted(probs, reverse=True):
        if total >= p:
            break
        kept.append(probs.index(q))
        total += q
    return [probs[i] / total if i in kept else 0.0 for i in range(len(probs))]
''',
    ],
    "ex07_4_greedy_name": [
        # no limit of block_size: right while the model ends its names, a crash when it never does
        '''def greedy_name(model, tokenizer):
    keys, values = model.empty_cache()
    token_id, chars, pos_id = tokenizer.BOS, [], 0
    while True:
        logits = model(token_id, pos_id, keys, values)
        token_id = max(range(tokenizer.vocab_size), key=lambda i: logits[i].data)
        if token_id == tokenizer.BOS:
            break
        chars.append(tokenizer.uchars[token_id])
        pos_id += 1
    return "".join(chars)
''',
    ],
    "ex07_5_sample_top_k": [
        # no limit of block_size: right while the model ends its names, a crash when it never does
        '''def sample_top_k(model, tokenizer, rng, k, temperature=1.0):
    keys, values = model.empty_cache()
    token_id, chars, pos_id = tokenizer.BOS, [], 0
    while True:
        probs = [p.data for p in next_token_probs(model, token_id, pos_id, keys, values, temperature)]
        kept = sorted(range(len(probs)), key=lambda i: probs[i], reverse=True)[:k]
        weights = [probs[i] if i in kept else 0.0 for i in range(len(probs))]
        token_id = rng.choices(range(tokenizer.vocab_size), weights=weights)[0]
        if token_id == tokenizer.BOS:
            break
        chars.append(tokenizer.uchars[token_id])
        pos_id += 1
    return "".join(chars)
''',
    ],
}
