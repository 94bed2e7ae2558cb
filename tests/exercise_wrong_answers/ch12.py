"""Plausible wrong answers to the exercises of chapter 12; each must fail its check."""

WRONG = {
    "ex12_1_count_pairs": [
        # the documents joined into one list: pairs cross from one name to the next
        '''def count_pairs(token_lists):
    ids = [i for doc in token_lists for i in doc]
    return collections.Counter(zip(ids, ids[1:]))
''',
        # overlapping pairs counted once: 'aaa' gives (a, a) once
        '''def count_pairs(token_lists):
    counts = collections.Counter()
    for ids in token_lists:
        i = 0
        while i + 1 < len(ids):
            counts[(ids[i], ids[i + 1])] += 1
            i += 2 if ids[i] == ids[i + 1] else 1
    return counts
''',
        # the documents that hold a pair, not its occurrences
        '''def count_pairs(token_lists):
    counts = collections.Counter()
    for ids in token_lists:
        counts.update(set(zip(ids, ids[1:])))
    return counts
''',
        # the last pair of each document left out
        '''def count_pairs(token_lists):
    counts = collections.Counter()
    for ids in token_lists:
        for i in range(len(ids) - 2):
            counts[(ids[i], ids[i + 1])] += 1
    return counts
''',
    ],
    "ex12_2_merge": [
        # only the first occurrence
        '''def merge(ids, pair, new_id):
    for i in range(len(ids) - 1):
        if (ids[i], ids[i + 1]) == tuple(pair):
            return ids[:i] + [new_id] + ids[i + 2:]
    return list(ids)
''',
        # the last token dropped when it is not part of a pair
        '''def merge(ids, pair, new_id):
    merged, i = [], 0
    while i < len(ids) - 1:
        if ids[i] == pair[0] and ids[i + 1] == pair[1]:
            merged.append(new_id)
            i += 2
        else:
            merged.append(ids[i])
            i += 1
    return merged
''',
        # right to left: 'aaa' becomes a, (aa)
        '''def merge(ids, pair, new_id):
    merged, i = [], len(ids) - 1
    while i >= 0:
        if i >= 1 and ids[i - 1] == pair[0] and ids[i] == pair[1]:
            merged.append(new_id)
            i -= 2
        else:
            merged.append(ids[i])
            i -= 1
    return merged[::-1]
''',
        # moves on by one after a merge, so the second token of the pair is kept too
        '''def merge(ids, pair, new_id):
    merged = []
    for i in range(len(ids)):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            merged.append(new_id)
        elif not (i > 0 and ids[i - 1] == pair[0] and ids[i] == pair[1]):
            merged.append(ids[i])
    return merged
''',
    ],
    "ex12_3_encode_with_merges": [
        # the merges in reverse order (the latest, longest first)
        '''def encode_with_merges(text, uchars, merges):
    ids = [uchars.index(ch) for ch in text]
    for k in reversed(range(len(merges))):
        ids = bpe.merge(ids, merges[k], len(uchars) + k)
    return ids
''',
        # greedy longest match against the vocabulary's strings
        '''def encode_with_merges(text, uchars, merges):
    vocab = list(uchars)
    for a, b in merges:
        vocab.append(vocab[a] + vocab[b])
    ids, i = [], 0
    while i < len(text):
        best = max((t for t in range(len(vocab)) if text.startswith(vocab[t], i)), key=lambda t: len(vocab[t]))
        ids.append(best)
        i += len(vocab[best])
    return ids
''',
        # merge ids counted from len(uchars) + 1 (as if BOS came first)
        '''def encode_with_merges(text, uchars, merges):
    ids = [uchars.index(ch) for ch in text]
    for k, pair in enumerate(merges):
        ids = bpe.merge(ids, pair, len(uchars) + 1 + k)
    return ids
''',
        # each merge applied at its first occurrence only
        '''def encode_with_merges(text, uchars, merges):
    ids = [uchars.index(ch) for ch in text]
    for k, pair in enumerate(merges):
        for i in range(len(ids) - 1):
            if (ids[i], ids[i + 1]) == tuple(pair):
                ids = ids[:i] + [len(uchars) + k] + ids[i + 2:]
                break
    return ids
''',
    ],
    "ex12_4_learn_merges": [
        # ties go to the pair seen first (minbpe's rule), not the smallest
        '''def learn_merges(docs, num_merges):
    uchars = sorted(set("".join(docs)))
    token_lists = [[uchars.index(ch) for ch in doc] for doc in docs]
    merges = []
    for k in range(num_merges):
        counts = bpe.count_pairs(token_lists)
        pair = max(counts, key=counts.get)
        token_lists = [bpe.merge(ids, pair, len(uchars) + k) for ids in token_lists]
        merges.append(pair)
    return merges
''',
        # the names joined into one text: pairs across two names count
        '''def learn_merges(docs, num_merges):
    uchars = sorted(set("".join(docs)))
    ids = [uchars.index(ch) for ch in "".join(docs)]
    merges = []
    for k in range(num_merges):
        pair = bpe.most_frequent(bpe.count_pairs([ids]))
        ids = bpe.merge(ids, pair, len(uchars) + k)
        merges.append(pair)
    return merges
''',
        # every round counted on the original characters: the merges are never applied
        '''def learn_merges(docs, num_merges):
    uchars = sorted(set("".join(docs)))
    token_lists = [[uchars.index(ch) for ch in doc] for doc in docs]
    counts = bpe.count_pairs(token_lists)
    ranked = sorted(counts, key=lambda p: (-counts[p], p))
    return ranked[:num_merges]
''',
        # characters in order of first appearance, not sorted
        '''def learn_merges(docs, num_merges):
    uchars = list(dict.fromkeys("".join(docs)))
    token_lists = [[uchars.index(ch) for ch in doc] for doc in docs]
    merges = []
    for k in range(num_merges):
        pair = bpe.most_frequent(bpe.count_pairs(token_lists))
        token_lists = [bpe.merge(ids, pair, len(uchars) + k) for ids in token_lists]
        merges.append(pair)
    return merges
''',
    ],
    "ex12_5_loss_per_char": [
        # per token: divided by the number of predictions
        '''def loss_per_char(model, tokenizer, docs):
    total_nll, total_predictions = 0.0, 0
    for doc in docs:
        tokens = tokenizer.tokenize(doc)
        logits = model(np.array([tokens[:-1]])).data[0]
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        total_nll -= log_probs[np.arange(len(tokens) - 1), tokens[1:]].sum()
        total_predictions += len(tokens) - 1
    return float(total_nll / total_predictions)
''',
        # the closing BOS left out of the characters
        '''def loss_per_char(model, tokenizer, docs):
    total_nll, total_chars = 0.0, 0
    for doc in docs:
        tokens = tokenizer.tokenize(doc)
        logits = model(np.array([tokens[:-1]])).data[0]
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        total_nll -= log_probs[np.arange(len(tokens) - 1), tokens[1:]].sum()
        total_chars += len(doc)
    return float(total_nll / total_chars)
''',
        # the mean over documents of each document's loss per character
        '''def loss_per_char(model, tokenizer, docs):
    per_doc = []
    for doc in docs:
        tokens = tokenizer.tokenize(doc)
        logits = model(np.array([tokens[:-1]])).data[0]
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        per_doc.append(-log_probs[np.arange(len(tokens) - 1), tokens[1:]].sum() / (len(doc) + 1))
    return float(sum(per_doc) / len(per_doc))
''',
        # the prediction of the closing BOS left out
        '''def loss_per_char(model, tokenizer, docs):
    total_nll, total_chars = 0.0, 0
    for doc in docs:
        tokens = tokenizer.tokenize(doc)
        logits = model(np.array([tokens[:-1]])).data[0]
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        total_nll -= log_probs[np.arange(len(tokens) - 2), tokens[1:-1]].sum()
        total_chars += len(doc) + 1
    return float(total_nll / total_chars)
''',
    ],
}
