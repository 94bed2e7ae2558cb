import hashlib
import subprocess
import sys

import pytest

from conftest import ROOT
from microgpt_lib.data import data_path, load_docs, shuffled
from microgpt_lib.tokenizer import Tokenizer, describe_chars

NAMES_SHA256 = "3b20b43df36ec7ee9c90f8ea2c6f1a5310ad2a8608b06f5208edbbf544f26c35"


def test_names_file_is_the_specified_one():
    assert hashlib.sha256((ROOT / "data" / "names.txt").read_bytes()).hexdigest() == NAMES_SHA256


def test_load_docs():
    docs = load_docs()
    assert len(docs) == 29_910 and docs[:3] == ["emma", "liam", "olivia"]
    assert max(len(d) for d in docs) == 15


@pytest.mark.parametrize("where", ["tests", "elsewhere"])
def test_data_is_found_from_any_working_directory(where, tmp_path):
    cwd = ROOT / "tests" if where == "tests" else tmp_path
    code = "from microgpt_lib.data import load_docs; print(len(load_docs()))"
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "29910"


def test_missing_data_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_docs(tmp_path / "nope.txt")


def test_empty_data_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n  \n\n")
    with pytest.raises(ValueError, match="has no documents"):
        load_docs(path)


def test_data_path_names_the_missing_file():
    with pytest.raises(FileNotFoundError, match="nope.json"):
        data_path("nope.json")


def test_shuffled_is_seeded_and_leaves_the_input_alone(rng):
    import random
    docs = ["a", "b", "c", "d", "e"]
    assert shuffled(docs, rng) == shuffled(docs, random.Random(42)) != docs
    assert docs == ["a", "b", "c", "d", "e"]


@pytest.fixture
def tokenizer():
    return Tokenizer.from_docs(load_docs())


def test_vocabulary(tokenizer):
    assert tokenizer.uchars == list("abcdefghijklmnopqrstuvwxyz")
    assert tokenizer.BOS == 26 and tokenizer.vocab_size == 27


@pytest.mark.parametrize("name", ["emma", "a", "zz", "abcdefghijklmnopqrstuvwxyz", ""])
def test_round_trip(tokenizer, name):
    assert tokenizer.decode(tokenizer.encode(name)) == name
    tokens = tokenizer.tokenize(name)
    assert tokens[0] == tokens[-1] == tokenizer.BOS and len(tokens) == len(name) + 2
    assert tokenizer.decode(tokens) == name


def test_encode_values(tokenizer):
    assert tokenizer.encode("abz") == [0, 1, 25]


def test_unknown_character_names_it_its_position_and_the_word(tokenizer):
    with pytest.raises(ValueError) as err:
        tokenizer.encode("josé")
    assert str(err.value) == "unknown character 'é' at position 3 of 'josé'; the vocabulary has a-z"


def test_decode_rejects_ids_outside_the_vocabulary(tokenizer):
    with pytest.raises(ValueError, match="token id 27 is outside the vocabulary"):
        tokenizer.decode([0, 27])


def test_bad_vocabularies():
    with pytest.raises(ValueError, match="sorted and without repeats"):
        Tokenizer(["b", "a"])
    with pytest.raises(ValueError, match="single characters"):
        Tokenizer([])


def test_describe_chars():
    assert describe_chars(list("abcxyz")) == "a-c, x-z"
    assert describe_chars(list("abx")) == "a, b, x"
