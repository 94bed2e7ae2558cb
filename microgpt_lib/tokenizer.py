"""Characters to token ids and back. Every character of the data is a token, plus `BOS`."""


class Tokenizer:
    """A character vocabulary: ids 0..n-1 for the sorted characters, and `BOS` = n."""

    def __init__(self, uchars):
        uchars = list(uchars)
        if not uchars or any(not isinstance(ch, str) or len(ch) != 1 for ch in uchars):
            raise ValueError(f"a vocabulary is a list of single characters, got {uchars!r}")
        if uchars != sorted(set(uchars)):
            raise ValueError(f"the vocabulary must be sorted and without repeats, got {''.join(uchars)!r}")
        self.uchars = uchars
        self.BOS = len(uchars)  # beginning (and end) of sequence
        self.vocab_size = len(uchars) + 1
        self._ids = {ch: i for i, ch in enumerate(uchars)}

    @classmethod
    def from_docs(cls, docs):
        """The vocabulary of every character that occurs in `docs`."""
        return cls(sorted(set("".join(docs))))

    def encode(self, text):
        """The ids of the characters of `text` (no `BOS`)."""
        ids = []
        for pos, ch in enumerate(text):
            if ch not in self._ids:
                raise ValueError(
                    f"unknown character {ch!r} at position {pos} of {text!r}; "
                    f"the vocabulary has {describe_chars(self.uchars)}"
                )
            ids.append(self._ids[ch])
        return ids

    def decode(self, ids):
        """The text of `ids`; `BOS` is left out."""
        for token_id in ids:
            if not 0 <= token_id <= self.BOS:
                raise ValueError(f"token id {token_id} is outside the vocabulary (0 to {self.BOS})")
        return "".join(self.uchars[token_id] for token_id in ids if token_id != self.BOS)

    def tokenize(self, doc):
        """A document as the model sees it: `BOS`, its characters, `BOS`."""
        return [self.BOS] + self.encode(doc) + [self.BOS]

    def to_dict(self):
        """What a checkpoint stores to rebuild this tokenizer: see `bpe.tokenizer_from_dict`."""
        return {"kind": "char", "uchars": "".join(self.uchars)}

    def __repr__(self):
        return f"Tokenizer({describe_chars(self.uchars)} + BOS, vocab_size={self.vocab_size})"


def describe_chars(uchars):
    """Sorted characters, with runs written as ranges: ['a', 'b', 'c', 'x'] -> 'a-c, x'."""
    parts, start = [], 0
    for i in range(1, len(uchars) + 1):
        if i == len(uchars) or ord(uchars[i]) != ord(uchars[i - 1]) + 1:
            run = uchars[start:i]
            parts.append(f"{run[0]}-{run[-1]}" if len(run) > 2 else ", ".join(run))
            start = i
    return ", ".join(parts)
