"""Plausible wrong answers to the exercises of chapter 01; each must fail its check."""

WRONG = {
    "ex01_1_vocab": [
        # repeats kept: every character of every name
        '''def build_vocab(docs):
    """The sorted list of the distinct characters of `docs`."""
    return sorted("".join(docs))
''',
        # only the first document's characters
        '''def build_vocab(docs):
    """The sorted list of the distinct characters of `docs`."""
    return sorted(set(docs[0]))
''',
        # not sorted: the order of first appearance
        '''def build_vocab(docs):
    """The sorted list of the distinct characters of `docs`."""
    return list(dict.fromkeys("".join(docs)))
''',
    ],
    "ex01_2_tokenize": [
        # BOS only at the start
        '''def tokenize(doc, uchars):
    BOS = len(uchars)
    return [BOS] + [uchars.index(ch) for ch in doc]


def detokenize(tokens, uchars):
    BOS = len(uchars)
    return "".join(uchars[token_id] for token_id in tokens if token_id != BOS)
''',
        # off by one: BOS collides with the last character
        '''def tokenize(doc, uchars):
    BOS = len(uchars) - 1
    return [BOS] + [uchars.index(ch) for ch in doc] + [BOS]


def detokenize(tokens, uchars):
    BOS = len(uchars) - 1
    return "".join(uchars[token_id] for token_id in tokens if token_id != BOS)
''',
        # detokenize drops the first and last token instead of every BOS
        '''def tokenize(doc, uchars):
    BOS = len(uchars)
    return [BOS] + [uchars.index(ch) for ch in doc] + [BOS]


def detokenize(tokens, uchars):
    return "".join(uchars[token_id] for token_id in tokens[1:-1])
''',
    ],
    "ex01_3_encode": [
        # unknown characters silently skipped
        '''def encode(text, uchars):
    return [uchars.index(ch) for ch in text if ch in uchars]
''',
        # positions counted from 1
        '''def encode(text, uchars):
    ids = []
    for pos, ch in enumerate(text, start=1):
        if ch not in uchars:
            raise ValueError(f"unknown character {ch!r} at position {pos} of {text!r}")
        ids.append(uchars.index(ch))
    return ids
''',
        # a bare KeyError from a dict lookup, which names neither the position nor the way out
        '''def encode(text, uchars):
    ids_of = {ch: i for i, ch in enumerate(uchars)}
    return [ids_of[ch] for ch in text]
''',
    ],
    "ex01_4_count_pairs": [
        # [[0] * n] * n: every row is the same list
        '''def count_pairs(docs, tokenizer):
    n = tokenizer.vocab_size
    counts = [[0] * n] * n
    for doc in docs:
        tokens = tokenizer.tokenize(doc)
        for a, b in zip(tokens, tokens[1:]):
            counts[a][b] += 1
    return counts
''',
        # forgot BOS: encode instead of tokenize
        '''def count_pairs(docs, tokenizer):
    n = tokenizer.vocab_size
    counts = [[0] * n for _ in range(n)]
    for doc in docs:
        tokens = tokenizer.encode(doc)
        for a, b in zip(tokens, tokens[1:]):
            counts[a][b] += 1
    return counts
''',
        # off by one: pairs two apart
        '''def count_pairs(docs, tokenizer):
    n = tokenizer.vocab_size
    counts = [[0] * n for _ in range(n)]
    for doc in docs:
        tokens = tokenizer.tokenize(doc)
        for a, b in zip(tokens, tokens[2:]):
            counts[a][b] += 1
    return counts
''',
    ],
    "ex01_5_bigram_nll": [
        # averaged per document, not per predicted token
        '''import math


def bigram_nll(docs, tokenizer, probs):
    total = 0.0
    for doc in docs:
        tokens = tokenizer.tokenize(doc)
        for a, b in zip(tokens, tokens[1:]):
            total -= math.log(probs[a][b])
    return total / len(docs)
''',
        # sign error: the log-likelihood, not its negative
        '''import math


def bigram_nll(docs, tokenizer, probs):
    total, n = 0.0, 0
    for doc in docs:
        tokens = tokenizer.tokenize(doc)
        for a, b in zip(tokens, tokens[1:]):
            total += math.log(probs[a][b])
            n += 1
    return total / n
''',
        # forgot the final prediction of BOS (the end of the name)
        '''import math


def bigram_nll(docs, tokenizer, probs):
    total, n = 0.0, 0
    for doc in docs:
        tokens = tokenizer.tokenize(doc)[:-1]
        for a, b in zip(tokens, tokens[1:]):
            total -= math.log(probs[a][b])
            n += 1
    return total / n
''',
        # probs[b][a]: the table read the wrong way round
        '''import math


def bigram_nll(docs, tokenizer, probs):
    total, n = 0.0, 0
    for doc in docs:
        tokens = tokenizer.tokenize(doc)
        for a, b in zip(tokens, tokens[1:]):
            total -= math.log(probs[b][a])
            n += 1
    return total / n
''',
    ],
}
