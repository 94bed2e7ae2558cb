"""Plausible wrong answers to the exercises of chapter 01: each of WRONG must fail its check cell (hidden
cases included); each of HIDDEN_ONLY must pass the visible check and fail the hidden cases."""

WRONG = {
    "ex01_1_tokenize": [
        # BOS at the start only: the model could never learn where a name ends
        '''def tokenize(doc, uchars):
    return [len(uchars)] + [uchars.index(ch) for ch in doc]


def detokenize(tokens, uchars):
    return "".join(uchars[t] for t in tokens if t != len(uchars))
''',
        # BOS taken as 0, the id of "a"
        '''def tokenize(doc, uchars):
    return [0] + [uchars.index(ch) for ch in doc] + [0]


def detokenize(tokens, uchars):
    return "".join(uchars[t] for t in tokens if t != 0)
''',
        # detokenize drops only the first and the last token: a BOS in the middle stays and fails
        '''def tokenize(doc, uchars):
    return [len(uchars)] + [uchars.index(ch) for ch in doc] + [len(uchars)]


def detokenize(tokens, uchars):
    return "".join(uchars[t] for t in tokens[1:-1])
''',
    ],
    "ex01_2_doubled": [
        # names that hold a double, not the doubles: "anna" and "annabella" count once each
        '''def doubled_letters(docs):
    counts = Counter()
    for doc in docs:
        for ch in set(doc):
            if ch + ch in doc:
                counts[ch] += 1
    return dict(counts)
''',
        # every pair counted, equal or not: the bigram counts of the first letter
        '''def doubled_letters(docs):
    counts = Counter()
    for doc in docs:
        for a, b in zip(doc, doc[1:]):
            counts[a] += 1
    return dict(counts)
''',
        # the second letter of a pair compared with the first of the name
        '''def doubled_letters(docs):
    counts = Counter()
    for doc in docs:
        for b in doc[1:]:
            if b == doc[0]:
                counts[b] += 1
    return dict(counts)
''',
    ],
    "ex01_3_entropy": [
        # bits, not nats
        '''def entropy(counts):
    total = sum(counts)
    return -sum(c / total * math.log2(c / total) for c in counts if c > 0)
''',
        # the counts used as probabilities: never divided by their total
        '''def entropy(counts):
    return -sum(c * math.log(c) for c in counts if c > 0)
''',
        # the sign forgotten
        '''def entropy(counts):
    total = sum(counts)
    return sum(c / total * math.log(c / total) for c in counts if c > 0)
''',
    ],
    "ex01_4_conditional_entropy": [
        # a plain mean of the rows' entropies: every token weighs the same, however rare
        '''def conditional_entropy(counts):
    rows = [row for row in counts if sum(row) > 0]
    h = 0.0
    for row in rows:
        n_a = sum(row)
        h -= sum(c / n_a * math.log(c / n_a) for c in row if c > 0)
    return h / len(rows)
''',
        # each cell divided by the grand total, not by its row's: the entropy of the pairs, not of the next token
        '''def conditional_entropy(counts):
    N = sum(sum(row) for row in counts)
    return -sum(c / N * math.log(c / N) for row in counts for c in row if c > 0)
''',
        # divided by the number of rows instead of the number of pairs
        '''def conditional_entropy(counts):
    total = 0.0
    for row in counts:
        n_a = sum(row)
        for c in row:
            if c > 0:
                total -= c * math.log(c / n_a)
    return total / len(counts)
''',
    ],
    "ex01_5_trigram": [
        # one BOS in front: the first letter of every name is never predicted
        '''def trigram_nll(train_docs, eval_docs, tokenizer, smoothing=1.0):
    triples, contexts = Counter(), Counter()
    for doc in train_docs:
        tokens = tokenizer.tokenize(doc)
        for a, b, c in zip(tokens, tokens[1:], tokens[2:]):
            triples[a, b, c] += 1
            contexts[a, b] += 1
    total, n = 0.0, 0
    for doc in eval_docs:
        tokens = tokenizer.tokenize(doc)
        for a, b, c in zip(tokens, tokens[1:], tokens[2:]):
            total -= math.log((triples[a, b, c] + smoothing) / (contexts[a, b] + smoothing * tokenizer.vocab_size))
            n += 1
    return total / n
''',
        # smoothing added on top only: the probabilities of a context no longer sum to 1
        '''def trigram_nll(train_docs, eval_docs, tokenizer, smoothing=1.0):
    triples, contexts = Counter(), Counter()
    for doc in train_docs:
        tokens = [tokenizer.BOS] + tokenizer.tokenize(doc)
        for a, b, c in zip(tokens, tokens[1:], tokens[2:]):
            triples[a, b, c] += 1
            contexts[a, b] += 1
    total, n = 0.0, 0
    for doc in eval_docs:
        tokens = [tokenizer.BOS] + tokenizer.tokenize(doc)
        for a, b, c in zip(tokens, tokens[1:], tokens[2:]):
            total -= math.log((triples[a, b, c] + smoothing) / (contexts[a, b] + smoothing))
            n += 1
    return total / n
''',
        # counted on the evaluation names: the model has seen the answers
        '''def trigram_nll(train_docs, eval_docs, tokenizer, smoothing=1.0):
    triples, contexts = Counter(), Counter()
    for doc in eval_docs:
        tokens = [tokenizer.BOS] + tokenizer.tokenize(doc)
        for a, b, c in zip(tokens, tokens[1:], tokens[2:]):
            triples[a, b, c] += 1
            contexts[a, b] += 1
    total, n = 0.0, 0
    for doc in eval_docs:
        tokens = [tokenizer.BOS] + tokenizer.tokenize(doc)
        for a, b, c in zip(tokens, tokens[1:], tokens[2:]):
            total -= math.log((triples[a, b, c] + smoothing) / (contexts[a, b] + smoothing * tokenizer.vocab_size))
            n += 1
    return total / n
''',
    ],
}

HIDDEN_ONLY = {
    "ex01_1_tokenize": [
        # BOS written as 26, the number of letters: right for the 26 letters only
        '''def tokenize(doc, uchars):
    return [26] + [uchars.index(ch) for ch in doc] + [26]


def detokenize(tokens, uchars):
    return "".join(uchars[t] for t in tokens if t != 26)
''',
    ],
    "ex01_2_doubled": [
        # str.count does not overlap: "aaa" holds "aa" once for it, twice as neighbours
        '''def doubled_letters(docs):
    counts = Counter()
    for doc in docs:
        for ch in set(doc):
            if doc.count(ch + ch):
                counts[ch] += doc.count(ch + ch)
    return dict(counts)
''',
    ],
    "ex01_3_entropy": [
        # 27 written in: right for the rows of the bigram table, an IndexError on a shorter list
        '''def entropy(counts):
    total = sum(counts)
    return -sum(counts[i] / total * math.log(counts[i] / total) for i in range(27) if counts[i] > 0)
''',
    ],
    "ex01_4_conditional_entropy": [
        # every row turned into probabilities first: a row of zeros divides by 0
        '''def conditional_entropy(counts):
    N = sum(sum(row) for row in counts)
    h = 0.0
    for row in counts:
        n_a = sum(row)
        probs = [c / n_a for c in row]
        h -= n_a / N * sum(p * math.log(p) for p in probs if p > 0)
    return h
''',
    ],
    "ex01_5_trigram": [
        # the smoothing argument ignored: add-one always
        '''def trigram_nll(train_docs, eval_docs, tokenizer, smoothing=1.0):
    triples, contexts = Counter(), Counter()
    for doc in train_docs:
        tokens = [tokenizer.BOS] + tokenizer.tokenize(doc)
        for a, b, c in zip(tokens, tokens[1:], tokens[2:]):
            triples[a, b, c] += 1
            contexts[a, b] += 1
    total, n = 0.0, 0
    for doc in eval_docs:
        tokens = [tokenizer.BOS] + tokenizer.tokenize(doc)
        for a, b, c in zip(tokens, tokens[1:], tokens[2:]):
            total -= math.log((triples[a, b, c] + 1) / (contexts[a, b] + tokenizer.vocab_size))
            n += 1
    return total / n
''',
    ],
}
