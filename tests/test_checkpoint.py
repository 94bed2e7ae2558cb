import json
import os
import random

import pytest

from microgpt_lib.checkpoint import load_checkpoint, save_checkpoint
from microgpt_lib.model import GPT, GPTConfig
from microgpt_lib.sample import sample_names
from microgpt_lib.tokenizer import Tokenizer
from microgpt_lib.train import train

DOCS = ["anna", "bob", "cecil", "dana", "eve"]


@pytest.fixture
def trained():
    rng = random.Random(5)
    tokenizer = Tokenizer.from_docs(DOCS)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, n_embd=8, n_head=2, block_size=8), rng)
    loss_history = train(model, tokenizer, DOCS, num_steps=5)
    return model, tokenizer, loss_history


def test_round_trip_gives_identical_weights_and_samples(trained, tmp_path):
    model, tokenizer, loss_history = trained
    path = tmp_path / "ckpt.json"
    save_checkpoint(path, model, tokenizer, 5, loss_history)
    loaded = load_checkpoint(path)
    assert loaded.step == 5 and loaded.loss_history == loss_history
    assert loaded.model.config == model.config and loaded.tokenizer.uchars == tokenizer.uchars
    assert [p.data for p in loaded.model.params] == [p.data for p in model.params]
    before = sample_names(model, tokenizer, random.Random(9), 6, 0.8)
    after = sample_names(loaded.model, loaded.tokenizer, random.Random(9), 6, 0.8)
    assert before == after


def test_load_checks_the_expected_config(trained, tmp_path):
    model, tokenizer, loss_history = trained
    path = tmp_path / "ckpt.json"
    save_checkpoint(path, model, tokenizer, 5, loss_history)
    other = GPTConfig(vocab_size=tokenizer.vocab_size, n_embd=16, n_head=2, block_size=8)
    with pytest.raises(ValueError, match=r"from another configuration: n_embd=8 \(expected 16\)"):
        load_checkpoint(path, config=other)
    assert load_checkpoint(path, config=model.config).step == 5


def saved_payload(trained, tmp_path):
    model, tokenizer, loss_history = trained
    path = tmp_path / "ckpt.json"
    save_checkpoint(path, model, tokenizer, 5, loss_history)
    return path, json.loads(path.read_text())


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda text, p: text[: len(text) // 2], "is not valid JSON"),
        (lambda text, p: "hello", "is not valid JSON"),
        (lambda text, p: json.dumps({**p, "version": 99}), "format version 99; this library reads versions 1 and 2"),
        (lambda text, p: json.dumps({**p, "format": "other"}), "is not a microgpt checkpoint"),
        (lambda text, p: json.dumps({k: v for k, v in p.items() if k != "loss_history"}), "lacks loss_history"),
        (lambda text, p: json.dumps({**p, "uchars": p["uchars"] + "z"}), "but its config says vocab_size"),
        (lambda text, p: json.dumps({**p, "state_dict": {**p["state_dict"], "wte": p["state_dict"]["wte"][:-1]}}),
         "matrix wte is not 11x8"),
        (lambda text, p: json.dumps({**p, "state_dict": {k: v for k, v in p["state_dict"].items() if k != "wpe"}}),
         "has matrices"),
        (lambda text, p: json.dumps({**p, "config": {**p["config"], "n_embd": 16}}), "matrix wte is not 11x16"),
        (lambda text, p: json.dumps({**p, "config": {**p["config"], "colour": 1}}), "config this library does not know"),
    ],
    ids=["truncated", "not-json", "version", "format", "missing-key", "vocab", "shape", "missing-matrix",
         "other-config", "unknown-field"],
)
def test_bad_checkpoints_say_what_does_not_match(trained, tmp_path, corrupt, message):
    path, payload = saved_payload(trained, tmp_path)
    path.write_text(corrupt(path.read_text(), payload))
    with pytest.raises(ValueError, match=message):
        load_checkpoint(path)


def test_missing_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_checkpoint(tmp_path / "none.json")


def test_failed_save_leaves_the_previous_checkpoint_intact(trained, tmp_path, monkeypatch):
    model, tokenizer, loss_history = trained
    path = tmp_path / "ckpt.json"
    save_checkpoint(path, model, tokenizer, 5, loss_history)
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError("disk full")

    model.params[0].data = 123.0
    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, model, tokenizer, 6, loss_history)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.json"]  # no temporary file left behind


def test_nan_weights_are_refused_before_writing(trained, tmp_path):
    model, tokenizer, loss_history = trained
    path = tmp_path / "ckpt.json"
    model.params[3].data = float("nan")
    with pytest.raises(ValueError):
        save_checkpoint(path, model, tokenizer, 5, loss_history)
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_tokenizer_round_trips_through_its_dict():
    from microgpt_lib.bpe import tokenizer_from_dict

    tokenizer = Tokenizer.from_docs(DOCS)
    d = tokenizer.to_dict()
    assert d == {"kind": "char", "uchars": "".join(tokenizer.uchars)}
    rebuilt = tokenizer_from_dict(json.loads(json.dumps(d)))
    assert rebuilt.uchars == tokenizer.uchars and rebuilt.encode("eve") == tokenizer.encode("eve")
    with pytest.raises(ValueError, match="unknown tokenizer kind 'morse'"):
        tokenizer_from_dict({"kind": "morse"})
