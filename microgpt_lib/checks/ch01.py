"""Checks for the exercises of chapter 01: the data and the tokenizer.

In every check, `__tracebackhide__ = True` asks IPython to leave the check's own frames out of a
traceback, so that a learner sees their code and the message, not the inside of the check.
"""
import math

from ..bigram import bigram_counts, bigram_loss, bigram_probs
from ..tokenizer import Tokenizer
from . import call, close, fail, fmt, passed


def check_build_vocab(build_vocab, docs):
    """build_vocab(docs) -> the sorted list of every character in docs, each once."""
    __tracebackhide__ = True
    cases = [["emma", "olivia", "ava"], ["zoe", "bob"], ["b", "a", "b", "a"], ["x"], ["ann", "zz", "mia", "yu"], docs]
    for case in cases:
        name = f"build_vocab({case!r})" if len(case) < 10 else f"build_vocab(docs) on all {len(case)} names"
        got = call(name, build_vocab, list(case))
        expected = Tokenizer.from_docs(case).uchars
        if not isinstance(got, list) or got != expected:
            shown = ("".join(got) if all(isinstance(c, str) for c in got) else fmt(got)) if isinstance(got, list) else repr(got)
            fail(name, repr("".join(expected)) + " as a list of characters", shown,
                 "join the docs into one string, take the set of its characters, and sort it into a list")
    passed("build_vocab", f"{len(expected)} characters in all the names: {''.join(expected)}")


def check_tokenize(tokenize, detokenize):
    """tokenize(doc, uchars) = [BOS] + ids + [BOS]; detokenize(tokens, uchars) leaves BOS out."""
    __tracebackhide__ = True
    uchars = [chr(ord("a") + i) for i in range(26)]
    tokenizer = Tokenizer(uchars)
    for doc in ["emma", "a", "zz", ""]:
        name = f"tokenize({doc!r}, uchars)"
        got = call(name, tokenize, doc, uchars)
        expected = tokenizer.tokenize(doc)
        if got != expected:
            fail(name, fmt(expected), fmt(got),
                 f"BOS is len(uchars) = {len(uchars)}, one id past the last letter, and it goes at both ends")
    small = ["a", "b", "n"]  # a vocabulary of 3: BOS = 3
    got = call("tokenize('nab', ['a', 'b', 'n'])", tokenize, "nab", small)
    if got != Tokenizer(small).tokenize("nab"):
        fail("tokenize('nab', ['a', 'b', 'n'])", fmt(Tokenizer(small).tokenize("nab")), fmt(got),
             "an id is the position of the character in uchars; BOS = len(uchars)")
    for tokens in [[26, 4, 12, 12, 0, 26], [26, 26], [0, 25], [26, 1, 26, 2, 26]]:
        name = f"detokenize({tokens}, uchars)"
        got = call(name, detokenize, tokens, uchars)
        expected = tokenizer.decode(tokens)
        if got != expected:
            fail(name, repr(expected), repr(got), "look each id up in uchars, and skip every BOS (wherever it is)")
    passed("tokenize and detokenize", "BOS at both ends, and left out again")


def check_encode(encode):
    """encode(text, uchars) -> ids; a character outside uchars raises ValueError naming it and its position."""
    __tracebackhide__ = True
    uchars = [chr(ord("a") + i) for i in range(26)]
    tokenizer = Tokenizer(uchars)
    for text in ["emma", "zoe", ""]:
        name = f"encode({text!r}, uchars)"
        got = call(name, encode, text, uchars)
        if got != tokenizer.encode(text):
            fail(name, fmt(tokenizer.encode(text)), fmt(got), "an id is the index of the character in uchars")
    for text, ch, pos in [("josé", "é", 3), ("Emma", "E", 0), ("ann-marie", "-", 3)]:
        name = f"encode({text!r}, uchars)"
        try:
            got = encode(text, uchars)
        except ValueError as err:
            message = str(err)
            if repr(ch) not in message or f"position {pos}" not in message:
                fail(name, f"a ValueError whose message contains {ch!r} and 'position {pos}'", repr(message),
                     "positions count from 0, like Python indices: enumerate(text) gives them")
            continue
        except NotImplementedError:
            raise
        except Exception as err:
            fail(name, "ValueError", f"{type(err).__name__}: {err}",
                 "check `ch not in uchars` yourself and raise ValueError(...) with a message that helps")
        fail(name, "ValueError", f"no error, the result {fmt(got)}",
             f"{ch!r} is not in the vocabulary: raise ValueError instead of skipping or guessing")
    passed("encode", "ids for known characters, a clear ValueError for unknown ones")


def check_count_pairs(count_pairs, docs):
    """count_pairs(docs, tokenizer) -> counts[a][b], BOS at both ends of every document."""
    __tracebackhide__ = True
    tokenizer = Tokenizer.from_docs(docs)
    small = ["emma", "anna", "ava"]
    cases = [(small, Tokenizer.from_docs(small)), (["a"], Tokenizer(["a"])), (docs, tokenizer)]
    for case_docs, case_tokenizer in cases:
        label = f"{len(case_docs)} names" if len(case_docs) > 3 else repr(case_docs)
        name = f"count_pairs({label}, tokenizer)"
        got = call(name, count_pairs, case_docs, case_tokenizer)
        expected = bigram_counts(case_docs, case_tokenizer)
        if got != expected:
            n = case_tokenizer.vocab_size
            ok_shape = isinstance(got, list) and len(got) == n and all(isinstance(r, list) and len(r) == n for r in got)
            if not ok_shape:
                fail(name, f"a {n}x{n} list of lists", f"{type(got).__name__} of length {len(got) if hasattr(got, '__len__') else '?'}",
                     "one row per token id (BOS included), one column per token id")
            if any(got[a] is got[0] for a in range(1, n)):
                fail(name, f"{n} separate rows", "rows that are one and the same list (a count added to one shows in all)",
                     "[[0] * n] * n repeats one list n times; build the rows with [[0] * n for _ in range(n)]")
            bad = [(a, b) for a in range(n) for b in range(n) if got[a][b] != expected[a][b]]
            a, b = bad[0]
            names = case_tokenizer.uchars + ["BOS"]
            fail(name, f"counts[{names[a]}][{names[b]}] = {expected[a][b]}", f"{got[a][b]} ({len(bad)} entries differ)",
                 "count the pairs of tokenizer.tokenize(doc): BOS before the first letter and BOS after the last count too")
    bos, a_id = tokenizer.BOS, tokenizer.encode("a")[0]
    passed("count_pairs", f"{got[bos][a_id]} names start with 'a', {got[a_id][bos]} end with it")


def check_bigram_nll(bigram_nll, docs):
    """bigram_nll(docs, tokenizer, probs) -> average negative log-likelihood per predicted token."""
    __tracebackhide__ = True
    tokenizer = Tokenizer.from_docs(docs)
    probs = bigram_probs(bigram_counts(docs, tokenizer))
    small = ["emma", "ava", "bob"]
    small_tokenizer = Tokenizer.from_docs(small)
    uniform = [[1 / small_tokenizer.vocab_size] * small_tokenizer.vocab_size for _ in range(small_tokenizer.vocab_size)]
    cases = [
        (["ab"], Tokenizer(["a", "b"]), [[0.5, 0.25, 0.25], [0.125, 0.5, 0.375], [0.75, 0.125, 0.125]], "['ab'], 3x3 probs"),
        (small, small_tokenizer, bigram_probs(bigram_counts(small, small_tokenizer)), f"{small!r}, their own bigram probs"),
        (small, small_tokenizer, uniform, f"{small!r}, uniform probs (expect ln {small_tokenizer.vocab_size})"),
        (docs, tokenizer, probs, f"all {len(docs)} names, bigram probs with smoothing 1"),
    ]
    for case_docs, case_tokenizer, case_probs, label in cases:
        name = f"bigram_nll({label})"
        got = call(name, bigram_nll, case_docs, case_tokenizer, case_probs)
        expected = bigram_loss(case_docs, case_tokenizer, case_probs)
        if not isinstance(got, (int, float)) or not close(got, expected, 1e-9):
            fail(name, f"{expected:.6f}", fmt(got) if isinstance(got, float) else repr(got),
                 "sum -log(probs[a][b]) over every pair of tokenizer.tokenize(doc) of every doc (BOS at both ends), "
                 "then divide by the number of pairs, not of documents")
    passed("bigram_nll", f"{bigram_loss(docs, tokenizer, probs):.4f} nats per character on all names, the baseline; "
           f"uniform guessing gives ln 27 = {math.log(27):.4f}")
