"""Plausible wrong answers to the exercises of chapter 10.

WRONG: each must fail its check cell, hidden cases included.
HIDDEN_ONLY: each passes the visible check and fails only because of the hidden cases.
"""

ATTENTION_WITH = '''def causal_attention(q, k, v, n_head):
    T, C = q.shape
    head_dim = {head_dim}
    qh, kh, vh = (x.{split} for x in (q, k, v))
    scores = qh @ kh.transpose(-2, -1) / {scale}
    scores = scores.masked_fill({mask}, float("-inf"))
    return (F.softmax(scores, dim={dim}) @ vh).{merge}
'''
RIGHT = dict(
    head_dim="C // n_head",
    split="view(T, n_head, head_dim).transpose(0, 1)",
    scale="head_dim**0.5",
    mask="~torch.tril(torch.ones(T, T, dtype=torch.bool))",
    dim="-1",
    merge="transpose(0, 1).reshape(T, C)",
)

ADAM_WITH = '''def adam_step(p, grad, m, v, step, num_steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8):
    {settings}m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1 ** ({t}))
    v_hat = v / (1 - beta2 ** ({t}))
    p = p - lr * ({decay}) * {update}
    return p, m, v
'''
ADAM = dict(settings="", t="step + 1", decay="1 - step / num_steps", update="m_hat / (v_hat.sqrt() + eps)")

NAMES_WITH = '''def to_nanogpt_names(state_dict, n_layer):
    sd = state_dict
    out = {{"transformer.wte.weight": sd["wte"], "transformer.wpe.weight": sd["wpe"]{lm_head}}}
    for li in {layers}:
        h = f"transformer.h.{{li}}."
        out[h + "attn.c_attn.weight"] = torch.cat([{qkv}]{cat_dim})
        out[h + "attn.c_proj.weight"] = sd[f"layer{{li}}.attn_wo"]{t}
        out[h + "mlp.c_fc.weight"] = sd[f"layer{{li}}.mlp_fc1"]
        out[h + "mlp.c_proj.weight"] = sd[f"layer{{li}}.mlp_fc2"]
    return out
'''
NAMES = dict(lm_head=', "lm_head.weight": sd["lm_head"]', layers="range(n_layer)",
             qkv='sd[f"layer{li}.attn_wq"], sd[f"layer{li}.attn_wk"], sd[f"layer{li}.attn_wv"]', cat_dim="", t="")

MLP_WITH = '''class MLP(nn.Module):
    def __init__(self, n_embd, bias=True):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, {hidden}, bias={bias})
        self.c_proj = nn.Linear({hidden}, n_embd, bias={bias})

    def forward(self, x):
        return self.c_proj({act}(self.c_fc(x)))
'''
MLP = dict(hidden="4 * n_embd", bias="bias", act="F.gelu")

FLOAT32_WITH = '''def float32_error(model, idx):
    model32 = {copy}
    with torch.no_grad():
        logits64 = model(idx)[0]
        logits32 = model32(idx)[0]
    return {result}
'''
F32 = dict(copy="copy.deepcopy(model).float()", result="(logits32.double() - logits64).abs().max().item()")

WRONG = {
    "ex10_1_causal_attention": [
        # no scaling
        ATTENTION_WITH.format(**{**RIGHT, "scale": "1.0"}),
        # divided by head_dim, not its square root
        ATTENTION_WITH.format(**{**RIGHT, "scale": "head_dim"}),
        # scaled by the whole width C instead of head_dim
        ATTENTION_WITH.format(**{**RIGHT, "scale": "C**0.5"}),
        # no mask: every position sees the future
        ATTENTION_WITH.format(**{**RIGHT, "mask": "torch.zeros(T, T, dtype=torch.bool)"}),
        # the diagonal masked too: position 0 sees nothing at all (nan)
        ATTENTION_WITH.format(**{**RIGHT, "mask": "~torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-1)"}),
        # softmax over the queries instead of the keys
        ATTENTION_WITH.format(**{**RIGHT, "dim": "-2"}),
        # heads taken as interleaved columns (every n_head-th), not as consecutive slices
        ATTENTION_WITH.format(**{**RIGHT, "split": "view(T, head_dim, n_head).permute(2, 0, 1)",
                                 "merge": "permute(1, 2, 0).reshape(T, C)"}),
        # the heads merged without transposing back: positions and heads mixed up
        ATTENTION_WITH.format(**{**RIGHT, "merge": "reshape(T, C)"}),
    ],
    "ex10_2_adam_step": [
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
    "ex10_3_to_nanogpt_names": [
        # k, q, v: the order of the stack swapped
        NAMES_WITH.format(**{**NAMES, "qkv": 'sd[f"layer{li}.attn_wk"], sd[f"layer{li}.attn_wq"], sd[f"layer{li}.attn_wv"]'}),
        # nn.Linear's weight thought to be (n_in, n_out): the square matrices transposed
        NAMES_WITH.format(**{**NAMES, "t": ".T"}),
        # q, k, v stacked side by side (dim 1) instead of on top of each other
        NAMES_WITH.format(**{**NAMES, "cat_dim": ", dim=1"}),
        # lm_head forgotten
        NAMES_WITH.format(**{**NAMES, "lm_head": ""}),
    ],
    "ex10_4_mlp": [
        # microgpt's relu kept
        MLP_WITH.format(**{**MLP, "act": "F.relu"}),
        # GPT-2's tanh approximation: close, but another function
        MLP_WITH.format(**{**MLP, "act": "(lambda h: F.gelu(h, approximate='tanh'))"}),
        # the hidden layer as wide as the input
        MLP_WITH.format(**{**MLP, "hidden": "n_embd"}),
        # microgpt's names kept: the state dict does not load
        '''class MLP(nn.Module):
    def __init__(self, n_embd, bias=True):
        super().__init__()
        self.mlp_fc1 = nn.Linear(n_embd, 4 * n_embd, bias=bias)
        self.mlp_fc2 = nn.Linear(4 * n_embd, n_embd, bias=bias)

    def forward(self, x):
        return self.mlp_fc2(F.gelu(self.mlp_fc1(x)))
''',
    ],
    "ex10_5_float32_error": [
        # the model itself converted: model.float() works in place, so both are float32 and the error is 0
        FLOAT32_WITH.format(**{**F32, "copy": "model.float()"}),
        # half precision, not single
        FLOAT32_WITH.format(**{**F32, "copy": "copy.deepcopy(model).half()"}),
        # the mean difference, not the largest
        FLOAT32_WITH.format(**{**F32, "result": "(logits32.double() - logits64).abs().mean().item()"}),
        # the relative difference, divided by the largest logit
        FLOAT32_WITH.format(**{**F32, "result": "((logits32.double() - logits64).abs().max() / logits64.abs().max()).item()"}),
    ],
}

HIDDEN_ONLY = {
    "ex10_1_causal_attention": [
        # microgpt's head_dim of 4 hard-coded
        ATTENTION_WITH.format(**{**RIGHT, "head_dim": "4"}),
    ],
    "ex10_2_adam_step": [
        # microgpt's settings hard-coded: the arguments ignored
        ADAM_WITH.format(**{**ADAM, "settings": "lr, beta1, beta2, eps = 0.01, 0.85, 0.99, 1e-8\n    "}),
    ],
    "ex10_3_to_nanogpt_names": [
        # written for microgpt's one layer: n_layer ignored
        NAMES_WITH.format(**{**NAMES, "layers": "range(1)"}),
    ],
    "ex10_4_mlp": [
        # the bias always there, whatever `bias` says
        MLP_WITH.format(**{**MLP, "bias": "True"}),
    ],
    "ex10_5_float32_error": [
        # written for microgpt's model: rebuilds it from seed 42 and ignores the model it is given
        '''def float32_error(model, idx):
    model = IdiomaticGPT.from_micro(MicroGPT(GPTConfig(), random.Random(42)))
    model32 = copy.deepcopy(model).float()
    with torch.no_grad():
        return (model32(idx)[0].double() - model(idx)[0]).abs().max().item()
''',
    ],
}
