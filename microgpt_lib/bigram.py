"""The bigram model: the next character from counts of the one before. The baseline to beat."""
import math


def bigram_counts(docs, tokenizer):
    """counts[a][b]: how often token b follows token a, over every document with BOS at both ends."""
    counts = [[0] * tokenizer.vocab_size for _ in range(tokenizer.vocab_size)]
    for doc in docs:
        tokens = tokenizer.tokenize(doc)
        for a, b in zip(tokens, tokens[1:]):
            counts[a][b] += 1
    return counts


def bigram_probs(counts, smoothing=1):
    """Each row of counts (plus `smoothing`, so nothing has probability 0) divided by its sum."""
    probs = []
    for row in counts:
        total = sum(row) + smoothing * len(row)
        probs.append([(c + smoothing) / total for c in row])
    return probs


def bigram_loss(docs, tokenizer, probs):
    """The average negative log-likelihood per predicted character of `docs` under `probs`."""
    total, n = 0.0, 0
    for doc in docs:
        tokens = tokenizer.tokenize(doc)
        for a, b in zip(tokens, tokens[1:]):
            total -= math.log(probs[a][b])
            n += 1
    return total / n
