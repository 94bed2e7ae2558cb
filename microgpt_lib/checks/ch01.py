"""Checks for the exercises of chapter 01: the data, the tokenizer, and statistics of names beyond the
chapter (doubled letters, the entropy of the next letter, the trigram baseline).

Every check takes `cases=None`: None runs its visible cases; the check cells' hidden blocks pass
other cases, written out in the cell. Expected values are computed here, from the library's
`Tokenizer` and from the definitions, never from the answer. In every check,
`__tracebackhide__ = True` asks IPython to leave the check's own frames out of a traceback.
"""
import math
from collections import Counter

from ..bigram import bigram_counts
from ..data import load_docs
from ..tokenizer import Tokenizer
from . import call, close, exercise, fail, fmt, passed

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def first_names(n):
    """The first n names of names.txt, in the file's order."""
    return load_docs()[:n]


# ---------------------------------------------------------------- exercise 1: tokenize and detokenize

TOKENIZE_CASES = [("emma", LETTERS), ("a", LETTERS), ("zz", LETTERS), ("", LETTERS)]


@exercise(1, "encode and decode with BOS")
def check_tokenize(tokenize, detokenize, cases=None):
    """tokenize(doc, uchars) = [BOS] + ids + [BOS]; detokenize(tokens, uchars) leaves every BOS out.

    cases: (doc, vocabulary as a string) pairs; None: TOKENIZE_CASES (all with the 26 letters).
    """
    __tracebackhide__ = True
    for doc, chars in TOKENIZE_CASES if cases is None else cases:
        uchars = list(chars)
        tokenizer = Tokenizer(uchars)
        name = f"tokenize({doc!r}, uchars)" + ("" if chars == LETTERS else f" with uchars = {uchars}")
        got = call(name, tokenize, doc, list(uchars))
        expected = tokenizer.tokenize(doc)
        if got != expected:
            fail(name, fmt(expected), fmt(got),
                 f"an id is the position of the character in uchars, and BOS is len(uchars) = {len(uchars)}, "
                 "one id past the last character, at both ends")
        tokens = expected + expected[1:]  # two documents in a row: a BOS in the middle too
        name = f"detokenize({tokens}, uchars)"
        got = call(name, detokenize, tokens, list(uchars))
        if got != tokenizer.decode(tokens):
            fail(name, repr(tokenizer.decode(tokens)), repr(got), "look each id up in uchars, and skip every BOS (wherever it is)")
    passed("tokenize and detokenize", "BOS at both ends, and left out again")


# ---------------------------------------------------------------- exercise 2: doubled letters

DOUBLED_CASES = [["emma", "anna", "ava"], ["bobby", "jill", "otto"], ["x"], ["aa", "bb", "aab"]]


def reference_doubled(docs):
    counts = Counter(a for doc in docs for a, b in zip(doc, doc[1:]) if a == b)
    return dict(sorted(counts.items()))


@exercise(2, "doubled letters")
def check_doubled_letters(doubled_letters, cases=None):
    """doubled_letters(docs) -> {letter: how many times it directly follows itself}, doubled letters only.

    cases: lists of names; None: DOUBLED_CASES.
    """
    __tracebackhide__ = True
    for docs in DOUBLED_CASES if cases is None else cases:
        label = repr(docs) if len(docs) < 8 else f"{len(docs)} names"
        name = f"doubled_letters({label})"
        got = call(name, doubled_letters, list(docs))
        expected = reference_doubled(docs)
        if not isinstance(got, dict):
            fail(name, f"a dict such as {expected}", type(got).__name__, "return a dict: letter -> count")
        got = {k: v for k, v in got.items() if v}  # a letter counted 0 times may be there or not
        if got != expected:
            differ = sorted({k for k in set(got) | set(expected) if got.get(k) != expected.get(k)}, key=str)[:3]
            fail(name, ", ".join(f"{k!r}: {expected.get(k, 0)}" for k in differ) + " (among others)",
                 ", ".join(f"{k!r}: {got.get(k, 0)}" for k in differ),
                 "look at every pair of neighbours of each name, (doc[i], doc[i + 1]); count the letter when the two "
                 "are equal. In 'aaa' the letter a follows itself twice")
    passed("doubled_letters", "every pair of equal neighbours counted")


# ---------------------------------------------------------------- exercise 3: entropy of the next letter

def reference_entropy(counts):
    total = sum(counts)
    return -sum(c / total * math.log(c / total) for c in counts if c > 0)


def entropy_cases():
    """Rows of the chapter's bigram table (27 counts each), and two of the same length made up."""
    docs = load_docs()
    tokenizer = Tokenizer.from_docs(docs)
    table = bigram_counts(docs, tokenizer)
    rows = [("after BOS", table[tokenizer.BOS])] + [(f"after {ch!r}", table[tokenizer.encode(ch)[0]]) for ch in "aqz"]
    return rows + [("27 equal counts", [5] * 27), ("one count of 27", [0] * 26 + [3])]


@exercise(3, "the entropy of the next letter")
def check_entropy(entropy, cases=None):
    """entropy(counts) -> -sum p ln p over the distribution proportional to `counts`, zeros skipped.

    cases: (label, counts) pairs; None: four rows of the bigram table and two lists of 27.
    """
    __tracebackhide__ = True
    for label, counts in entropy_cases() if cases is None else cases:
        name = f"entropy(counts {label})" if len(counts) > 8 else f"entropy({counts})"
        got = call(name, entropy, list(counts),
                   hint="skip the zero counts: 0 * ln 0 counts as 0 (math.log(0) fails)")
        expected = reference_entropy(counts)
        if not isinstance(got, (int, float)) or not close(got, expected, 1e-9):
            fail(name, f"{expected:.6f} nats", fmt(got) if isinstance(got, float) else repr(got),
                 "p = count / (sum of all the counts); add up -p * math.log(p) over the nonzero counts "
                 "(natural log: nats, not bits)")
    passed("entropy", "nats, zero counts skipped, ln 27 for 27 equal counts")


# ---------------------------------------------------------------- exercise 4: the conditional entropy

def reference_conditional_entropy(counts):
    total = sum(sum(row) for row in counts)
    h = 0.0
    for row in counts:
        n_a = sum(row)
        h -= sum(c * math.log(c / n_a) for c in row if c > 0)
    return h / total


def table_of(docs):
    return bigram_counts(docs, Tokenizer.from_docs(docs))


def conditional_cases():
    docs = load_docs()
    return [("the 27x27 table of all the names", table_of(docs)),
            ("the table of ['emma', 'ava']", table_of(["emma", "ava"])),
            ("[[1, 1], [2, 0]]", [[1, 1], [2, 0]])]


@exercise(4, "the best a bigram model can do")
def check_conditional_entropy(conditional_entropy, cases=None):
    """conditional_entropy(counts) = -(1/N) sum_ab counts[a][b] ln(counts[a][b] / row total of a).

    cases: (label, table) pairs; None: the table of all the names and two small ones.
    """
    __tracebackhide__ = True
    for label, counts in conditional_cases() if cases is None else cases:
        name = f"conditional_entropy({label})"
        got = call(name, conditional_entropy, [list(row) for row in counts],
                   hint="skip the zero counts, and the rows whose total is 0 (a token never followed by anything)")
        expected = reference_conditional_entropy(counts)
        if not isinstance(got, (int, float)) or not close(got, expected, 1e-9):
            fail(name, f"{expected:.6f} nats", fmt(got) if isinstance(got, float) else repr(got),
                 "each row's entropy weighted by the row's share of all the pairs (its total over N), not a plain "
                 "mean of the rows; equivalently -(1/N) times the sum of c * ln(c / row total)")
    passed("conditional_entropy", "weighted by how often each token comes first, empty rows skipped")


# ---------------------------------------------------------------- exercise 5: the trigram baseline

def reference_trigram_nll(train_docs, eval_docs, tokenizer, smoothing):
    bos, v = tokenizer.BOS, tokenizer.vocab_size
    counts, context_counts = Counter(), Counter()
    for doc in train_docs:
        tokens = [bos] + tokenizer.tokenize(doc)
        for a, b, c in zip(tokens, tokens[1:], tokens[2:]):
            counts[a, b, c] += 1
            context_counts[a, b] += 1
    total, n = 0.0, 0
    for doc in eval_docs:
        tokens = [bos] + tokenizer.tokenize(doc)
        for a, b, c in zip(tokens, tokens[1:], tokens[2:]):
            total -= math.log((counts[a, b, c] + smoothing) / (context_counts[a, b] + smoothing * v))
            n += 1
    return total / n


def trigram_cases():
    names = first_names(1200)
    return [(["ab", "ba", "abb"], ["ab", "b"], 1.0),
            (names[:1000], names[1000:], 1.0)]


@exercise(5, "a trigram baseline")
def check_trigram_nll(trigram_nll, cases=None):
    """trigram_nll(train_docs, eval_docs, tokenizer, smoothing) -> the average NLL per predicted token.

    cases: (train_docs, eval_docs, smoothing) triples, the tokenizer built from all of their names;
    None: a small case and 1000 names against the next 200, smoothing 1.
    """
    __tracebackhide__ = True
    for train, evaluate, smoothing in trigram_cases() if cases is None else cases:
        tokenizer = Tokenizer.from_docs(list(train) + list(evaluate))
        label = (f"{len(train)} names, {len(evaluate)} names" if len(train) > 5 else f"{train!r}, {evaluate!r}")
        name = f"trigram_nll({label}, tokenizer, smoothing={smoothing})"
        got = call(name, trigram_nll, list(train), list(evaluate), tokenizer, smoothing)
        expected = reference_trigram_nll(train, evaluate, tokenizer, smoothing)
        if not isinstance(got, (int, float)) or not close(got, expected, 1e-9):
            fail(name, f"{expected:.6f}", fmt(got) if isinstance(got, float) else repr(got),
                 "each document as [BOS, BOS] + its ids + [BOS]; count every (a, b, c) and every context (a, b) in "
                 "the training names; p = (count(a, b, c) + smoothing) / (count(a, b) + smoothing * vocab_size); "
                 "average -ln p over every predicted token of the evaluation names")
    passed("trigram_nll", "counts from one set of names, -ln p averaged over another, with smoothing")
