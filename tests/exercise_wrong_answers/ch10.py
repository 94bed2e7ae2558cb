"""Plausible wrong answers to the exercises of chapter 10; each must fail its check."""

ATTENTION_WITH = '''def causal_attention(q, k, v, n_head):
    T, C = q.shape
    head_dim = C // n_head
    qh, kh, vh = (x.{split} for x in (q, k, v))
    scores = qh @ kh.transpose(-2, -1) / {scale}
    scores = scores.masked_fill({mask}, float("-inf"))
    return (F.softmax(scores, dim={dim}) @ vh).{merge}
'''
RIGHT = dict(
    split="view(T, n_head, head_dim).transpose(0, 1)",
    scale="head_dim**0.5",
    mask="~torch.tril(torch.ones(T, T, dtype=torch.bool))",
    dim="-1",
    merge="transpose(0, 1).reshape(T, C)",
)

ADAM_WITH = '''def adam_step(p, grad, m, v, step, num_steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1 ** ({t}))
    v_hat = v / (1 - beta2 ** ({t}))
    p = p - lr * ({decay}) * {update}
    return p, m, v
'''
ADAM = dict(t="step + 1", decay="1 - step / num_steps", update="m_hat / (v_hat.sqrt() + eps)")

NAMES_WITH = '''def to_nanogpt_names(state_dict, n_layer):
    sd = state_dict
    out = {{"transformer.wte.weight": sd["wte"], "transformer.wpe.weight": sd["wpe"]{lm_head}}}
    for li in range(n_layer):
        h = f"transformer.h.{{li}}."
        out[h + "attn.c_attn.weight"] = torch.cat([{qkv}]{cat_dim})
        out[h + "attn.c_proj.weight"] = sd[f"layer{{li}}.attn_wo"]{t}
        out[h + "mlp.c_fc.weight"] = sd[f"layer{{li}}.mlp_fc1"]
        out[h + "mlp.c_proj.weight"] = sd[f"layer{{li}}.mlp_fc2"]
    return out
'''
NAMES = dict(lm_head=', "lm_head.weight": sd["lm_head"]',
             qkv='sd[f"layer{li}.attn_wq"], sd[f"layer{li}.attn_wk"], sd[f"layer{li}.attn_wv"]', cat_dim="", t="")

WRONG = {
    "ex10_1_linear_params": [
        # the bias forgotten
        '''def linear_params(n_in, n_out, bias):
    return n_in * n_out
''',
        # one bias per input, not per output
        '''def linear_params(n_in, n_out, bias):
    return n_in * n_out + (n_in if bias else 0)
''',
        # a single bias number for the whole layer
        '''def linear_params(n_in, n_out, bias):
    return n_in * n_out + (1 if bias else 0)
''',
    ],
    "ex10_2_causal_mask": [
        # the upper triangle: every position sees the future and not the past
        '''def causal_mask(T):
    return torch.triu(torch.ones(T, T, dtype=torch.bool))
''',
        # the diagonal left out: a position may not look at itself (the first row is all False)
        '''def causal_mask(T):
    return torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-1)
''',
        # the right pattern as floats: ~ and masked_fill need booleans
        '''def causal_mask(T):
    return torch.tril(torch.ones(T, T))
''',
        # no mask at all
        '''def causal_mask(T):
    return torch.ones(T, T, dtype=torch.bool)
''',
    ],
    "ex10_3_causal_attention": [
        # no scaling
        ATTENTION_WITH.format(**{**RIGHT, "scale": "1.0"}),
        # divided by head_dim, not its square root
        ATTENTION_WITH.format(**{**RIGHT, "scale": "head_dim"}),
        # scaled by the whole width C instead of head_dim
        ATTENTION_WITH.format(**{**RIGHT, "scale": "C**0.5"}),
        # no mask: every position sees the future
        ATTENTION_WITH.format(**{**RIGHT, "mask": "torch.zeros(T, T, dtype=torch.bool)"}),
        # softmax over the queries instead of the keys
        ATTENTION_WITH.format(**{**RIGHT, "dim": "-2"}),
        # heads taken as interleaved columns (every n_head-th), not as consecutive slices
        ATTENTION_WITH.format(**{**RIGHT, "split": "view(T, head_dim, n_head).permute(2, 0, 1)",
                                 "merge": "permute(1, 2, 0).reshape(T, C)"}),
        # the heads merged without transposing back: positions and heads mixed up
        ATTENTION_WITH.format(**{**RIGHT, "merge": "reshape(T, C)"}),
    ],
    "ex10_4_adam_step": [
        # eps inside the square root
        ADAM_WITH.format(**{**ADAM, "update": "m_hat / (v_hat + eps).sqrt()"}),
        # eps added to sqrt(v) before the bias correction (another Adam)
        ADAM_WITH.format(**{**ADAM, "update": "m_hat / (v.sqrt() + eps) * (1 - beta2 ** (step + 1)) ** 0.5"}),
        # no bias correction
        ADAM_WITH.format(**{**ADAM, "update": "m / (v.sqrt() + eps)"}),
        # the learning rate never decays
        ADAM_WITH.format(**{**ADAM, "decay": "1"}),
        # the decay one step ahead
        ADAM_WITH.format(**{**ADAM, "decay": "1 - (step + 1) / num_steps"}),
        # bias corrections with step counted from 0: a division by zero at the first step
        ADAM_WITH.format(**{**ADAM, "t": "step"}),
    ],
    "ex10_5_to_nanogpt_names": [
        # k, q, v: the order of the stack swapped
        NAMES_WITH.format(**{**NAMES, "qkv": 'sd[f"layer{li}.attn_wk"], sd[f"layer{li}.attn_wq"], sd[f"layer{li}.attn_wv"]'}),
        # nn.Linear's weight thought to be (n_in, n_out): the square matrices transposed
        NAMES_WITH.format(**{**NAMES, "t": ".T"}),
        # q, k, v stacked side by side (dim 1) instead of on top of each other
        NAMES_WITH.format(**{**NAMES, "cat_dim": ", dim=1"}),
        # lm_head forgotten
        NAMES_WITH.format(**{**NAMES, "lm_head": ""}),
    ],
}
