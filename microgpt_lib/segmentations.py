"""Every way of writing a name in tokens, and the model's exact loss per character (chapter 12).

With subword tokens a name can be written in more ways than one: `anna` is `anna`, or `an|na`, or
`a|n|n|a`, ... The encoder picks one split, but a model trained on subwords gives every split some
probability, and its samples sometimes use another. The model's probability of a name is the sum
over all of its splits, each scored to the closing BOS:

    p(name) = sum over splits s of p(BOS, s_1, ..., s_n, BOS)

`evaluate` (chapter 11) scores the encoder's split only, which is one term of the sum, and so gives
an upper bound on the exact loss. `exact_evaluate` sums them all (with logsumexp, in nats). For a
character vocabulary a name has one split and the two are equal.
"""
import numpy as np

from .batch_train import sequence_nll


def token_strings(tokenizer):
    """The string of every token id below BOS: `vocab` for BPE, the characters for `Tokenizer`."""
    vocab = getattr(tokenizer, "vocab", None)
    return list(tokenizer.uchars if vocab is None else vocab)


def segmentations(text, tokenizer):
    """Every list of token ids (no BOS) whose strings, joined, give `text`; the encoder's is one of them.

    Built right to left: the splits of text[i:] are each token that starts text[i:], followed by a
    split of the rest. A name of n characters has at most 2**(n-1) splits; names have a few dozen.
    """
    strings = token_strings(tokenizer)
    by_first_char = {}
    for token_id, s in enumerate(strings):
        by_first_char.setdefault(s[0], []).append((token_id, s))
    splits_from = [[] for _ in range(len(text))] + [[[]]]  # splits_from[i]: the splits of text[i:]
    for i in range(len(text) - 1, -1, -1):
        for token_id, s in by_first_char.get(text[i], []):
            if text.startswith(s, i):
                splits_from[i] += [[token_id] + rest for rest in splits_from[i + len(s)]]
    if not splits_from[0] and text:
        tokenizer.encode(text)  # raises the tokenizer's own error, which names the unknown character
    return splits_from[0]


def exact_nll(model, tokenizer, docs, batch_size=2000):
    """-log p(doc) for each doc, summed over every split (an array, one number per doc)."""
    token_lists, owner = [], []
    for j, doc in enumerate(docs):
        for ids in segmentations(doc, tokenizer):
            if len(ids) + 1 > model.config.block_size:  # more predictions than the context holds
                raise ValueError(f"{doc!r} has a split of {len(ids) + 1} predictions; "
                                 f"block_size={model.config.block_size} holds fewer")
            token_lists.append([tokenizer.BOS] + ids + [tokenizer.BOS])
            owner.append(j)
    nll = np.concatenate([sequence_nll(model, token_lists[start : start + batch_size])
                          for start in range(0, len(token_lists), batch_size)])
    starts = np.searchsorted(owner, np.arange(len(docs)))  # each doc's splits are consecutive
    num_splits = np.diff(np.append(starts, len(nll)))
    log_probs = -nll
    top = np.maximum.reduceat(log_probs, starts)  # the likeliest split of each doc
    total = np.add.reduceat(np.exp(log_probs - np.repeat(top, num_splits)), starts)
    return -(top + np.log(total))  # -logsumexp over each doc's splits: -log of the summed probability


def exact_evaluate(model, tokenizer, docs, batch_size=2000):
    """The exact negative log-likelihood per character (the closing BOS counted), summed over splits.

    The same measure as `evaluate`, with each name's probability summed over all its splits; equal
    to `evaluate` for a character tokenizer, and never above it for any tokenizer.
    """
    if not docs:
        raise ValueError("no documents to evaluate on")
    return float(exact_nll(model, tokenizer, docs, batch_size).sum()) / sum(len(doc) + 1 for doc in docs)
