"""Plausible wrong answers to the exercises of chapter 06.

WRONG: each must fail its check cell, hidden cases included.
HIDDEN_ONLY: each passes the visible check and fails only because of the hidden cases.
"""

WRONG = {
    "ex06_1_lr_warmup_cosine": [
        # the warm-up starts at 0: step 0 would not move at all
        '''def lr_warmup_cosine(step, num_steps, lr, warmup_steps):
    if step < warmup_steps:
        return lr * step / warmup_steps
    progress = (step - warmup_steps) / (num_steps - warmup_steps)
    return lr * 0.5 * (1 + math.cos(math.pi * progress))
''',
        # the cosine over the whole run, the warm-up forgotten in its progress
        '''def lr_warmup_cosine(step, num_steps, lr, warmup_steps):
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    return lr * 0.5 * (1 + math.cos(math.pi * step / num_steps))
''',
        # a full cosine period: the rate comes back up at the end
        '''def lr_warmup_cosine(step, num_steps, lr, warmup_steps):
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / (num_steps - warmup_steps)
    return lr * 0.5 * (1 + math.cos(2 * math.pi * progress))
''',
    ],
    "ex06_2_clip_grad_norm": [
        # each gradient clamped on its own: the direction changes
        '''def clip_grad_norm(params, max_norm):
    norm = math.sqrt(sum(p.grad**2 for p in params))
    for p in params:
        p.grad = max(-max_norm, min(max_norm, p.grad))
    return norm
''',
        # always rescaled to max_norm, small gradients blown up too
        '''def clip_grad_norm(params, max_norm):
    norm = math.sqrt(sum(p.grad**2 for p in params))
    for p in params:
        p.grad *= max_norm / norm
    return norm
''',
        # the norm returned after clipping
        '''def clip_grad_norm(params, max_norm):
    norm = math.sqrt(sum(p.grad**2 for p in params))
    if norm > max_norm:
        for p in params:
            p.grad *= max_norm / norm
    return math.sqrt(sum(p.grad**2 for p in params))
''',
        # the norm without its square root
        '''def clip_grad_norm(params, max_norm):
    norm = sum(p.grad**2 for p in params)
    if norm > max_norm:
        for p in params:
            p.grad *= max_norm / norm
    return norm
''',
    ],
    "ex06_3_document_loss": [
        # scored on the token itself, not the next one
        '''def document_loss(model, tokens):
    n = min(model.config.block_size, len(tokens) - 1)
    keys, values = model.empty_cache()
    losses = []
    for pos_id in range(n):
        probs = softmax(model(tokens[pos_id], pos_id, keys, values))
        losses.append(nll(probs, tokens[pos_id]))
    return (1 / n) * sum(losses)
''',
        # the sum, not the mean
        '''def document_loss(model, tokens):
    n = min(model.config.block_size, len(tokens) - 1)
    keys, values = model.empty_cache()
    losses = []
    for pos_id in range(n):
        probs = softmax(model(tokens[pos_id], pos_id, keys, values))
        losses.append(nll(probs, tokens[pos_id + 1]))
    return sum(losses)
''',
        # a float: backward cannot reach the parameters
        '''def document_loss(model, tokens):
    n = min(model.config.block_size, len(tokens) - 1)
    keys, values = model.empty_cache()
    losses = []
    for pos_id in range(n):
        probs = softmax(model(tokens[pos_id], pos_id, keys, values))
        losses.append(nll(probs, tokens[pos_id + 1]).data)
    return sum(losses) / n
''',
    ],
    "ex06_4_bias_ratio": [
        # the square root forgotten on v's factor
        '''def bias_ratio(step, beta1, beta2):
    return (1 - beta1 ** (step + 1)) / (1 - beta2 ** (step + 1))
''',
        # the exponent counts from 0: the first step divides by 0
        '''def bias_ratio(step, beta1, beta2):
    return (1 - beta1 ** step) / (1 - beta2 ** step) ** 0.5
''',
        # upside down: corrected over uncorrected
        '''def bias_ratio(step, beta1, beta2):
    return (1 - beta2 ** (step + 1)) ** 0.5 / (1 - beta1 ** (step + 1))
''',
    ],
    "ex06_5_adamw_step": [
        # L2 in the gradient (Adam with weight decay, not AdamW): the decay goes through m and v
        '''def adamw_step(params, m, v, step, lr_t, weight_decay, beta1=0.85, beta2=0.99, eps=1e-8):
    for i, p in enumerate(params):
        g = p.grad + weight_decay * p.data
        m[i] = beta1 * m[i] + (1 - beta1) * g
        v[i] = beta2 * v[i] + (1 - beta2) * g**2
        m_hat = m[i] / (1 - beta1 ** (step + 1))
        v_hat = v[i] / (1 - beta2 ** (step + 1))
        p.data -= lr_t * m_hat / (v_hat**0.5 + eps)
        p.grad = 0
''',
        # the decay without the learning rate
        '''def adamw_step(params, m, v, step, lr_t, weight_decay, beta1=0.85, beta2=0.99, eps=1e-8):
    for i, p in enumerate(params):
        m[i] = beta1 * m[i] + (1 - beta1) * p.grad
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad**2
        m_hat = m[i] / (1 - beta1 ** (step + 1))
        v_hat = v[i] / (1 - beta2 ** (step + 1))
        p.data *= 1 - weight_decay
        p.data -= lr_t * m_hat / (v_hat**0.5 + eps)
        p.grad = 0
''',
        # only weights with a gradient decay
        '''def adamw_step(params, m, v, step, lr_t, weight_decay, beta1=0.85, beta2=0.99, eps=1e-8):
    for i, p in enumerate(params):
        m[i] = beta1 * m[i] + (1 - beta1) * p.grad
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad**2
        m_hat = m[i] / (1 - beta1 ** (step + 1))
        v_hat = v[i] / (1 - beta2 ** (step + 1))
        if p.grad != 0:
            p.data *= 1 - lr_t * weight_decay
        p.data -= lr_t * m_hat / (v_hat**0.5 + eps)
        p.grad = 0
''',
        # no bias correction
        '''def adamw_step(params, m, v, step, lr_t, weight_decay, beta1=0.85, beta2=0.99, eps=1e-8):
    for i, p in enumerate(params):
        m[i] = beta1 * m[i] + (1 - beta1) * p.grad
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad**2
        p.data *= 1 - lr_t * weight_decay
        p.data -= lr_t * m[i] / (v[i]**0.5 + eps)
        p.grad = 0
''',
    ],
}

HIDDEN_ONLY = {
    "ex06_1_lr_warmup_cosine": [
        # divides by warmup_steps before asking whether there is a warm-up: breaks without one
        '''def lr_warmup_cosine(step, num_steps, lr, warmup_steps):
    warm = (step + 1) / warmup_steps
    if warm <= 1:
        return lr * warm
    progress = (step - warmup_steps) / (num_steps - warmup_steps)
    return lr * 0.5 * (1 + math.cos(math.pi * progress))
''',
    ],
    "ex06_2_clip_grad_norm": [
        # min(1, max_norm / norm) divides by a norm of 0 when every gradient is 0
        '''def clip_grad_norm(params, max_norm):
    norm = math.sqrt(sum(p.grad**2 for p in params))
    scale = min(1.0, max_norm / norm)
    for p in params:
        p.grad *= scale
    return norm
''',
    ],
    "ex06_3_document_loss": [
        # no cut at block_size: a name longer than the context runs the model past its last position
        '''def document_loss(model, tokens):
    n = len(tokens) - 1
    keys, values = model.empty_cache()
    losses = []
    for pos_id in range(n):
        probs = softmax(model(tokens[pos_id], pos_id, keys, values))
        losses.append(nll(probs, tokens[pos_id + 1]))
    return (1 / n) * sum(losses)
''',
    ],
    "ex06_4_bias_ratio": [
        # microgpt's betas written in, the arguments ignored
        '''def bias_ratio(step, beta1, beta2):
    return (1 - 0.85 ** (step + 1)) / (1 - 0.99 ** (step + 1)) ** 0.5
''',
    ],
    "ex06_5_adamw_step": [
        # eps inside the square root: invisible at eps = 1e-8, not at a larger eps
        '''def adamw_step(params, m, v, step, lr_t, weight_decay, beta1=0.85, beta2=0.99, eps=1e-8):
    for i, p in enumerate(params):
        m[i] = beta1 * m[i] + (1 - beta1) * p.grad
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad**2
        m_hat = m[i] / (1 - beta1 ** (step + 1))
        v_hat = v[i] / (1 - beta2 ** (step + 1))
        p.data *= 1 - lr_t * weight_decay
        p.data -= lr_t * m_hat / (v_hat + eps) ** 0.5
        p.grad = 0
''',
    ],
}
