"""Plausible wrong answers to the exercises of chapter 12: each must fail its check (WRONG), and
HIDDEN_ONLY: each passes the visible check and fails only because of the hidden cases."""

WRONG = {
    "ex12_1_recount": [
        # counts the merged document's pairs on top of the old ones, never taking the old ones away
        '''def recount(counts, ids, pair, new_id):
    merged = bpe.merge(ids, pair, new_id)
    counts.update(zip(merged, merged[1:]))
    return merged
''',
        # takes away only the merged pair's occurrences: the neighbours' old pairs stay counted
        '''def recount(counts, ids, pair, new_id):
    merged = bpe.merge(ids, pair, new_id)
    counts[pair] -= len(ids) - len(merged)
    new_pairs = [p for p in zip(merged, merged[1:]) if new_id in p]
    counts.update(new_pairs)
    if counts[pair] <= 0:
        del counts[pair]
    return merged
''',
        # a new Counter returned in place of the document; counts left as they were
        '''def recount(counts, ids, pair, new_id):
    merged = bpe.merge(ids, pair, new_id)
    return bpe.count_pairs([merged])
''',
        # updates a copy: the caller's counts never change
        '''def recount(counts, ids, pair, new_id):
    counts = collections.Counter(counts)
    merged = bpe.merge(ids, pair, new_id)
    counts.subtract(zip(ids, ids[1:]))
    counts.update(zip(merged, merged[1:]))
    return merged
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
    "ex12_4_splits": [
        # one token per position only: the characters, never the longer tokens
        '''def splits(text, vocab):
    if all(ch in vocab for ch in text):
        return [list(text)]
    return []
''',
        # greedy: only the longest token at each position, one split
        '''def splits(text, vocab):
    split = []
    while text:
        fits = [t for t in vocab if text.startswith(t)]
        if not fits:
            return []
        token = max(fits, key=len)
        split.append(token)
        text = text[len(token):]
    return [split]
''',
        # the empty text has no split, so nothing is ever completed
        '''def splits(text, vocab):
    if text == "":
        return []
    return [[token] + rest for token in vocab if text.startswith(token) for rest in splits(text[len(token):], vocab)]
''',
        # the characters always allowed, even when they are not tokens of the vocabulary
        '''def splits(text, vocab):
    if text == "":
        return [[]]
    tokens = set(vocab) | {text[0]}
    return [[token] + rest for token in tokens if text.startswith(token) for rest in splits(text[len(token):], vocab)]
''',
    ],
    "ex12_5_exact_name_nll": [
        # the losses of the splits added, not their probabilities
        '''def exact_name_nll(model, tokenizer, name):
    token_lists = [[tokenizer.BOS] + ids + [tokenizer.BOS] for ids in segmentations(name, tokenizer)]
    return float(sequence_nll(model, token_lists).sum())
''',
        # the likeliest split only
        '''def exact_name_nll(model, tokenizer, name):
    token_lists = [[tokenizer.BOS] + ids + [tokenizer.BOS] for ids in segmentations(name, tokenizer)]
    return float(sequence_nll(model, token_lists).min())
''',
        # the encoder's split only (what evaluate scores)
        '''def exact_name_nll(model, tokenizer, name):
    return float(sequence_nll(model, [tokenizer.tokenize(name)])[0])
''',
        # the closing BOS left out: the name is never finished
        '''def exact_name_nll(model, tokenizer, name):
    token_lists = [[tokenizer.BOS] + ids for ids in segmentations(name, tokenizer)]
    nll = sequence_nll(model, token_lists)
    return float(-np.log(np.exp(-nll).sum()))
''',
        # the mean of the probabilities instead of their sum
        '''def exact_name_nll(model, tokenizer, name):
    token_lists = [[tokenizer.BOS] + ids + [tokenizer.BOS] for ids in segmentations(name, tokenizer)]
    nll = sequence_nll(model, token_lists)
    return float(-np.log(np.exp(-nll).mean()))
''',
    ],
}

HIDDEN_ONLY = {
    "ex12_1_recount": [
        # deletes the merged pair when it falls to 0, but not a neighbour pair that falls to 0 too
        '''def recount(counts, ids, pair, new_id):
    merged = bpe.merge(ids, pair, new_id)
    counts.subtract(zip(ids, ids[1:]))
    counts.update(zip(merged, merged[1:]))
    if counts[pair] <= 0:
        del counts[pair]
    return merged
''',
    ],
    "ex12_2_merge": [
        # the text as characters: an id above 9 is two characters
        '''def merge(ids, pair, new_id):
    text = "".join(map(str, ids)).replace(f"{pair[0]}{pair[1]}", "#")
    return [new_id if ch == "#" else int(ch) for ch in text]
''',
    ],
    "ex12_3_encode_with_merges": [
        # a character's id as its distance from 'a': right only when uchars is a, b, c, ... with no gap
        '''def encode_with_merges(text, uchars, merges):
    ids = [ord(ch) - ord("a") for ch in text]
    for k, pair in enumerate(merges):
        ids = bpe.merge(ids, pair, len(uchars) + k)
    return ids
''',
    ],
    "ex12_4_splits": [
        # tokens of one or two characters only: the visible vocabularies have no longer ones
        '''def splits(text, vocab):
    if text == "":
        return [[]]
    return [[text[:n]] + rest for n in (1, 2) if len(text) >= n and text[:n] in vocab
            for rest in splits(text[n:], vocab)]
''',
    ],
    "ex12_5_exact_name_nll": [
        # the sum of exp(-nll) as written: it underflows to 0 when every split is very unlikely
        '''def exact_name_nll(model, tokenizer, name):
    token_lists = [[tokenizer.BOS] + ids + [tokenizer.BOS] for ids in segmentations(name, tokenizer)]
    nll = sequence_nll(model, token_lists)
    with np.errstate(divide="ignore"):
        return float(-np.log(np.exp(-nll).sum()))
''',
    ],
}
