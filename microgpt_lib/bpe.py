"""Byte-pair encoding on characters: learn merges from the documents, encode, decode, save.

Start with one token per character (as `Tokenizer`). Count every pair of adjacent tokens over
all the documents, give the most frequent pair a new token, replace it everywhere, repeat.
Encoding a new text applies the learnt merges in the order they were learnt; decoding joins
the tokens' strings. karpathy/minbpe's `BasicTokenizer`, on characters instead of bytes: the
names are a-z only, so 256 byte tokens would add 230 that never occur.

Token ids: the sorted characters first (0 .. n-1, as `Tokenizer`), then one id per merge in
the order learnt (n, n+1, ...), then `BOS` last. With no merges, the ids are `Tokenizer`'s.
"""
import collections

from .tokenizer import Tokenizer, describe_chars


def count_pairs(token_lists):
    """How often each pair of adjacent tokens occurs; pairs never cross from one document to the next.

    """
    counts = collections.Counter()
    for ids in token_lists:
        counts.update(zip(ids, ids[1:]))
    return counts


def most_frequent(counts):
    """The pair with the highest count; on a tie, the smallest ids (the same pair whatever the order of the documents)."""
    highest = max(counts.values())
    return min(pair for pair, count in counts.items() if count == highest)


def merge(ids, pair, new_id):
    """`ids` with every occurrence of `pair` replaced by `new_id`, left to right (so 'aaa' -> 'aa', 'a')."""
    merged, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            merged.append(new_id)
            i += 2
        else:
            merged.append(ids[i])
            i += 1
    return merged


class BPETokenizer:
    """Characters plus learnt merges: `vocab[i]` is the string of token i; `BOS` is the last id."""

    def __init__(self, uchars, merges=()):
        self.chars = Tokenizer(uchars)  # checks the characters; its ids are our first ids
        self.uchars = self.chars.uchars
        self.merges = []
        self.vocab = list(self.uchars)
        for pair in merges:
            pair = tuple(pair)
            new_id = len(self.vocab)
            if len(pair) != 2 or not all(isinstance(i, int) and 0 <= i < new_id for i in pair):
                raise ValueError(f"merge {len(self.merges)} is {pair!r}: a merge is two token ids below {new_id}, the ids learnt before it")
            self.merges.append(pair)
            self.vocab.append(self.vocab[pair[0]] + self.vocab[pair[1]])
        self.ranks = {pair: len(self.uchars) + k for k, pair in enumerate(self.merges)}  # pair -> its new id
        self.BOS = len(self.vocab)  # beginning (and end) of sequence
        self.vocab_size = len(self.vocab) + 1

    @classmethod
    def train(cls, docs, vocab_size, uchars=None):
        """Learn merges from `docs` until there are `vocab_size` tokens (characters, merges and BOS).

        The characters are those of `docs`, or `uchars` if given (say, those of every split, so that
        a held-out name with a letter the training names lack can still be encoded).
        """
        docs = list(docs)
        uchars = sorted(set("".join(docs))) if uchars is None else sorted(set(uchars))
        num_merges = vocab_size - len(uchars) - 1
        if num_merges < 0:
            raise ValueError(f"vocab_size={vocab_size} is too small: the {len(uchars)} characters and BOS alone need {len(uchars) + 1}")
        chars = Tokenizer(uchars)
        token_lists = [chars.encode(doc) for doc in docs]
        counts = count_pairs(token_lists)
        where = collections.defaultdict(set)  # pair -> the documents it may occur in (a superset)
        for j, ids in enumerate(token_lists):
            for p in zip(ids, ids[1:]):
                where[p].add(j)
        merges = []
        for k in range(num_merges):
            if not counts:
                raise ValueError(f"vocab_size={vocab_size} is too large: after {k} merges every document is a single token")
            pair = most_frequent(counts)
            new_id = len(uchars) + k
            # recount only the documents that change: the same counts as counting all again, far faster
            for j in sorted(where.pop(pair)):
                ids = token_lists[j]
                merged = merge(ids, pair, new_id)
                counts.subtract(zip(ids, ids[1:]))
                counts.update(zip(merged, merged[1:]))
                for p in zip(merged, merged[1:]):
                    where[p].add(j)
                token_lists[j] = merged
            for gone in [p for p, count in counts.items() if count <= 0]:
                del counts[gone]
            merges.append(pair)
        return cls(uchars, merges)

    def encode(self, text):
        """The ids of `text` (no `BOS`): its characters, then the merges in the order they were learnt."""
        try:
            ids = self.chars.encode(text)
        except ValueError as err:
            raise ValueError(f"{err}; a BPE tokenizer knows only the characters it was trained on") from None
        while len(ids) >= 2:
            # of the pairs present, the one learnt first (merges learnt later may build on it)
            pair = min(zip(ids, ids[1:]), key=lambda p: self.ranks.get(p, float("inf")))
            if pair not in self.ranks:
                break  # no pair left that a merge knows
            ids = merge(ids, pair, self.ranks[pair])
        return ids

    def decode(self, ids):
        """The text of `ids`; `BOS` is left out."""
        for token_id in ids:
            if not 0 <= token_id <= self.BOS:
                raise ValueError(f"token id {token_id} is outside the vocabulary (0 to {self.BOS})")
        return "".join(self.vocab[token_id] for token_id in ids if token_id != self.BOS)

    def tokenize(self, doc):
        """A document as the model sees it: `BOS`, its tokens, `BOS`."""
        return [self.BOS] + self.encode(doc) + [self.BOS]

    def to_dict(self):
        """What a checkpoint stores: the characters and the merges, in order (the rest follows from them)."""
        return {"kind": "bpe", "uchars": "".join(self.uchars), "merges": [list(pair) for pair in self.merges]}

    @classmethod
    def from_dict(cls, d):
        """The tokenizer that `to_dict` described."""
        if not isinstance(d, dict) or d.get("kind") != "bpe" or not {"uchars", "merges"} <= set(d):
            raise ValueError(f"a BPE tokenizer is stored as {{'kind': 'bpe', 'uchars': ..., 'merges': ...}}, got {str(d)[:80]}")
        return cls(list(d["uchars"]), d["merges"])

    def __repr__(self):
        return f"BPETokenizer({describe_chars(self.uchars)} + {len(self.merges)} merges + BOS, vocab_size={self.vocab_size})"


def tokenizer_from_dict(d):
    """The tokenizer that `to_dict()` described: {"kind": "char", ...} (chapter 01) or {"kind": "bpe", ...}.

    It lives here, where both kinds are known (`tokenizer.py` knows nothing of BPE).
    """
    kind = d.get("kind") if isinstance(d, dict) else None
    if kind == "char":
        return Tokenizer(d["uchars"])
    if kind == "bpe":
        return BPETokenizer.from_dict(d)
    raise ValueError(f"unknown tokenizer kind {kind!r}; expected 'char' or 'bpe'")


def to_tiktoken(tokenizer, name="microgpt-bpe"):
    """tiktoken's encoder built from our merges: an independent implementation of the same encoding.

    tiktoken works on bytes and ranks: a token is a byte string, and encoding repeatedly merges
    the adjacent pair whose joined bytes have the lowest rank. Our characters are ASCII, one byte
    each, so a token's bytes are its string's, and its rank is its id: merges learnt earlier
    rank lower, as in our encode. The whole text is one piece (no regex split into words).
    """
    import tiktoken  # optional: only this check needs it

    not_ascii = [ch for ch in tokenizer.uchars if not ch.isascii()]
    if not_ascii:
        raise ValueError(f"characters {not_ascii!r} are not ASCII: a token's bytes would not be its characters")
    ranks = {}
    for token_id, token in enumerate(tokenizer.vocab):
        if token.encode() in ranks:
            raise ValueError(f"tokens {ranks[token.encode()]} and {token_id} are both {token!r}; tiktoken keeps one id per string")
        ranks[token.encode()] = token_id
    return tiktoken.Encoding(name, pat_str=r"[\s\S]+", mergeable_ranks=ranks, special_tokens={})
