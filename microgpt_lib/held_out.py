"""Held-out numbers that cannot leak: could a checkpoint's training have seen the names it is scored on?

`evaluate --split val|test` scores names of `data.split_docs`, and the number means something only if
training never saw them. What a run trained on follows from what its checkpoint records:

- a batched run (chapter 11's, or a ModernGPT's of chapter 13) trains on the training split only, so its
  training names are known from the fingerprint of that split it stores: equal to this data's, and the
  held-out names are unseen.
- microgpt's plain run trains on the first `steps` names of its own seed's shuffle. With --seed 42,
  the shuffle `split_docs` cuts, those are training names as long as `steps` stays within one pass
  over the training split. An interrupted plain run records its seed and data; a finished one (the
  shipped `microgpt_default_1000.json` is one) records neither, so its first loss is checked
  instead: it is the loss of --seed 42's first weights on --seed 42's first name of this data, to
  the last digits, only if the run started as that run did.
"""
import random

from .batch_train import fingerprint  # a short hash of documents, in order: what a run stores of its training names
from .data import shuffled


def check_not_trained_on(checkpoint, docs, split, split_name, where, seed=42):
    """Raise ValueError (one line, the reason and the way out) if the run saved in `checkpoint` could have
    trained on the names of `split_name` ("val" or "test") of `split` = split_docs(docs, seed)."""
    refuse = f"{where} may have trained on the {split_name} names, so its {split_name} loss would not be held out:"
    way_out = f"(evaluate it with --split train, or train one that keeps them out: a batched run, or --seed {seed})"
    extra = checkpoint.extra
    if "plain_run" not in extra and ("run" in extra or "data" in extra):  # a batched run
        if "data" not in extra:
            raise ValueError(f"{refuse} it does not record which names it trained on {way_out}")
        if extra["data"] != fingerprint(split.train):
            raise ValueError(f"{refuse} it was trained on other data than these names' training split "
                             "(give the --data it was trained on)")
        return
    # microgpt's plain run: the first `step` names of its seed's shuffle, over and over
    run = extra.get("plain_run")
    if run is not None:
        run_seed = run.get("seed")
        if run.get("data") != fingerprint(shuffled(docs, random.Random(run_seed))):
            raise ValueError(f"{refuse} it was trained on other data (give the --data it was trained on)")
    elif started_as_seed(checkpoint, docs, seed):
        run_seed = seed
    else:
        raise ValueError(f"{refuse} it does not record its seed, and its first loss is not that of --seed {seed} "
                         f"on this data, so its training names are unknown {way_out}")
    steps = checkpoint.step
    if run_seed != seed:
        order = shuffled(docs, random.Random(run_seed))
        seen = {order[step % len(order)] for step in range(min(steps, len(order)))}
        held_out = getattr(split, split_name)
        count = sum(name in seen for name in held_out)
        raise ValueError(f"{refuse} it is a plain run with --seed {run_seed}, whose {steps} training names come from "
                         f"another shuffle than the split's ({count} of the {len(held_out)} {split_name} names among them) "
                         f"{way_out}")
    if steps > len(split.train):
        raise ValueError(f"{refuse} its {steps} steps went past the {len(split.train)} training names into the held-out "
                         f"ones (a plain run with --seed {seed} keeps them out for at most {len(split.train)} steps)")


def started_as_seed(checkpoint, docs, seed):
    """Whether the saved run's first loss is that of a plain run with `seed` on `docs` (same weights, same name)."""
    from .numpy_model import NumpyGPT, document_loss
    from .tokenizer import Tokenizer

    if not checkpoint.loss_history or getattr(checkpoint.tokenizer, "merges", None):
        return False
    rng = random.Random(seed)
    order = shuffled(docs, rng)
    tokenizer = Tokenizer.from_docs(order)
    if tokenizer.uchars != checkpoint.tokenizer.uchars:
        return False
    model = NumpyGPT(checkpoint.model.config, rng)  # the weights a plain run draws after its shuffle
    first_loss = float(document_loss(model, tokenizer.tokenize(order[0])).data)
    return abs(first_loss - checkpoint.loss_history[0]) <= 1e-9  # the engines agree within 1e-12
