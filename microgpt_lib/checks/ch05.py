"""Checks for the exercises of chapter 05 (the GPT): each compares with `microgpt_lib.model`.

In every check, `__tracebackhide__ = True` asks IPython to leave the check's own frames out of a
traceback, so that a learner sees their code and the message, not the inside of the check.
"""
import math
import random

from ..autograd import Value
from ..model import GPT, GPTConfig, attention, count_params, mlp
from ..nn import linear, nll, rmsnorm, softmax
from . import all_close, call, close, fail, fmt, passed


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


def num_params_reference(vocab_size, n_embd, n_layer, block_size, mlp_hidden, tied):
    outside = (vocab_size + block_size) * n_embd + (0 if tied else vocab_size * n_embd)  # wte, wpe, lm_head
    return outside + n_layer * (4 * n_embd * n_embd + 2 * mlp_hidden * n_embd)


def check_num_params(num_params, cases=None):
    """num_params(vocab_size, n_embd, n_layer, block_size, mlp_hidden, tied): a count for changed configurations."""
    __tracebackhide__ = True
    name = "num_params"
    # (vocab_size, n_embd, n_layer, block_size, mlp_hidden, tied)
    cases = cases or [(27, 16, 1, 16, 64, False), (27, 16, 1, 16, 64, True), (27, 16, 1, 16, 32, False),
                      (10, 8, 1, 4, 8, True)]
    for args in cases:
        expected = num_params_reference(*args)
        if args[4] == 4 * args[1] and not args[5]:  # microgpt's shape: the library counts it too
            config = GPTConfig(vocab_size=args[0], n_embd=args[1], n_head=1, n_layer=args[2], block_size=args[3])
            assert expected == sum(count_params(config).values())
        got = call(name, num_params, *args, hint="count rows x columns of every matrix")
        if got != expected:
            fail(name, f"{expected} for vocab_size={args[0]}, n_embd={args[1]}, n_layer={args[2]}, block_size={args[3]}, "
                       f"mlp_hidden={args[4]}, tied={args[5]}", fmt(got),
                 "wte is vocab_size x n_embd, wpe block_size x n_embd, lm_head vocab_size x n_embd unless it is tied "
                 "to wte (then it adds nothing); each of the n_layer layers has four n_embd x n_embd attention "
                 "matrices, mlp_fc1 of mlp_hidden x n_embd and mlp_fc2 of n_embd x mlp_hidden")
    passed(name, f"{len(cases)} configurations, 4192 at microgpt's defaults")


def tiny_model(n_layer=1, n_head=2, seed=0, init_std=0.08):
    """A small GPT with random weights: n_embd 8, block_size 8, the names' 27 tokens."""
    config = GPTConfig(vocab_size=27, n_embd=8, n_head=n_head, n_layer=n_layer, block_size=8, init_std=init_std)
    return GPT(config, random.Random(seed))


def random_vectors(count, n_embd, seed):
    """`count` vectors of Values, not normalised (so that a forgotten rmsnorm shows)."""
    rng = random.Random(seed)
    return [[Value(rng.gauss(0, 2.0)) for _ in range(n_embd)] for _ in range(count)]


def gelu_reference(x):
    """GELU's tanh form and its derivative, for a float (math.tanh never overflows)."""
    c = (2 / math.pi) ** 0.5
    u = c * (x + 0.044715 * x**3)
    t = math.tanh(u)
    return 0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)


def check_gelu(gelu, cases=None):
    """gelu(x) for one Value: the tanh approximation of GELU, value and gradient."""
    __tracebackhide__ = True
    name = "gelu"
    cases = cases or [-2.0, -0.5, 0.0, 0.5, 1.0, 3.0]
    for x in cases:
        expected, expected_grad = gelu_reference(x)
        xv = Value(x)
        out = call(name, gelu, xv, hint="build tanh from Value's exp; where exp(2u) would overflow, use exp(-2u)")
        if not isinstance(out, Value):
            fail(name, f"a Value for gelu({x})", type(out).__name__,
                 "build the result from Value operations (*, +, /, .exp()) so that backward goes through it")
        if not close(out.data, expected, 1e-9):
            fail(name, f"{fmt(expected)} for gelu({x})", fmt(out.data),
                 "0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3))), with tanh(u) = (e**2u - 1) / (e**2u + 1)")
        out.backward()
        if not close(xv.grad, expected_grad, 1e-7):
            fail(f"{name}: the gradient at x = {x}", fmt(expected_grad), fmt(xv.grad),
                 "use Value operations all the way (no .data, no math.tanh on a float) so that backward reaches x")
    passed(name, f"GELU and its gradient at {len(cases)} points")


def parallel_block_reference(x, li, keys, values, sd, n_head):
    x_norm = rmsnorm(x)
    q = linear(x_norm, sd[f"layer{li}.attn_wq"])
    keys[li].append(linear(x_norm, sd[f"layer{li}.attn_wk"]))
    values[li].append(linear(x_norm, sd[f"layer{li}.attn_wv"]))
    x_attn = linear(attention(q, keys[li], values[li], n_head), sd[f"layer{li}.attn_wo"])
    x_mlp = mlp(x_norm, sd[f"layer{li}.mlp_fc1"], sd[f"layer{li}.mlp_fc2"])
    return [a + b + c for a, b, c in zip(x, x_attn, x_mlp)]


def check_parallel_block(parallel_block, cases=None):
    """parallel_block(x, li, keys, values, state_dict, n_head) over three positions, cache included."""
    __tracebackhide__ = True
    name = "parallel_block"
    hint = "one rmsnorm of x feeds both branches; append k and v to keys[li] and values[li] before attention reads them"
    # (n_layer of the model, the layer li, n_head, seed)
    cases = cases or [(1, 0, 2, 7)]
    for n_layer, li, n_head, seed in cases:
        model = tiny_model(n_layer=n_layer, seed=seed, init_std=0.5)  # large weights: every slip shows
        keys, values = model.empty_cache()
        my_keys, my_values = model.empty_cache()
        for pos_id, x in enumerate(random_vectors(3, 8, seed=seed + 1)):
            expected = data_of(name, parallel_block_reference(x, li, keys, values, model.state_dict, n_head), 8, "")
            got = data_of(name, call(name, parallel_block, x, li, my_keys, my_values, model.state_dict, n_head,
                                     hint=hint), 8, f"position {pos_id}")
            sizes, expected_sizes = [len(k) for k in my_keys], [len(k) for k in keys]
            if sizes != expected_sizes or [len(v) for v in my_values] != expected_sizes:
                fail(name, f"cache sizes keys {expected_sizes} and values {expected_sizes} (per layer) after position "
                           f"{pos_id} in layer {li} of {n_layer}", f"keys {sizes} and values {[len(v) for v in my_values]}",
                     "each call appends one k to keys[li] and one v to values[li], and touches no other layer's cache")
            if not all_close(got, expected):
                fail(name, f"{fmt(expected)} at position {pos_id} (layer {li} of {n_layer}, n_head={n_head})", fmt(got),
                     "x_norm = rmsnorm(x) once; the attention branch (q, k, v of x_norm with layer li's matrices, "
                     "the cache, attention, attn_wo) and the MLP branch (fc1, relu, fc2 of the same x_norm); "
                     "the output is x + both branches")
    passed(name, f"three positions in {len(cases)} layer(s): x + attention(rmsnorm(x)) + mlp(rmsnorm(x)), cache included")


def check_gpt(gpt, cases=None):
    """gpt(token_id, pos_id, keys, values, state_dict, config) against GPT, position by position."""
    __tracebackhide__ = True
    name = "gpt"
    # (n_layer, n_head, seed, the tokens of a document)
    cases = cases or [(1, 2, 1, [26, 4, 12, 12, 0, 26])]  # BOS e m m a BOS
    hint = "each layer appends k and v to its own cache, keys[li] and values[li], before attention reads it"
    for n_layer, n_head, seed, tokens in cases:
        model = tiny_model(n_layer=n_layer, n_head=n_head, seed=seed)
        c = model.config
        keys, values = model.empty_cache()
        my_keys, my_values = model.empty_cache()
        for pos_id, token_id in enumerate(tokens):
            expected = [logit.data for logit in model(token_id, pos_id, keys, values)]
            logits = call(name, gpt, token_id, pos_id, my_keys, my_values, model.state_dict, c, hint=hint)
            got = data_of(name, logits, c.vocab_size, "the logits")
            if not all_close(got, expected):
                fail(
                    name,
                    f"the logits {fmt(expected)} at position {pos_id} (n_layer={c.n_layer}, n_head={c.n_head})",
                    fmt(got),
                    "rmsnorm after the embedding; per layer: the attention block (with keys[li] and values[li]) "
                    "then the MLP block, each with its residual; no rmsnorm before lm_head",
                )
    passed(name, f"the same logits as GPT at every position, {len(cases)} model(s) and document(s)")


def check_tie_weights(tie_weights, cases=None):
    """tie_weights(model): lm_head becomes wte's own Values, model.params lists each parameter once."""
    __tracebackhide__ = True
    name = "tie_weights"
    hint_count = ("after tying, lm_head's numbers are wte's: rebuild model.params so that it lists every Value "
                  "once, for example with a set of the ids you have seen, and return len(model.params)")
    # (config, seed, whether wpe starts at 0: many equal numbers, each still its own Value)
    cases = cases or [(GPTConfig(), 42, False)]
    for config, seed, zero_wpe in cases:
        model = GPT(config, random.Random(seed))
        if zero_wpe:
            model.state_dict["wpe"] = [[Value(0.0) for _ in row] for row in model.state_dict["wpe"]]
            model.params = [p for mat in model.state_dict.values() for row in mat for p in row]
        draws = {key: [[p.data for p in row] for row in mat] for key, mat in model.state_dict.items()}
        label = f"{name}(GPT({config}){', wpe at 0' if zero_wpe else ''})"
        count = call(label, tie_weights, model, hint="change model.state_dict and model.params, then return the count")
        sd = model.state_dict
        expected = sum(count_params(config).values()) - config.vocab_size * config.n_embd
        if not isinstance(sd.get("lm_head"), list) or len(sd["lm_head"]) != config.vocab_size or not all(
            len(row) == len(wte_row) and all(a is b for a, b in zip(row, wte_row))
            for row, wte_row in zip(sd["lm_head"], sd["wte"])
        ):
            fail(label, "lm_head holding the very same Value objects as wte (lm_head[i][j] is wte[i][j])",
                 "other Values" if isinstance(sd.get("lm_head"), list) else repr(sd.get("lm_head"))[:60],
                 "model.state_dict['lm_head'] = model.state_dict['wte']: equal numbers are not enough, "
                 "the gradient of both uses must reach one Value")
        if [[p.data for p in row] for row in sd["wte"]] != draws["wte"]:
            fail(label, "wte kept as it was drawn (lm_head takes wte's numbers)", "wte changed",
                 "tie in this direction: lm_head = wte, not wte = lm_head")
        ids = [id(p) for p in model.params]
        if len(ids) != len(set(ids)):
            fail(f"{label}: model.params", f"{expected} different Values, each once",
                 f"{len(ids)} entries, {len(set(ids))} different", hint_count + ": an optimizer would move a tied weight twice")
        every = {id(p) for mat in sd.values() for row in mat for p in row}
        if set(ids) - every:
            fail(f"{label}: model.params", f"the {len(every)} Values of the state_dict",
                 f"{len(set(ids) - every)} Values that are no longer in it (the old lm_head's)",
                 "rebuild model.params from the tied state_dict: GPT built it before the tying")
        if every - set(ids):
            fail(f"{label}: model.params", f"every Value of the state_dict ({len(every)})",
                 f"{len(every - set(ids))} of them missing", "keep wte, wpe and every layer's matrices in model.params")
        if count != expected:
            fail(f"{label}: the returned count", f"{expected}", fmt(count), hint_count)
    # the tied model computes logits with wte, and its loss reaches wte from both ends
    model = tiny_model(n_layer=1, seed=11, init_std=0.5)
    reference = tiny_model(n_layer=1, seed=11, init_std=0.5)
    reference.state_dict["lm_head"] = reference.state_dict["wte"]
    call(name, tie_weights, model)
    losses = []
    for m in (model, reference):
        keys, values = m.empty_cache()
        total = Value(0.0)
        for pos_id, (token_id, target) in enumerate(zip([26, 4, 12], [4, 12, 26])):
            total = total + nll(softmax(m(token_id, pos_id, keys, values)), target)
        total.backward()
        losses.append(total.data)
    if not all_close(losses[:1], losses[1:], 1e-9):
        fail(f"{name}: a tied model's loss", fmt(losses[1]), fmt(losses[0]), "lm_head must be wte itself")
    grads = [p.grad for row in model.state_dict["wte"] for p in row]
    expected_grads = [p.grad for row in reference.state_dict["wte"] for p in row]
    if not all_close(grads, expected_grads, 1e-9):
        fail(f"{name}: the gradient of wte", fmt(expected_grads), fmt(grads),
             "wte's Values must receive the gradient of the embedding and of lm_head")
    passed(name, f"lm_head is wte, {sum(count_params(GPTConfig()).values()) - 27 * 16} parameters at microgpt's sizes (4192 untied)")
