"""Save and load a trained model as JSON: config, vocabulary, weights, step, loss history.

Version 1 (microgpt's runs, chapter 08): the weights as nested lists of numbers, the vocabulary
as "uchars". Version 2 (chapter 11's batched runs): the tokenizer as a dict (`to_dict()`, any
kind), the weights as one flat array in microgpt's parameter order, packed as base64 bytes
(float64 to resume exactly, float32 or float16 to ship small), and optionally what resuming
needs: Adam's moments, the random generator's state, the run's settings and its histories.
A run of chapter 13's `ModernGPT` is a version 2 checkpoint whose config also records the model's
options (norm, activation, position, ...): it loads as a `ModernGPT`, on the numpy engine.
"""
import base64
import dataclasses
import json
import math
import os
import pathlib
import tempfile

import numpy as np

from .autograd import Value
from .model import GPT, GPTConfig, param_shapes
from .bpe import tokenizer_from_dict
from .tokenizer import Tokenizer

FORMAT = "microgpt-checkpoint"
VERSION = 1  # what save_checkpoint writes (microgpt's shipped checkpoint is rebuilt byte for byte)
VERSIONS = (1, 2)  # what load_checkpoint reads
DTYPES = ("float64", "float32", "float16")


@dataclasses.dataclass
class Checkpoint:
    model: GPT  # or, with load_checkpoint(..., engine="numpy"), a NumpyGPT (or chapter 13's ModernGPT)
    tokenizer: Tokenizer
    step: int  # training steps done
    loss_history: list
    extra: dict = dataclasses.field(default_factory=dict)  # version 2: val_history, run, optimizer, rng_state, ...


def save_checkpoint(path, model, tokenizer, step, loss_history, **extra):
    """Write the checkpoint to a temporary file beside `path`, then rename it over `path`.

    A save that fails half way leaves any previous checkpoint at `path` as it was. `extra`
    (JSON values) is stored beside the rest: an interrupted run's optimizer state, say.
    """
    path = pathlib.Path(path)
    kind = tokenizer.to_dict()["kind"]
    if kind != "char":  # version 1 keeps only the characters: a subword tokenizer's merges would be lost
        raise ValueError(f"save_checkpoint writes version 1, which holds a character vocabulary, not a {kind} tokenizer: "
                         "use save_run_checkpoint (version 2)")
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": dataclasses.asdict(model.config),
        "uchars": "".join(tokenizer.uchars),
        "step": step,
        "loss_history": list(loss_history),
        "state_dict": {name: [[p.data for p in row] for row in mat] for name, mat in model.state_dict.items()},
        **extra,
    }
    write_atomically(path, json.dumps(payload, allow_nan=False))  # dumps first: a NaN weight fails before the disk


def check_writable(path):
    """Fail now, not after training, if a checkpoint cannot be written at `path`."""
    path = pathlib.Path(path)
    folder = path.parent if str(path.parent) else pathlib.Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot save to {str(path)!r}: the folder {str(folder)!r} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"cannot save to {str(path)!r}: it is a folder; give a file name, e.g. {str(path / 'run.json')!r}")
    try:
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=folder)
    except OSError as err:
        raise PermissionError(f"cannot save to {str(path)!r}: {err.strerror or err}") from None
    os.close(fd)
    os.unlink(tmp)


def write_atomically(path, text):
    """Write `text` to a temporary file beside `path`, then rename it over `path`."""
    path = pathlib.Path(path)
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


def encode_array(values, dtype="float64"):
    """A flat array as JSON: {"dtype", "size", "base64"} of its little-endian bytes (float64 is exact)."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    values = np.asarray(values, dtype=np.float64).ravel()
    if not np.isfinite(values).all():
        raise ValueError("cannot save numbers that are not finite (did training diverge?)")
    packed = values.astype(np.dtype(dtype).newbyteorder("<"))
    if not np.isfinite(packed).all():
        raise ValueError(f"a number is too large for {dtype}")
    return {"dtype": dtype, "size": int(values.size), "base64": base64.b64encode(packed.tobytes()).decode("ascii")}


def decode_array(d, where="checkpoint", what="array"):
    """The float64 array that `encode_array` packed."""
    try:
        dtype, size = np.dtype(d["dtype"]).newbyteorder("<"), d["size"]
        if d["dtype"] not in DTYPES:
            raise ValueError
        values = np.frombuffer(base64.b64decode(d["base64"], validate=True), dtype=dtype).astype(np.float64)
    except (KeyError, TypeError, ValueError, base64.binascii.Error):
        raise ValueError(f"{where}: {what} is not an encoded array ({{dtype, size, base64}})") from None
    if values.size != size:
        raise ValueError(f"{where}: {what} holds {values.size} numbers, not the {size} it announces")
    if not np.isfinite(values).all():
        raise ValueError(f"{where}: {what} holds something other than finite numbers")
    return values


def save_run_checkpoint(path, model, tokenizer, step, loss_history, dtype="float64", **extra):
    """Write a version 2 checkpoint of a `NumpyGPT` (atomically, as `save_checkpoint`).

    `extra` is stored beside the weights; its arrays (Adam's "optimizer" moments) are packed
    as float64, so that a run resumed from it continues exactly.
    """
    payload = {
        "format": FORMAT,
        "version": 2,
        "config": dataclasses.asdict(model.config),
        "tokenizer": tokenizer.to_dict(),
        "step": step,
        "loss_history": [float(x) for x in loss_history],
        "weights": encode_array(model.flat, dtype),
    }
    if "optimizer" in extra:
        extra["optimizer"] = {name: encode_array(value) for name, value in extra["optimizer"].items()}
    payload.update(extra)
    write_atomically(path, json.dumps(payload, allow_nan=False))


def load_checkpoint(path, config=None, engine="scalar"):
    """The model, tokenizer, step and loss history saved at `path` (version 1 or 2).

    Everything is checked against the file's own config (and against `config`, if given),
    and any mismatch is an error that says what does not fit. `engine="numpy"` gives the
    model as a `NumpyGPT` (fast for big models), or a `ModernGPT` if its config records chapter
    13's options (those load with the numpy engine only); version 2's extras are in `.extra`.
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
    version = payload.get("version")
    if version not in VERSIONS:
        raise ValueError(f"{where} has format version {version!r}; this library reads versions {' and '.join(map(str, VERSIONS))}")
    keys = ("config", "uchars", "step", "loss_history", "state_dict") if version == 1 else ("config", "tokenizer", "step", "loss_history", "weights")
    missing = [k for k in keys if k not in payload]
    if missing:
        raise ValueError(f"{where} lacks {', '.join(missing)}")
    saved_config, modern = _config_from_dict(payload["config"], version, where)
    if config is not None and type(config) is not type(saved_config):
        raise ValueError(f"{where} holds a {type(saved_config).__name__}, "
                         f"not the {type(config).__name__} expected")
    if config is not None and config != saved_config:
        diffs = [
            f"{f.name}={getattr(saved_config, f.name)!r} (expected {getattr(config, f.name)!r})"
            for f in dataclasses.fields(saved_config)
            if getattr(saved_config, f.name) != getattr(config, f.name)
        ]
        raise ValueError(f"{where} is from another configuration: {', '.join(diffs)}")
    if version == 1:
        tokenizer = Tokenizer(payload["uchars"])
        if tokenizer.vocab_size != saved_config.vocab_size:
            raise ValueError(
                f"{where} has {len(tokenizer.uchars)} characters + BOS = {tokenizer.vocab_size} tokens, "
                f"but its config says vocab_size={saved_config.vocab_size}"
            )
    else:
        try:
            tokenizer = tokenizer_from_dict(payload["tokenizer"])
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{where} has a tokenizer this library cannot rebuild: {err}") from None
        if tokenizer.vocab_size != saved_config.vocab_size:
            raise ValueError(f"{where} has a tokenizer of {tokenizer.vocab_size} tokens, but its config says vocab_size={saved_config.vocab_size}")
    loss_history = payload["loss_history"]
    if not isinstance(loss_history, list) or not all(isinstance(x, (int, float)) for x in loss_history):
        raise ValueError(f"{where} has a loss_history that is not a list of numbers")
    if engine not in ("scalar", "numpy"):
        raise ValueError(f"engine must be 'scalar' or 'numpy', got {engine!r}")
    extra = {k: v for k, v in payload.items() if k not in ("format", "version", "config", "uchars", "tokenizer", "step", "loss_history", "state_dict", "weights")}
    if version == 1:
        state_dict = _load_state_dict(payload["state_dict"], saved_config, where)
        model = GPT(saved_config, state_dict=state_dict)
        if engine == "numpy":
            from .numpy_model import NumpyGPT

            model = NumpyGPT.from_gpt(model)
        return Checkpoint(model, tokenizer, payload["step"], loss_history, extra)
    if modern and engine == "scalar":
        raise ValueError(f"{where} holds chapter 13's ModernGPT ({modern_options(saved_config)}), "
                         "which has no scalar engine: load it with engine=\"numpy\"")
    flat = decode_array(payload["weights"], where, "weights")
    if modern:
        from .modern import modern_param_shapes as shapes_of
    else:
        shapes_of = param_shapes
    total = sum(nout * nin for nout, nin in shapes_of(saved_config).values())
    if flat.size != total:
        raise ValueError(f"{where} holds {flat.size} weights; its config has {total} parameters")
    if "optimizer" in extra:
        extra["optimizer"] = {name: decode_array(value, where, f"optimizer {name}") for name, value in extra["optimizer"].items()}
    if modern:
        from .modern import ModernGPT as model_class
    else:
        from .numpy_model import NumpyGPT as model_class
    model = model_class(saved_config, flat=flat)
    if engine == "scalar":
        model = model.to_gpt()
    return Checkpoint(model, tokenizer, payload["step"], loss_history, extra)


def _config_from_dict(raw, version, where):
    """(the saved config, whether it is chapter 13's): a `GPTConfig`, or a `ModernConfig` if it
    records the options of chapter 13's model (version 2 only: its runs are batched)."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where} has a config that is not a dict of settings")
    modern = version == 2 and bool(set(raw) - {f.name for f in dataclasses.fields(GPTConfig)})
    if modern:
        from .modern import ModernConfig as config_class
    else:
        config_class = GPTConfig
    try:
        return config_class(**raw), modern
    except TypeError as err:
        raise ValueError(f"{where} has a config this library does not know: {err}") from None
    except ValueError as err:  # the config's own checks: a shape or an option that cannot be
        raise ValueError(f"{where} has an impossible config: {err}") from None


def modern_options(config):
    """The settings of a `ModernConfig` beyond `GPTConfig`'s, as 'norm=rmsnorm, activation=relu2, ...'."""
    shape = {f.name for f in dataclasses.fields(GPTConfig)}
    return ", ".join(f"{f.name}={getattr(config, f.name)}"
                     for f in dataclasses.fields(config) if f.name not in shape)


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

