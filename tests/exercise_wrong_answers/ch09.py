"""Plausible wrong answers to the exercises of chapter 09.

WRONG: each must fail its check cell, hidden cases included.
HIDDEN_ONLY: each passes the visible check and fails only because of the hidden cases.
"""

SOFTMAX_NLL_WITH = '''def softmax_nll(logits, target):
    z = [zi.data for zi in logits]
    max_z = {max_z}
    exps = [math.exp(zi - max_z) for zi in z]
    total = sum(exps)
    probs = [e / total for e in exps]
    local_grads = {local_grads}
    return Value({loss}, tuple(logits), tuple(local_grads), "softmax_nll")
'''
RIGHT = dict(max_z="max(z)", local_grads="[p - (i == target) for i, p in enumerate(probs)]", loss="-math.log(probs[target])")

MATMUL_WITH = '''def matmul_backward(a, b, g):
    grad_a = {grad_a}
    grad_b = {grad_b}
    return grad_a, grad_b
'''
RMSNORM_WITH = '''def rmsnorm_fused(x):
    x_data = [xi.data for xi in x]
    n = {n}
    s = (sum(v * v for v in x_data) / n + {eps}) ** -0.5
    out = []
    for i, xi in enumerate(x_data):
        local_grads = {local_grads}
        out.append(Value(s * xi, tuple(x), tuple(local_grads), "rmsnorm"))
    return out
'''
RMS = dict(n="len(x_data)", eps="1e-5", local_grads="[s * (i == j) - s**3 * xi * xj / n for j, xj in enumerate(x_data)]")

LAYERNORM_WITH = '''def layernorm_backward(x, g, eps=1e-5):
    mu = x.mean(axis={axis}, keepdims=True)
    s = (((x - mu) ** 2).mean(axis={axis}, keepdims=True) + {eps}) ** -0.5
    xhat = (x - mu) * s
    return {result}
'''
LN = dict(axis="-1", eps="eps",
          result="s * (g - g.mean(axis=-1, keepdims=True) - xhat * (g * xhat).mean(axis=-1, keepdims=True))")

PAD_WITH = '''def pad_batch(token_lists, block_size, pad_id):
    lengths = [{length} for tokens in token_lists]
    B, T = len(token_lists), max(lengths)
    inputs, targets = np.full((B, T), {pad}), np.full((B, T), {pad})
    mask = np.zeros((B, T))
    for b, (tokens, n) in enumerate(zip(token_lists, lengths)):
        inputs[b, :n] = tokens[:n]
        targets[b, :n] = {targets}
        mask[b, :n] = 1.0
    return inputs, targets, mask
'''
PAD = dict(length="min(block_size, len(tokens) - 1)", pad="pad_id", targets="tokens[1 : n + 1]")

WRONG = {
    "ex09_1_softmax_nll": [
        # the one-hot forgotten: the gradient of log-sum-exp alone
        SOFTMAX_NLL_WITH.format(**{**RIGHT, "local_grads": "list(probs)"}),
        # the sign turned round: onehot - p
        SOFTMAX_NLL_WITH.format(**{**RIGHT, "local_grads": "[(i == target) - p for i, p in enumerate(probs)]"}),
        # the loss without its minus sign
        SOFTMAX_NLL_WITH.format(**{**RIGHT, "loss": "math.log(probs[target])"}),
        # the max not subtracted: exp(1000) overflows
        SOFTMAX_NLL_WITH.format(**{**RIGHT, "max_z": "0"}),
        # right numbers, but the scalar chain of chapter 03: hundreds of nodes, not one
        '''from microgpt_lib.nn import nll, softmax


def softmax_nll(logits, target):
    return nll(softmax(logits), target)
''',
    ],
    "ex09_2_matmul_backward": [
        # chapter 09's 2-D rule as it is: a.T reverses every axis of a batch
        MATMUL_WITH.format(grad_a="g @ b.T", grad_b="a.T @ g"),
        # the batch's gradients kept apart, not added: one grad_b per batch element
        MATMUL_WITH.format(grad_a="g @ b.T", grad_b="a.swapaxes(-1, -2) @ g"),
        # averaged over the batch instead of added
        MATMUL_WITH.format(grad_a="g @ b.T", grad_b="(a.swapaxes(-1, -2) @ g).mean(axis=0) if a.ndim == 3 else a.T @ g"),
        # b's transpose forgotten in grad_a
        MATMUL_WITH.format(grad_a="g @ b", grad_b="a.reshape(-1, a.shape[-1]).T @ g.reshape(-1, g.shape[-1])"),
    ],
    "ex09_3_rmsnorm_fused": [
        # only the diagonal term: s for the own input, as if s were a constant
        RMSNORM_WITH.format(**{**RMS, "local_grads": "[s * (i == j) for j in range(n)]"}),
        # the sign of the second term turned round
        RMSNORM_WITH.format(**{**RMS, "local_grads": "[s * (i == j) + s**3 * xi * xj / n for j, xj in enumerate(x_data)]"}),
        # s**2 instead of s**3
        RMSNORM_WITH.format(**{**RMS, "local_grads": "[s * (i == j) - s**2 * xi * xj / n for j, xj in enumerate(x_data)]"}),
        # right numbers, but chapter 03's chain of nodes
        '''from microgpt_lib.nn import rmsnorm


def rmsnorm_fused(x):
    return rmsnorm(x)
''',
    ],
    "ex09_4_layernorm_backward": [
        # rmsnorm's backward: the mean of g forgotten
        LAYERNORM_WITH.format(**{**LN, "result": "s * (g - xhat * (g * xhat).mean(axis=-1, keepdims=True))"}),
        # s as a constant: only the path through x - mean
        LAYERNORM_WITH.format(**{**LN, "result": "s * (g - g.mean(axis=-1, keepdims=True))"}),
        # s as a constant and the mean as a constant: the first path alone
        LAYERNORM_WITH.format(**{**LN, "result": "s * g"}),
        # the means over the wrong axis (down the positions)
        LAYERNORM_WITH.format(**{**LN, "result": "s * (g - g.mean(axis=0, keepdims=True) - xhat * (g * xhat).mean(axis=0, keepdims=True))"}),
    ],
    "ex09_5_pad_batch": [
        # the targets are the inputs (not shifted by one)
        PAD_WITH.format(**{**PAD, "targets": "tokens[:n]"}),
        # every name's whole length, the closing BOS included: one prediction too many
        PAD_WITH.format(**{**PAD, "length": "min(block_size, len(tokens))", "targets": "(tokens + [pad_id])[1 : n + 1]"}),
        # padded at the front instead of the end
        '''def pad_batch(token_lists, block_size, pad_id):
    lengths = [min(block_size, len(tokens) - 1) for tokens in token_lists]
    B, T = len(token_lists), max(lengths)
    inputs, targets = np.full((B, T), pad_id), np.full((B, T), pad_id)
    mask = np.zeros((B, T))
    for b, (tokens, n) in enumerate(zip(token_lists, lengths)):
        inputs[b, T - n:] = tokens[:n]
        targets[b, T - n:] = tokens[1 : n + 1]
        mask[b, T - n:] = 1.0
    return inputs, targets, mask
''',
        # float arrays of ids, which cannot index an embedding
        PAD_WITH.format(**{**PAD, "pad": "float(pad_id)"}),
    ],
}

HIDDEN_ONLY = {
    "ex09_1_softmax_nll": [
        # the smallest logit subtracted, not the largest: fine until the logits spread over 709
        SOFTMAX_NLL_WITH.format(**{**RIGHT, "max_z": "min(z)"}),
    ],
    "ex09_2_matmul_backward": [
        # one leading axis handled, not any number of them
        MATMUL_WITH.format(grad_a="g @ b.T", grad_b="(a.swapaxes(-1, -2) @ g).sum(axis=0) if a.ndim == 3 else a.T @ g"),
    ],
    "ex09_3_rmsnorm_fused": [
        # n_embd hard-coded: right for microgpt's 16 numbers only
        RMSNORM_WITH.format(**{**RMS, "n": "16"}),
    ],
    "ex09_4_layernorm_backward": [
        # eps hard-coded: the argument ignored
        LAYERNORM_WITH.format(**{**LN, "eps": "1e-5"}),
        # written for 2-D x only: axis 1 is the last axis there, not for (B, T, C)
        LAYERNORM_WITH.format(**{**LN, "axis": "1", "result": "s * (g - g.mean(axis=1, keepdims=True) - xhat * (g * xhat).mean(axis=1, keepdims=True))"}),
    ],
    "ex09_5_pad_batch": [
        # block_size ignored: a name longer than the context is not cut
        PAD_WITH.format(**{**PAD, "length": "len(tokens) - 1"}),
        # padding with 0 whatever pad_id says
        PAD_WITH.format(**{**PAD, "pad": "0"}),
    ],
}
