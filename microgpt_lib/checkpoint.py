"""Save and load a trained model as JSON: config, vocabulary, weights, step, loss history."""
import dataclasses
import json
import math
import os
import pathlib
import tempfile

from .autograd import Value
from .model import GPT, GPTConfig, param_shapes
from .tokenizer import Tokenizer

FORMAT = "microgpt-checkpoint"
VERSION = 1


@dataclasses.dataclass
class Checkpoint:
    model: GPT
    tokenizer: Tokenizer
    step: int  # training steps done
    loss_history: list


def save_checkpoint(path, model, tokenizer, step, loss_history):
    """Write the checkpoint to a temporary file beside `path`, then rename it over `path`.

    A save that fails half way leaves any previous checkpoint at `path` as it was.
    """
    path = pathlib.Path(path)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": dataclasses.asdict(model.config),
        "uchars": "".join(tokenizer.uchars),
        "step": step,
        "loss_history": list(loss_history),
        "state_dict": {name: [[p.data for p in row] for row in mat] for name, mat in model.state_dict.items()},
    }
    text = json.dumps(payload, allow_nan=False)  # before touching the disk: a NaN weight fails here
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent if str(path.parent) else ".")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a checkpoint is an ordinary file
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load_checkpoint(path, config=None):
    """The model, tokenizer, step and loss history saved at `path`.

    Everything is checked against the file's own config (and against `config`, if given),
    and any mismatch is an error that says what does not fit.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"checkpoint {str(path)!r} is not valid JSON (truncated or not a checkpoint?): {err}") from None
    where = f"checkpoint {str(path)!r}"
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{where} is not a microgpt checkpoint (no \"format\": \"{FORMAT}\")")
    if payload.get("version") != VERSION:
        raise ValueError(f"{where} has format version {payload.get('version')!r}; this library reads version {VERSION}")
    missing = [k for k in ("config", "uchars", "step", "loss_history", "state_dict") if k not in payload]
    if missing:
        raise ValueError(f"{where} lacks {', '.join(missing)}")
    try:
        saved_config = GPTConfig(**payload["config"])
    except TypeError as err:
        raise ValueError(f"{where} has a config this library does not know: {err}") from None
    if config is not None and config != saved_config:
        diffs = [
            f"{f.name}={getattr(saved_config, f.name)!r} (expected {getattr(config, f.name)!r})"
            for f in dataclasses.fields(GPTConfig)
            if getattr(saved_config, f.name) != getattr(config, f.name)
        ]
        raise ValueError(f"{where} is from another configuration: {', '.join(diffs)}")
    tokenizer = Tokenizer(payload["uchars"])
    if tokenizer.vocab_size != saved_config.vocab_size:
        raise ValueError(
            f"{where} has {len(tokenizer.uchars)} characters + BOS = {tokenizer.vocab_size} tokens, "
            f"but its config says vocab_size={saved_config.vocab_size}"
        )
    state_dict = _load_state_dict(payload["state_dict"], saved_config, where)
    loss_history = payload["loss_history"]
    if not isinstance(loss_history, list) or not all(isinstance(x, (int, float)) for x in loss_history):
        raise ValueError(f"{where} has a loss_history that is not a list of numbers")
    model = GPT(saved_config, state_dict=state_dict)
    return Checkpoint(model, tokenizer, payload["step"], loss_history)


def _load_state_dict(raw, config, where):
    shapes = param_shapes(config)
    if not isinstance(raw, dict) or list(raw) != list(shapes):
        got = list(raw) if isinstance(raw, dict) else type(raw).__name__
        raise ValueError(f"{where} has matrices {got}, expected {list(shapes)}")
    state_dict = {}
    for name, rows in raw.items():
        nout, nin = shapes[name]
        if not (isinstance(rows, list) and len(rows) == nout and all(isinstance(r, list) and len(r) == nin for r in rows)):
            raise ValueError(f"{where}: matrix {name} is not {nout}x{nin} as the config requires")
        if not all(isinstance(x, (int, float)) and math.isfinite(x) for r in rows for x in r):
            raise ValueError(f"{where}: matrix {name} holds something other than finite numbers")
        state_dict[name] = [[Value(float(x)) for x in r] for r in rows]
    return state_dict

