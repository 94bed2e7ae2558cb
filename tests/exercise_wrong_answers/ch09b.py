"""Plausible wrong answers to the exercises of chapter 09b; each must fail its check cell (hidden cases included).

HIDDEN_ONLY holds, for every exercise, wrong answers that pass the visible check and fail only on the hidden
cases: proof that the hidden cases grade something the visible ones do not.
"""

RMSNORM_GAIN_WITH = '''def rmsnorm_gain_backward(dout, x, gain, eps=1e-5):
    scale = {scale}
    y = x * scale
    dgain = {dgain}
    g = {g}
    dx = {dx}
    return dx, dgain
'''
RMSNORM_RIGHT = dict(scale="((x * x).mean(axis=-1, keepdims=True) + eps) ** -0.5",
                     dgain="(dout * y).reshape(-1, x.shape[-1]).sum(axis=0)", g="dout * gain",
                     dx="scale * (g - y * (g * y).mean(axis=-1, keepdims=True))")

SMOOTHED_WITH = '''def smoothed_nll(logits, targets, smoothing):
    N, V = logits.shape
    shifted = {shifted}
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    q = np.full((N, V), {spread})
    q[np.arange(N), targets] += 1 - smoothing
    loss = {loss}
    dlogits = {dlogits}
    return loss, dlogits
'''
SMOOTHED_RIGHT = dict(shifted="logits - logits.max(axis=1, keepdims=True)", spread="smoothing / V",
                      loss="-(q * log_probs).sum() / N", dlogits="(np.exp(log_probs) - q) / N")

HEAD_WITH = '''def head_backward(dout, q, k, v):
    T, head_dim = q.shape
    scale = {scale}
    scores = q @ k.T * scale{mask}
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    att = e / e.sum(axis=1, keepdims=True)
    datt = dout @ v.T
    dv = {dv}
    dscores = {dscores}
    dq = dscores @ k * scale
    dk = {dk}
    return dq, dk, dv
'''
HEAD_RIGHT = dict(scale="head_dim**-0.5", mask=" + np.triu(np.full((T, T), -np.inf), k=1)", dv="att.T @ dout",
                  dscores="att * (datt - (datt * att).sum(axis=1, keepdims=True))", dk="dscores.T @ q * scale")

MLP_WITH = '''def mlp_relu2_backward(dout, x, w1, w2):
    x2, dout2 = {flatten}
    h = x2 @ w1.T
    a = np.maximum(h, 0.0) ** 2
    dw2 = dout2.T @ a
    da = dout2 @ w2
    dh = {dh}
    dw1 = {dw1}
    dx = (dh @ w1).reshape(x.shape)
    return dx, dw1, dw2
'''
MLP_RIGHT = dict(flatten="x.reshape(-1, x.shape[-1]), dout.reshape(-1, dout.shape[-1])",
                 dh="da * 2 * np.maximum(h, 0.0)", dw1="dh.T @ x2")

WRONG = {
    "ex09b_1_rmsnorm_gain_backward": [
        # only the diagonal of the Jacobian: the s^3 x x^T / n term forgotten
        RMSNORM_GAIN_WITH.format(**{**RMSNORM_RIGHT, "dx": "scale * g"}),
        # the gain forgotten on the way back to x
        RMSNORM_GAIN_WITH.format(**{**RMSNORM_RIGHT, "g": "dout"}),
        # the gain's gradient from x, not from the normalised x
        RMSNORM_GAIN_WITH.format(**{**RMSNORM_RIGHT, "dgain": "(dout * x).reshape(-1, x.shape[-1]).sum(axis=0)"}),
        # eps left out of s
        RMSNORM_GAIN_WITH.format(**{**RMSNORM_RIGHT, "scale": "(x * x).mean(axis=-1, keepdims=True) ** -0.5"}),
        # the mean over the wrong axis (over the rows, not along each row)
        RMSNORM_GAIN_WITH.format(**{**RMSNORM_RIGHT, "dx": "scale * (g - y * (g * y).mean(axis=0, keepdims=True))"}),
    ],
    "ex09b_2_smoothed_nll": [
        # the smoothing forgotten in the gradient: the chapter's p - onehot
        SMOOTHED_WITH.format(**{**SMOOTHED_RIGHT, "dlogits": "(np.exp(log_probs) - (q >= 1 - smoothing)) / N"}),
        # the mean forgotten: the sum over rows
        SMOOTHED_WITH.format(**{**SMOOTHED_RIGHT, "dlogits": "np.exp(log_probs) - q"}),
        # the sign turned round
        SMOOTHED_WITH.format(**{**SMOOTHED_RIGHT, "dlogits": "(q - np.exp(log_probs)) / N"}),
        # the smoothing spread over V - 1 tokens in the loss's target
        SMOOTHED_WITH.format(**{**SMOOTHED_RIGHT, "spread": "smoothing / (V - 1)"}),
        # the loss of the plain target, with the smoothed gradient
        SMOOTHED_WITH.format(**{**SMOOTHED_RIGHT, "loss": "-log_probs[np.arange(N), targets].mean()"}),
    ],
    "ex09b_3_head_backward": [
        # no mask: every position sees the future
        HEAD_WITH.format(**{**HEAD_RIGHT, "mask": ""}),
        # the softmax's Jacobian reduced to its diagonal
        HEAD_WITH.format(**{**HEAD_RIGHT, "dscores": "att * datt"}),
        # the scale forgotten in dk
        HEAD_WITH.format(**{**HEAD_RIGHT, "dk": "dscores.T @ q"}),
        # dv from the wrong side
        HEAD_WITH.format(**{**HEAD_RIGHT, "dv": "att @ dout"}),
        # dk as if the scores were k q^T
        HEAD_WITH.format(**{**HEAD_RIGHT, "dk": "dscores @ q * scale"}),
    ],
    "ex09b_4_mlp_relu2_backward": [
        # the derivative of h**2 without the relu's gate
        MLP_WITH.format(**{**MLP_RIGHT, "dh": "da * 2 * h"}),
        # ReLU's derivative, not ReLU squared's
        MLP_WITH.format(**{**MLP_RIGHT, "dh": "da * (h > 0)"}),
        # the factor 2 forgotten
        MLP_WITH.format(**{**MLP_RIGHT, "dh": "da * np.maximum(h, 0.0)"}),
        # dw1 transposed
        MLP_WITH.format(**{**MLP_RIGHT, "dw1": "x2.T @ dh"}),
    ],
}

HIDDEN_ONLY = {
    "ex09b_1_rmsnorm_gain_backward": [
        # the gain's gradient summed over the first axis only: right for a matrix, not for a batch of names
        RMSNORM_GAIN_WITH.format(**{**RMSNORM_RIGHT, "dgain": "(dout * y).sum(axis=0)"}),
    ],
    "ex09b_2_smoothed_nll": [
        # the largest logit not subtracted: exp(1000) overflows
        SMOOTHED_WITH.format(**{**SMOOTHED_RIGHT, "shifted": "logits"}),
    ],
    "ex09b_3_head_backward": [
        # 1 / sqrt(head_dim) written as 0.5: right for head_dim 4 only
        HEAD_WITH.format(**{**HEAD_RIGHT, "scale": "0.5"}),
    ],
    "ex09b_4_mlp_relu2_backward": [
        # no reshape: right for a matrix of rows, wrong for a batch (B, T, C), where .T reverses all three axes
        MLP_WITH.format(**{**MLP_RIGHT, "flatten": "x, dout"}).replace("dx = (dh @ w1).reshape(x.shape)", "dx = dh @ w1"),
    ],
}

TIED_WITH = '''def tied_wte_grad(dlogits, x, ids, dx0, vocab_size):
    dwte = np.zeros((vocab_size, x.shape[1]))
    {head}
    {embedding}
    return dwte
'''
TIED_RIGHT = dict(head="dwte += dlogits.T @ x", embedding="np.add.at(dwte, ids, dx0)")

WRONG["ex09b_5_tied_wte_grad"] = [
    # only the output layer's use
    TIED_WITH.format(**{**TIED_RIGHT, "embedding": "pass"}),
    # only the embedding's use
    TIED_WITH.format(**{**TIED_RIGHT, "head": "pass"}),
    # the second use overwrites the first (=, not +=)
    TIED_WITH.format(**{**TIED_RIGHT, "embedding": "dwte[ids] = dx0"}),
    # the output layer's gradient from the wrong side: (C, V), not (V, C)
    TIED_WITH.format(**{**TIED_RIGHT, "head": "dwte += x.T @ dlogits"}),
    # the lookup's gradient added to the rows 0..N-1 instead of the rows of the tokens
    TIED_WITH.format(**{**TIED_RIGHT, "embedding": "dwte[: len(ids)] += dx0"}),
]
HIDDEN_ONLY["ex09b_5_tied_wte_grad"] = [
    # fancy-index +=: right while every token occurs once, a repeated token keeps only one of its gradients
    TIED_WITH.format(**{**TIED_RIGHT, "embedding": "dwte[ids] += dx0"}),
]
