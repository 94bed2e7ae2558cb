"""Chapter 14's torch engine against chapter 11's NumPy engine: the same losses, the same checkpoints, exact resume.

Without torch every test here is skipped with the reason.
"""
import numpy as np
import pytest

from microgpt_lib import batch_train as bt
from microgpt_lib.checkpoint import load_checkpoint
from microgpt_lib.data import load_docs, split_docs
from microgpt_lib.model import GPTConfig
from microgpt_lib.tokenizer import Tokenizer

NO_TORCH = "torch is not installed: make torch"
SPLIT = split_docs(load_docs())
TOKENIZER = Tokenizer(sorted(set("".join(SPLIT.train + SPLIT.val + SPLIT.test))))
TRAIN, VAL = SPLIT.train, SPLIT.val[:100]
SMALL = GPTConfig(TOKENIZER.vocab_size, n_embd=16, n_head=4, n_layer=2, block_size=16)
CONFIG = bt.RunConfig(num_steps=50, batch_size=16, lr=0.01, warmup_steps=5, weight_decay=0.1, eval_every=20, seed=3)


@pytest.fixture(scope="module")
def tt():
    pytest.importorskip("torch", reason=NO_TORCH)
    from microgpt_lib import torch_train

    return torch_train


@pytest.fixture(scope="module")
def numpy_run():
    return bt.train_run(bt.start_run(SMALL, CONFIG), TOKENIZER, TRAIN, VAL)


def test_float64_on_the_cpu_prints_the_numpy_engines_losses(tt, numpy_run):
    run = tt.train_run(tt.start_run(SMALL, CONFIG, "cpu", "float64"), TOKENIZER, TRAIN, VAL)
    assert len(run.loss_history) == 50
    np.testing.assert_allclose(run.loss_history, numpy_run.loss_history, rtol=0, atol=1e-9)
    assert [s for s, _ in run.val_history] == [20, 40, 50]
    np.testing.assert_allclose([v for _, v in run.val_history], [v for _, v in numpy_run.val_history], rtol=0, atol=1e-9)
    np.testing.assert_allclose(tt.to_numpy_run(run).model.flat, numpy_run.model.flat, rtol=0, atol=1e-9)
    assert run.loss_history[-1] < run.loss_history[0] - 0.5  # it learnt something


def test_packed_gpt_computes_the_padded_models_logits_of_the_real_positions(tt):
    """PackedGPT runs all but attention on the real positions only: the same logits there as IdiomaticGPT on
    the padded batch (float64, to rounding), whatever the padding holds."""
    import torch

    from microgpt_lib.torch_model import IdiomaticGPT

    padded, packed = IdiomaticGPT(SMALL), tt.PackedGPT(SMALL)
    packed.load_state_dict(padded.state_dict())
    token_lists = [TOKENIZER.tokenize(name) for name in ("emma", "christopher", "al", "sophia")]
    inputs, keep, targets = tt.batch_tensors(token_lists, SMALL.block_size, "cpu")
    assert len(keep) == sum(len(t) - 1 for t in token_lists) < inputs.numel()  # padding left out
    expected = padded(inputs)[0].flatten(0, 1)[keep]
    torch.testing.assert_close(packed(inputs, keep), expected, rtol=0, atol=1e-12)
    garbage = inputs.clone().flatten()
    garbage[[i for i in range(inputs.numel()) if i not in set(keep.tolist())]] = 5  # other padding tokens
    torch.testing.assert_close(packed(garbage.view(inputs.shape), keep), expected, rtol=0, atol=1e-12)
    assert torch.equal(targets, torch.tensor([t for tokens in token_lists for t in tokens[1:]]))


def test_attention_under_torch_compile_is_the_eager_attention(tt, monkeypatch):
    """attend_broadcast (products broadcast and summed: what torch.compile fuses) is attend_bmm (batched
    matrix products: what runs eagerly), values and gradients, the causal mask included (float64, to
    rounding); a bfloat16 input is summed in float32; and PackedGPT takes it while compiling."""
    import torch

    from microgpt_lib.torch_model import IdiomaticGPT

    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(6, 5, 4, generator=gen, dtype=torch.float64, requires_grad=True) for _ in range(3))
    future = tt.make_causal_bias(5, torch.float64, "cpu")
    eager, fused = tt.attend_bmm(q, k, v, future), tt.attend_broadcast(q, k, v, future)
    torch.testing.assert_close(fused, eager, rtol=0, atol=1e-12)
    g = torch.randn(6, 5, 4, generator=gen, dtype=torch.float64)
    for a, b in zip(torch.autograd.grad(fused, (q, k, v), g), torch.autograd.grad(eager, (q, k, v), g)):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    low = [t.detach().to(torch.bfloat16) for t in (q, k, v)]
    f32 = tt.make_causal_bias(5, torch.float32, "cpu")
    expected = tt.attend_broadcast(*(t.float() for t in low), f32).to(torch.bfloat16)
    assert torch.equal(tt.attend_broadcast(*low, f32), expected)
    padded, packed = IdiomaticGPT(SMALL), tt.PackedGPT(SMALL)
    packed.load_state_dict(padded.state_dict())
    token_lists = [TOKENIZER.tokenize(name) for name in ("emma", "christopher", "al")]
    inputs, keep, _ = tt.batch_tensors(token_lists, SMALL.block_size, "cpu")
    calls = []
    monkeypatch.setattr(tt, "attend_broadcast", lambda *a: calls.append(1) or tt.attend_bmm(*a))
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    torch.testing.assert_close(packed(inputs, keep), padded(inputs)[0].flatten(0, 1)[keep], rtol=0, atol=1e-12)
    assert len(calls) == SMALL.n_layer


def test_float32_and_bfloat16_reach_about_the_same_loss(tt, numpy_run):
    for dtype, tol in (("float32", 1e-4), ("bfloat16", 0.05)):
        run = tt.train_run(tt.start_run(SMALL, CONFIG, "cpu", dtype), TOKENIZER, TRAIN, VAL)
        assert abs(run.val_history[-1][1] - numpy_run.val_history[-1][1]) < tol, dtype
        assert next(run.model.parameters()).dtype.is_floating_point


def test_interrupted_saved_and_resumed_on_either_engine_ends_with_the_same_weights(tt, tmp_path):
    config = bt.RunConfig(num_steps=12, batch_size=8, lr=0.01, warmup_steps=2, weight_decay=0.1, eval_every=4, seed=5,
                          pool_batches=3)
    straight = tt.train_run(tt.start_run(SMALL, config, "cpu"), TOKENIZER, TRAIN, VAL)
    half = tt.start_run(SMALL, config, "cpu")
    tt.train_run(half, TOKENIZER, TRAIN, VAL, should_stop=lambda: half.step >= 7)
    assert half.step == 7 and half.pending  # a pool of batches half used: saved too
    tt.save_run(tmp_path / "run.json", half, TOKENIZER, TRAIN)
    resumed = tt.train_run(tt.resume_run(tmp_path / "run.json", SMALL, config, TOKENIZER, TRAIN, "cpu"), TOKENIZER, TRAIN, VAL)
    flat = tt.to_numpy_run(straight).model.flat
    np.testing.assert_array_equal(tt.to_numpy_run(resumed).model.flat, flat)  # exact: same arithmetic, same order
    assert resumed.loss_history == straight.loss_history and resumed.val_history == straight.val_history
    on_numpy = bt.train_run(bt.resume_run(tmp_path / "run.json", SMALL, config, TOKENIZER, TRAIN), TOKENIZER, TRAIN, VAL)
    np.testing.assert_allclose(on_numpy.model.flat, flat, rtol=0, atol=1e-12)  # the checkpoint is the NumPy engine's


def test_the_checkpoint_is_version_2_in_numpygpts_layout(tt, tmp_path):
    run = tt.train_run(tt.start_run(SMALL, bt.RunConfig(num_steps=3, batch_size=4, eval_every=3), "cpu"),
                       TOKENIZER, TRAIN, VAL, save_path=tmp_path / "run.json")
    saved = load_checkpoint(tmp_path / "run.json", engine="numpy")
    np.testing.assert_array_equal(saved.model.flat, tt.to_numpy_run(run).model.flat)
    assert saved.step == 3 and saved.extra["val_history"] == run.val_history
    assert abs(bt.evaluate(saved.model, TOKENIZER, VAL) - run.val_history[-1][1]) < 1e-12
    assert (tmp_path / "run.best.json").is_file()


def test_devices_absent_or_wrong_say_what_to_use(tt):
    import torch

    with pytest.raises(ValueError, match="device must be one of cpu, cuda, mps"):
        tt.check_device("tpu", "float32")
    with pytest.raises(ValueError, match="dtype must be one of"):
        tt.check_device("cpu", "float16")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="--device cuda: no CUDA GPU.*use --device cpu"):
            tt.check_device("cuda", "float32")
    with pytest.raises(ValueError, match="mps"):
        tt.check_device("mps", "float64")


@pytest.mark.parametrize("device", ["cuda", "mps"])
def test_a_gpu_run_agrees_with_the_cpu_in_float32(tt, device):
    import torch

    if tt.best_device() == "cpu" or (device == "cuda") != torch.cuda.is_available():
        pytest.skip(f"no {device} device on this machine (PyTorch {torch.__version__}): the {device} path is untested here")
    config = bt.RunConfig(num_steps=10, batch_size=8, eval_every=10)
    cpu = tt.train_run(tt.start_run(SMALL, config, "cpu", "float32"), TOKENIZER, TRAIN, VAL)
    gpu = tt.train_run(tt.start_run(SMALL, config, device, "float32"), TOKENIZER, TRAIN, VAL)
    np.testing.assert_allclose(gpu.loss_history, cpu.loss_history, rtol=0, atol=1e-4)


def test_attention_takes_its_softmax_in_float32_at_least_and_makes_the_mask_once_per_length(tt):
    """A bfloat16 run multiplies in bfloat16 but takes attention's softmax in float32 (float64 runs
    in float64); the causal mask, laid out (key, query), is made once per length and reused."""
    import torch
    from torch.overrides import TorchFunctionMode

    class SoftmaxDtypes(TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.dtypes = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if func in (torch.nn.functional.softmax, torch.softmax, torch.Tensor.softmax):
                self.dtypes.append(out.dtype)
            return out

    token_lists = [TOKENIZER.tokenize(name) for name in ("emma", "christopher", "al")]
    for dtype, expected in (("bfloat16", torch.float32), ("float32", torch.float32), ("float64", torch.float64)):
        run = tt.start_run(SMALL, CONFIG, "cpu", dtype)
        with SoftmaxDtypes() as seen:
            tt.nll_sum(run, run.model, token_lists)
        assert seen.dtypes == [expected] * SMALL.n_layer, dtype
    tt.cached_causal_bias.cache_clear()
    bias = tt.causal_bias(4, torch.float64, torch.device("cpu"))
    key_after_query = torch.arange(4)[:, None] > torch.arange(4)[None, :]
    assert torch.equal(bias == -torch.inf, key_after_query) and bool((bias[~key_after_query] == 0).all())
    run = tt.start_run(SMALL, CONFIG, "cpu", "float64")
    for _ in range(3):
        tt.nll_sum(run, run.model, token_lists)
    assert tt.cached_causal_bias.cache_info().misses == 2  # T=4 above, then the batch's length, once
