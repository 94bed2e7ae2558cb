"""Chapter 14: chapter 11's batched run on PyTorch, at full speed, and on several processes.

The contract is `batch_train`'s, step for step: the same split, the same batches in the same order
(drawn with the same `random.Random`), the same schedule (warm-up, then linear decay), AdamW
(here `torch.optim.AdamW`, whose arithmetic is batch_train's), validation every `eval_every` steps
with the same per-character measure, and the same checkpoints (version 2, the weights in
NumpyGPT's flat layout): a run started here resumes on the NumPy engine and back. In float64 on
the CPU the two engines print the same losses (to 1e-9); float32 and bfloat16 are for speed.

The model is chapter 10's `IdiomaticGPT`, fed a padded batch (right padding, so the causal mask
keeps every real position from seeing it) but computing only where it must: `PackedGPT` runs the
layers that act on each position alone (embeddings, RMSNorm, the linear layers, the loss) on the real
positions only, packed one after another, and pads them back into the (B, T) rectangle for attention
alone. The arithmetic of every real position is the padded model's; the padding is never computed.

Past one process: launched by `torchrun --nproc-per-node N`, each process takes a contiguous share
of every batch, and DistributedDataParallel averages the gradients (all-reduce) before each
AdamW step, so every process holds the same weights. A share's loss is weighted by its share of
the batch's real characters (times N, since the all-reduce averages), so the averaged gradient is
exactly the whole batch's. Rank 0 alone saves (and, on the command line, prints).

PyTorch is an optional extra of the course; only this module and torch_model import it.
"""
import contextlib
import dataclasses
import datetime
import functools
import math
import os
import random
import time

import numpy as np

from . import batch_train as bt
from .model import param_shapes
from .numpy_model import NumpyGPT, pad_batch
from .torch_model import IdiomaticGPT, to_idiomatic_names, to_microgpt_names  # says how to install torch
from .train import diverged

import torch
import torch.distributed as dist
import torch.nn.functional as F

DTYPES = ("float64", "float32", "bfloat16")
DEVICES = ("cpu", "cuda", "mps")


# ---------------------------------------------------------------- where and in what precision


def best_device():
    """The fastest device present: an NVIDIA GPU (cuda), an Apple GPU (mps), else the CPU."""
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def check_device(device, dtype):
    """`device` if it is present and holds `dtype`; otherwise a ValueError that says what to use instead."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA GPU is visible to this PyTorch (or it is the CPU-only build); use --device cpu")
    if device == "mps" and not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
        raise ValueError("--device mps: no Apple GPU (Metal) is available here; use --device cpu")
    if device == "mps" and dtype == "float64":
        raise ValueError("--device mps has no float64; use --dtype float32 (or bfloat16)")
    return device


def default_dtype(device):
    """float64 on the CPU (the NumPy engine's numbers exactly); float32 on a GPU, where float64 is slow or absent."""
    return "float64" if device == "cpu" else "float32"


def weight_dtype(dtype):
    """The weights' own type: bfloat16 runs keep float32 weights and compute in bfloat16 (autocast)."""
    return torch.float64 if dtype == "float64" else torch.float32


def fused_adamw(device):
    """torch.optim.AdamW's fused kernel where this PyTorch has one for `device` (CPU and CUDA do), else None."""
    return True if device in ("cpu", "cuda") else None


def autocast(run):
    """Mixed precision for a bfloat16 run (matrix products in bfloat16, weights and sums in float32)."""
    if run.dtype != "bfloat16":
        return contextlib.nullcontext()
    return torch.autocast(device_type=run.device, dtype=torch.bfloat16)


# ---------------------------------------------------------------- several processes (torchrun)


def distributed_setup(device):
    """(rank, world_size): join the process group if `torchrun` started this process, else (0, 1).

    torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT for every process it
    starts; gloo carries the all-reduce between CPU processes, NCCL between GPUs (one per process).
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return 0, 1
    if not dist.is_initialized():
        if device == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if device == "cuda" else "gloo", timeout=datetime.timedelta(minutes=10))
    return dist.get_rank(), dist.get_world_size()


def distributed_teardown():
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def agree(flag, run):
    """True on every process if it is True on any: all of them stop at the same step, or none."""
    if run.world_size == 1:
        return bool(flag)
    value = torch.tensor([1.0 if flag else 0.0], device=message_device(run))
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def all_sum(values, run):
    """The sum over every process of a float64 vector (here: summed losses and character counts)."""
    if run.world_size == 1:
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=message_device(run))
    dist.all_reduce(tensor)
    return tensor.tolist()


def message_device(run):
    """Where the processes' small messages live: NCCL sends only GPU tensors, gloo CPU ones."""
    return next(run.model.parameters()).device if run.device == "cuda" else torch.device("cpu")


def share(items, rank, world_size):
    """This process's contiguous share of a batch: B items over N processes, sizes differing by at most 1."""
    start, end = len(items) * rank // world_size, len(items) * (rank + 1) // world_size
    return items[start:end]


# ---------------------------------------------------------------- the weights in NumpyGPT's flat layout


def state_dict_from_flat(flat, config):
    """IdiomaticGPT's state_dict (float64 tensors) from a flat array in microgpt's order."""
    micro, start = {}, 0
    for name, (nout, nin) in param_shapes(config).items():
        micro[name] = torch.from_numpy(np.array(flat[start : start + nout * nin], dtype=np.float64).reshape(nout, nin))
        start += nout * nin
    return to_idiomatic_names(micro)


def flat_from_state_dict(state_dict, config):
    """The flat float64 array in microgpt's order of IdiomaticGPT-named tensors (weights or Adam's moments)."""
    micro = to_microgpt_names(state_dict, config)
    return np.concatenate([micro[name].detach().to("cpu", torch.float64).numpy().ravel() for name in param_shapes(config)])


# ---------------------------------------------------------------- the model, on the real positions only


class PackedGPT(IdiomaticGPT):
    """`IdiomaticGPT` (the same weights, names and state_dict) that computes the real positions only.

    A random batch of names is about a third padding (chapter 14, section 3). Every layer but attention
    acts on each position alone, so those layers run on the N real positions packed into an (N, C)
    matrix; attention, which mixes the positions of a name, gets them back in the padded (B, T)
    rectangle, the padding as zeros, which the causal mask keeps every real position from seeing.
    """

    def forward(self, idx, keep=None):
        """Logits (N, vocab_size) of the real positions `keep` (indices into the flattened (B, T) batch
        `idx`, in order); without `keep`, IdiomaticGPT's (logits, loss) of the whole rectangle."""
        if keep is None:
            return super().forward(idx)
        B, T = idx.shape
        if T > self.config.block_size:
            raise ValueError(f"{T} positions do not fit in the context of block_size={self.config.block_size}")
        C, wte, wpe = self.config.n_embd, self.transformer.wte, self.transformer.wpe
        x = F.rms_norm(wte(idx.take(keep)) + wpe(keep % T), (C,), eps=1e-5)  # (N, C)
        future = causal_bias(T, wte.weight.dtype, wte.weight.device)
        for block in self.transformer.h:
            y = self.attention(block.attn, F.rms_norm(x, (C,), eps=1e-5), keep, B, T, future)
            x = x + block.attn.c_proj(y)
            x = x + block.mlp(F.rms_norm(x, (C,), eps=1e-5))
        return self.lm_head(x)

    def attention(self, attn, x, keep, B, T, future, attend=None):
        """Causal self-attention of the packed positions `x` (N, C): q, k and v of the real positions,
        padded with zeros into (n_head x B, T, head_dim), attended, and packed again (N, C).

        Written out (matrix products and softmax) rather than F.scaled_dot_product_attention: on the
        CPU, with T and head_dim this small, PyTorch's fused kernel measured about twice as slow.
        `attend` is `attend_bmm` (batched matrix products) eagerly, and under torch.compile
        `attend_broadcast` (the same formula as broadcast products and sums), which the compiler
        fuses with the padding and the packing around it (chapter 14, section 5).
        """
        C, n_head = self.config.n_embd, self.config.n_head
        head_dim = C // n_head
        qkv = attn.c_attn(x).view(-1, 3, n_head, head_dim).permute(1, 2, 0, 3)  # (3, n_head, N, hd)
        # padded into (3, n_head, B*T, head_dim): each head's rows of the B names are one batch of
        # matrix products, with no copy to reorder them
        qkv = qkv.new_zeros(3, n_head, B * T, head_dim).index_copy(2, keep, qkv)
        q, k, v = qkv.view(3, n_head * B, T, head_dim)
        if attend is None:
            attend = attend_broadcast if torch.compiler.is_compiling() else attend_bmm
        y = attend(q, k, v, future)  # (n_head x B, T, head_dim)
        y = y.view(n_head, B * T, head_dim).index_select(1, keep)  # (n_head, N, head_dim)
        return y.permute(1, 0, 2).reshape(-1, C)  # the heads side by side again


def attend_bmm(q, k, v, future):
    """Attention of a batch of (T, head_dim) queries, keys and values, as batched matrix products
    (what runs without torch.compile): softmax(q k^T / sqrt(head_dim) + future) v."""
    # scores[:, key, query] = k . q / sqrt(head_dim), plus -inf where the key is after the query;
    # laid out (key, query) so that the softmax runs over dim 1, not over a short last dim (on
    # the CPU, PyTorch's softmax over a last dim of 8 to 15 measured 2.5 to 4 times slower)
    scores = torch.baddbmm(future, k, q.transpose(1, 2), alpha=1 / math.sqrt(q.shape[-1]))
    # the softmax in float32 at least (as autocast does): a bfloat16 run multiplies in bfloat16,
    # but sums in float32
    attn_weights = F.softmax(scores, dim=1, dtype=torch.promote_types(scores.dtype, torch.float32))
    return torch.bmm(attn_weights.transpose(1, 2), v)


def attend_broadcast(q, k, v, future):
    """`attend_bmm`'s attention written as products broadcast and summed (what torch.compile runs).

    Run as it reads, it builds (b, T, T, head_dim) tensors: slower than the batched products. Compiled,
    the padding before it, both sums, the softmax and the packing after it become generated loops, with
    none of those tensors in memory; a matrix product, by contrast, stays a library call, whose inputs
    and output the compiler must write out in full (chapter 14, section 5 measures the three ways).
    """
    out_dtype, dtype = v.dtype, torch.promote_types(q.dtype, torch.float32)  # bfloat16 still sums in float32
    q, k, v = q.to(dtype), k.to(dtype), v.to(dtype)
    # scores[:, key, query] as in attend_bmm
    scores = (k[:, :, None, :] * q[:, None, :, :]).sum(-1) / math.sqrt(q.shape[-1]) + future
    attn_weights = F.softmax(scores, dim=1)
    return (attn_weights[:, :, :, None] * v[:, :, None, :]).sum(1).to(out_dtype)  # (b, query, head_dim)


def causal_bias(T, dtype, device):
    """The causal mask as a bias on scores laid out (key, query): 0 where the query may see the key
    (itself and the past), -inf where the key comes after it. Made once per T, dtype and device
    (under torch.compile, which does not trace through a cache, made inside the compiled graph)."""
    if torch.compiler.is_compiling():
        return make_causal_bias(T, dtype, device)
    return cached_causal_bias(T, dtype, device)


def make_causal_bias(T, dtype, device):
    return torch.full((T, T), -math.inf, dtype=dtype, device=device).tril(-1)


cached_causal_bias = functools.lru_cache(maxsize=64)(make_causal_bias)


# ---------------------------------------------------------------- a run


@dataclasses.dataclass
class TorchRun:
    """`batch_train.Run` on PyTorch: the same fields, plus where and how it computes."""

    model: PackedGPT  # IdiomaticGPT's weights (on `device`, float64 or float32)
    optimizer: torch.optim.AdamW
    rng: random.Random
    config: bt.RunConfig
    schedule: bt.AdamW  # batch_train's AdamW, asked only for the learning rate of each step (lr_at)
    step: int = 0
    loss_history: list = dataclasses.field(default_factory=list)
    pending: list = dataclasses.field(default_factory=list)
    val_history: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    command: list = None
    device: str = "cpu"
    dtype: str = "float64"
    rank: int = 0
    world_size: int = 1
    forward: object = None  # what training calls: the model, compiled and/or wrapped in DistributedDataParallel

    @property
    def best_val(self):
        return min((loss for _, loss in self.val_history), default=math.inf)

    @property
    def num_params(self):
        return sum(p.numel() for p in self.model.parameters())


def from_numpy_run(numpy_run, device=None, dtype=None, compile=False):
    """A `TorchRun` holding exactly `numpy_run`'s state (weights, Adam's moments, generator, histories).

    Under torchrun the process group is joined here; every process starts from the same state.
    """
    device = check_device(device or best_device(), dtype or default_dtype(device or best_device()))
    dtype = dtype or default_dtype(device)
    rank, world_size = distributed_setup(device)
    config = numpy_run.config
    if config.batch_size < world_size:
        raise ValueError(f"batch_size={config.batch_size} is fewer names than the {world_size} processes; "
                         "give each process at least one")
    if device == "cuda" and world_size > 1:
        device_index = torch.device("cuda", torch.cuda.current_device())
    else:
        device_index = torch.device(device)
    gpt_config = numpy_run.model.config
    model = PackedGPT(gpt_config)
    model.load_state_dict(state_dict_from_flat(numpy_run.model.flat, gpt_config))
    model.to(device=device_index, dtype=weight_dtype(dtype))
    # fused: one kernel updates every parameter (not a loop of small operations per parameter)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, betas=(config.beta1, config.beta2), eps=1e-8,
                                  weight_decay=config.weight_decay, fused=fused_adamw(device))
    if numpy_run.step > 0:  # Adam's moments, from NumpyGPT's flat layout into torch's per-parameter state
        moments = {key: state_dict_from_flat(numpy_run.optimizer.state_dict()[key], gpt_config) for key in ("m", "v")}
        for name, p in model.named_parameters():
            # the fused kernel keeps the step count on the weights' device, the loop on the CPU
            step = torch.tensor(float(numpy_run.step), dtype=torch.float32,
                                device=p.device if optimizer.defaults["fused"] else "cpu")
            optimizer.state[p] = {"step": step,
                                  "exp_avg": moments["m"][name].to(p.device, p.dtype).clone(),
                                  "exp_avg_sq": moments["v"][name].to(p.device, p.dtype).clone()}
    forward = torch.compile(model, dynamic=True) if compile else model
    if world_size > 1:
        forward = torch.nn.parallel.DistributedDataParallel(forward, device_ids=None if device != "cuda" else [device_index])
    return TorchRun(model, optimizer, numpy_run.rng, config, numpy_run.optimizer, numpy_run.step,
                    list(numpy_run.loss_history), [list(b) for b in numpy_run.pending],
                    [list(p) for p in numpy_run.val_history], numpy_run.seconds, numpy_run.command,
                    device, dtype, rank, world_size, forward)


def start_run(gpt_config, config, device=None, dtype=None, compile=False):
    """A fresh run: the weights batch_train.start_run draws (the same generator, the same order)."""
    return from_numpy_run(bt.start_run(gpt_config, config), device, dtype, compile)


def check_batched_checkpoint(path, how_to_resume=None):
    """batch_train.check_batched_checkpoint, its message naming this engine."""
    bt.check_batched_checkpoint(path, how_to_resume, engine="--engine torch")


def resume_run(path, gpt_config, config, tokenizer, train_docs, device=None, dtype=None, compile=False):
    """The run saved at `path` (by either engine), ready to continue; an error in one line if it was another run."""
    check_batched_checkpoint(path)
    return from_numpy_run(bt.resume_run(path, gpt_config, config, tokenizer, train_docs), device, dtype, compile)


def to_numpy_run(run):
    """`run` as a `batch_train.Run` (a NumpyGPT and batch_train's AdamW): what is saved, and what samples."""
    gpt_config = run.model.config
    model = NumpyGPT(gpt_config, flat=flat_from_state_dict(run.model.state_dict(), gpt_config))
    optimizer = bt.make_optimizer(model, run.config)
    if run.step > 0:
        named = dict(run.model.named_parameters())
        moments = {key: {name: run.optimizer.state[p][torch_key] for name, p in named.items()}
                   for key, torch_key in (("m", "exp_avg"), ("v", "exp_avg_sq"))}
        optimizer.load_state_dict({key: flat_from_state_dict(m, gpt_config) for key, m in moments.items()})
    return bt.Run(model, optimizer, run.rng, run.config, run.step, list(run.loss_history), [list(b) for b in run.pending],
                  [list(p) for p in run.val_history], run.seconds, run.command)


def save_run(path, run, tokenizer, train_docs, resumable=True):
    """batch_train's checkpoint of `run` (any engine loads it); under torchrun, rank 0 alone writes."""
    if run.rank == 0:
        bt.save_run(path, to_numpy_run(run), tokenizer, train_docs, resumable=resumable)


best_path = bt.best_path


# ---------------------------------------------------------------- loss, evaluation, training


def batch_tensors(token_lists, block_size, device):
    """pad_batch's padded inputs (B, T), the indices `keep` of its real positions in the flattened
    batch (N,), and their targets (N,), as tensors on `device`."""
    inputs, targets, mask = pad_batch(token_lists, block_size, pad_id=0)
    keep = np.flatnonzero(mask)
    return (torch.from_numpy(inputs).to(device), torch.from_numpy(keep).to(device),
            torch.from_numpy(targets.ravel()[keep]).to(device))


def nll_sum(run, forward, token_lists):
    """The summed negative log-likelihood of every real prediction of `token_lists` (a 0-d tensor)."""
    device = next(run.model.parameters()).device
    inputs, keep, targets = batch_tensors(token_lists, run.model.config.block_size, device)
    with autocast(run):
        logits = forward(inputs, keep)  # (N, vocab_size): the real positions only
    logits = logits.to(weight_dtype(run.dtype))  # the softmax and the sums in the weights' precision
    return F.cross_entropy(logits, targets, reduction="sum")


def masked_loss(run, token_lists):
    """batch_train.masked_loss: the mean loss per real prediction of the whole batch (one process)."""
    real = sum(min(run.model.config.block_size, len(t) - 1) for t in token_lists)
    return nll_sum(run, run.forward, token_lists) / real


@torch.inference_mode()  # no autograd bookkeeping at all (no_grad still tracks versions and views)
def evaluate(run, tokenizer, docs, batch_size=500):
    """batch_train.evaluate on this run's model: nats per character (closing BOS included) of `docs`.

    Under torchrun each process scores its share of `docs` and the sums are all-reduced.
    """
    if not docs:
        raise ValueError("no documents to evaluate on")
    mine = share(docs, run.rank, run.world_size)
    total_nll = 0.0
    for start in range(0, len(mine), batch_size):
        batch = mine[start : start + batch_size]
        token_lists = [tokenizer.tokenize(doc) for doc in batch]
        for doc, tokens in zip(batch, token_lists):
            if len(tokens) - 1 > run.model.config.block_size:
                raise ValueError(f"{doc!r} needs {len(tokens) - 1} predictions; "
                                 f"block_size={run.model.config.block_size} holds fewer")
        total_nll += float(nll_sum(run, run.model, token_lists))
    (total_nll,) = all_sum([total_nll], run)
    return total_nll / sum(len(doc) + 1 for doc in docs)


def train_step(run, tokenizer, batch):
    """One step on `batch` (documents): this process's share forward and backward, gradients averaged
    over the processes, AdamW with the step's learning rate. Returns the whole batch's mean loss."""
    token_lists = [tokenizer.tokenize(doc) for doc in batch]
    block_size = run.model.config.block_size
    real = sum(min(block_size, len(t) - 1) for t in token_lists)  # every process knows the whole batch
    mine = share(token_lists, run.rank, run.world_size)
    # the whole batch's mean is sum over processes of (my nll sum) / real; DDP averages the gradients
    # (divides their sum by world_size), so each process scales its part up by world_size
    loss = nll_sum(run, run.forward, mine) * (run.world_size / real)
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    lr_t = run.schedule.lr_at(run.step)
    for group in run.optimizer.param_groups:
        group["lr"] = lr_t
    run.optimizer.step()
    (loss_value,) = all_sum([loss.item() / run.world_size], run)
    return loss_value


def train_run(run, tokenizer, train_docs, val_docs, save_path=None, callback=None, should_stop=None, on_save=None):
    """batch_train.train_run on PyTorch: the same steps, evaluations, saves and callbacks.

    Under torchrun, `should_stop()` is asked on every process and any True stops all of them at the
    same step boundary; rank 0 alone writes files (and calls `on_save`).
    """
    config = run.config
    if len(train_docs) < config.batch_size:
        raise ValueError(f"batch_size={config.batch_size} is more than the {len(train_docs)} training documents")
    if not val_docs:
        raise ValueError("no validation documents")
    run.model.train()
    started = time.perf_counter() - run.seconds
    while run.step < config.num_steps:
        if agree(should_stop is not None and should_stop(), run):
            break
        step = run.step
        batch = [train_docs[i] for i in bt.next_batch(run, train_docs)]
        loss_value = train_step(run, tokenizer, batch)
        if not math.isfinite(loss_value):
            raise diverged(step, loss_value)
        run.loss_history.append(loss_value)
        run.step = step + 1
        val_loss = None
        run.seconds = time.perf_counter() - started
        if run.step % config.eval_every == 0 or run.step == config.num_steps:
            val_loss = evaluate(run, tokenizer, val_docs)
            improved = val_loss < run.best_val
            run.val_history.append([run.step, val_loss])
            if improved and save_path is not None:
                save_run(best_path(save_path), run, tokenizer, train_docs, resumable=False)
                if on_save is not None and run.rank == 0:
                    on_save(best_path(save_path), run)
        run.seconds = time.perf_counter() - started
        if save_path is not None and ((config.save_every and run.step % config.save_every == 0) or run.step == config.num_steps):
            save_run(save_path, run, tokenizer, train_docs)
            if on_save is not None and run.rank == 0:
                on_save(save_path, run)
        if callback is not None:
            callback(run, val_loss)
    return run
