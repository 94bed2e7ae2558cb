"""Checks for the exercises of chapter 05 (the GPT): each compares with `microgpt_lib.model`.

In every check, `__tracebackhide__ = True` asks IPython to leave the check's own frames out of a
traceback, so that a learner sees their code and the message, not the inside of the check.
"""
import random

from ..autograd import Value
from ..model import GPT, GPTConfig, count_params, mlp
from ..nn import matrix, rmsnorm
from . import all_close, fail, fmt, passed


def call(name, hint, f, *args):
    """f(*args); an error other than NotImplementedError (an unsolved stub) fails the check with `hint`.

    The learner's own error stays attached (`from err`), so its traceback still shows where it happened.
    """
    __tracebackhide__ = True
    try:
        return f(*args)
    except NotImplementedError:
        raise
    except Exception as err:
        raise AssertionError(f"{name}: {f.__name__} raised {type(err).__name__}: {err}. Hint: {hint}") from err


def data_of(name, xs, length, what):
    """The floats of a list of `length` Values, or a failure that says what came back instead."""
    __tracebackhide__ = True
    if not isinstance(xs, (list, tuple)) or len(xs) != length:
        fail(name, f"a list of {length} Values ({what})", fmt(xs) if isinstance(xs, (list, tuple)) else repr(xs),
             "return a list with one Value per number")
    if not all(isinstance(x, Value) for x in xs):
        fail(name, f"a list of Values ({what})", f"a list of {type(next(x for x in xs if not isinstance(x, Value))).__name__}",
             "keep every number a Value (do not take .data), so that backward can reach the parameters")
    return [x.data for x in xs]


def check_num_params(num_params):
    """num_params(vocab_size, n_embd, n_layer, block_size) against the library's count_params."""
    __tracebackhide__ = True
    name = "num_params"
    configs = [
        GPTConfig(),  # microgpt: 4192
        GPTConfig(n_layer=2),  # a second layer adds its six matrices again
        GPTConfig(block_size=8),  # fewer positions, fewer rows of wpe
        GPTConfig(vocab_size=10, n_embd=8, n_head=2, n_layer=3, block_size=4),
        GPTConfig(n_embd=8, n_head=2, n_layer=2, block_size=8),  # the 2032 of the seed-1 reference run
    ]
    for c in configs:
        expected = sum(count_params(c).values())
        got = call(name, "count rows x columns of every matrix", num_params, c.vocab_size, c.n_embd, c.n_layer, c.block_size)
        if got != expected:
            fail(
                name,
                f"{expected} for vocab_size={c.vocab_size}, n_embd={c.n_embd}, n_layer={c.n_layer}, block_size={c.block_size}",
                fmt(got),
                "wte and lm_head are vocab_size x n_embd, wpe is block_size x n_embd; each layer has four "
                "n_embd x n_embd attention matrices and two MLP matrices of 4*n_embd x n_embd",
            )
    passed(name, f"{len(configs)} configurations, 4192 at microgpt's defaults")


def tiny_model(n_layer=1, n_head=2, seed=0):
    """A small GPT with random weights: n_embd 8, block_size 8, the names' 27 tokens."""
    return GPT(GPTConfig(vocab_size=27, n_embd=8, n_head=n_head, n_layer=n_layer, block_size=8), random.Random(seed))


def check_embed(embed):
    """embed(state_dict, token_id, pos_id) against the first lines of GPT.__call__."""
    __tracebackhide__ = True
    name = "embed"
    sd = tiny_model().state_dict
    for token_id, pos_id in [(0, 0), (26, 7), (5, 3), (3, 5)]:
        expected = rmsnorm([t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])])
        got = data_of(name, call(name, "token_id picks a row of wte (vocab_size rows), pos_id a row of wpe (block_size rows)", embed, sd, token_id, pos_id), 8,
                      f"token {token_id} at position {pos_id}")
        if not all_close(got, [x.data for x in expected]):
            fail(
                name,
                f"{fmt([x.data for x in expected])} for token {token_id} at position {pos_id}",
                fmt(got),
                "add row token_id of wte and row pos_id of wpe element by element, then rmsnorm the sum",
            )
    passed(name, "token + position, then rmsnorm, for 4 (token, position) pairs")


def check_mlp_block(mlp_block):
    """mlp_block(x, fc1, fc2) against x + mlp(rmsnorm(x)) with the library's pieces."""
    __tracebackhide__ = True
    name = "mlp_block"
    rng = random.Random(5)
    for n_embd, std in [(4, 1.0), (8, 0.5)]:
        x = [Value(rng.gauss(0, 2.0)) for _ in range(n_embd)]  # not normalised: rmsnorm must matter
        fc1, fc2 = matrix(4 * n_embd, n_embd, rng, std), matrix(n_embd, 4 * n_embd, rng, std)
        expected = [a.data + b.data for a, b in zip(mlp(rmsnorm(x), fc1, fc2), x)]
        got = data_of(name, call(name, "fc1 is 4*n_embd x n_embd, so it comes first: linear(rmsnorm(x), fc1)", mlp_block, x, fc1, fc2),
                      n_embd, f"n_embd={n_embd}")
        if not all_close(got, expected):
            fail(
                name,
                f"{fmt(expected)} (n_embd={n_embd})",
                fmt(got),
                "normalise x with rmsnorm, widen with fc1, relu, narrow with fc2, "
                "then add the block's input x itself (not its normalised copy): the residual",
            )
    passed(name, "x + fc2(relu(fc1(rmsnorm(x)))) for n_embd 4 and 8")


def check_gpt(gpt):
    """gpt(state_dict, config, token_id, pos_id, keys, values) against GPT, position by position."""
    __tracebackhide__ = True
    name = "gpt"
    cases = [  # (model, tokens of a document): two layers, then four heads
        (tiny_model(n_layer=2, n_head=2, seed=1), [26, 4, 12, 12, 0, 26]),  # BOS e m m a BOS
        (tiny_model(n_layer=1, n_head=4, seed=2), [26, 25, 14, 4, 26]),  # BOS z o e BOS
    ]
    for model, tokens in cases:
        c = model.config
        keys, values = model.empty_cache()
        my_keys, my_values = model.empty_cache()
        for pos_id, token_id in enumerate(tokens):
            expected = [logit.data for logit in model(token_id, pos_id, keys, values)]
            logits = call(name, "each layer appends k and v to its own cache, keys[li] and values[li], before attention reads it", gpt,
                          model.state_dict, c, token_id, pos_id, my_keys, my_values)
            got = data_of(name, logits, c.vocab_size, "the logits")
            if not all_close(got, expected):
                fail(
                    name,
                    f"the logits {fmt(expected)} at position {pos_id} (n_layer={c.n_layer}, n_head={c.n_head})",
                    fmt(got),
                    "rmsnorm after the embedding; per layer: rmsnorm, q k v, append k and v to that layer's "
                    "cache keys[li] / values[li], attention, attn_wo, add the residual; then the MLP block "
                    "with its residual; no rmsnorm before lm_head",
                )
    passed(name, "the same logits as GPT at every position, with 2 layers and with 4 heads")
