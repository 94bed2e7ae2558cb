"""Plausible wrong answers to the exercises of chapter 07; each must fail its check."""

WRONG = {
    "ex07_1_share_in_data": [
        # repeats counted once
        '''def share_in_data(names, docs):
    known = set(docs)
    unique = set(names)
    return sum(name in known for name in unique) / len(unique)
''',
        # a name that is part of a document counts
        '''def share_in_data(names, docs):
    return sum(any(name in doc for doc in docs) for name in names) / len(names)
''',
        # the share of new names instead
        '''def share_in_data(names, docs):
    known = set(docs)
    return sum(name not in known for name in names) / len(names)
''',
    ],
    "ex07_2_probs_at_temperature": [
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
    "ex07_3_top_k_filter": [
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
