"""Plausible wrong answers to the exercises of chapter 13; each of WRONG must fail its check cell, and each
of HIDDEN_ONLY must pass the visible check and fail only on the hidden cases."""

WRONG = {
    "ex13_1_wsd": [
        # no warm-up
        '''def wsd_lr(step, num_steps, lr, warmup_steps, cooldown_fraction):
    return lr * min(1.0, (num_steps - step) / (cooldown_fraction * num_steps))
''',
        # the decay reaches 0 at the last step (one step early)
        '''def wsd_lr(step, num_steps, lr, warmup_steps, cooldown_fraction):
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    return lr * min(1.0, (num_steps - 1 - step) / (cooldown_fraction * num_steps))
''',
        # warm-up from 0 (step / warmup_steps): the first step does nothing
        '''def wsd_lr(step, num_steps, lr, warmup_steps, cooldown_fraction):
    if step < warmup_steps:
        return lr * step / warmup_steps
    return lr * min(1.0, (num_steps - step) / (cooldown_fraction * num_steps))
''',
        # never decays
        '''def wsd_lr(step, num_steps, lr, warmup_steps, cooldown_fraction):
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    return lr
''',
    ],
    "ex13_2_clip": [
        # each array clipped by its own norm
        '''def clip_by_global_norm(grads, max_norm):
    norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
    return [g * min(1.0, max_norm / math.sqrt(float((g * g).sum()))) for g in grads], norm
''',
        # scaled in place: the caller's gradients change
        '''def clip_by_global_norm(grads, max_norm):
    norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
    for g in grads:
        g *= min(1.0, max_norm / norm)
    return grads, norm
''',
        # always scaled to max_norm, even a small gradient
        '''def clip_by_global_norm(grads, max_norm):
    norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
    return [g * (max_norm / norm) for g in grads], norm
''',
        # the norm without its square root
        '''def clip_by_global_norm(grads, max_norm):
    norm = sum(float((g * g).sum()) for g in grads)
    return [g * min(1.0, max_norm / norm) for g in grads], norm
''',
    ],
    "ex13_3_layernorm": [
        # rmsnorm's backward: x not centred
        '''def layernorm_backward(x, g, eps=1e-5):
    s = ((x * x).mean(axis=-1, keepdims=True) + eps) ** -0.5
    y = x * s
    return s * (g - y * (g * y).mean(axis=-1, keepdims=True))
''',
        # the centring's own derivative forgotten (no mean(g))
        '''def layernorm_backward(x, g, eps=1e-5):
    c = x - x.mean(axis=-1, keepdims=True)
    s = ((c * c).mean(axis=-1, keepdims=True) + eps) ** -0.5
    y = c * s
    return s * (g - y * (g * y).mean(axis=-1, keepdims=True))
''',
        # only the direct path: s g
        '''def layernorm_backward(x, g, eps=1e-5):
    c = x - x.mean(axis=-1, keepdims=True)
    return g * ((c * c).mean(axis=-1, keepdims=True) + eps) ** -0.5
''',
    ],
    "ex13_4_rope": [
        # the backward turns the same way as the forward (not the transpose)
        '''def rope_interleaved(x, n_head, base=10000.0):
    B, T, C = x.shape
    head_dim = C // n_head
    angles = np.arange(T)[:, None] * (base ** (-np.arange(0, head_dim, 2) / head_dim))[None, :]
    cos, sin = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]

    def turn(v, sign):
        v = v.reshape(B, T, n_head, head_dim)
        out = np.empty_like(v)
        out[..., 0::2] = v[..., 0::2] * cos + sign * v[..., 1::2] * sin
        out[..., 1::2] = -sign * v[..., 0::2] * sin + v[..., 1::2] * cos
        return out.reshape(B, T, C)

    return Tensor(turn(x.data, 1.0), (x,), lambda g: (turn(g, 1.0),), "rope")
''',
        # the chapter's half-split pairs, not neighbours
        '''def rope_interleaved(x, n_head, base=10000.0):
    from microgpt_lib.modern_ops import rope
    return rope(x, n_head, base)
''',
        # the angle grows with the pair instead of shrinking (theta_i = base^(+2i/d))
        '''def rope_interleaved(x, n_head, base=10000.0):
    B, T, C = x.shape
    head_dim = C // n_head
    angles = np.arange(T)[:, None] * (base ** (np.arange(0, head_dim, 2) / head_dim))[None, :]
    cos, sin = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]

    def turn(v, sign):
        v = v.reshape(B, T, n_head, head_dim)
        out = np.empty_like(v)
        out[..., 0::2] = v[..., 0::2] * cos + sign * v[..., 1::2] * sin
        out[..., 1::2] = -sign * v[..., 0::2] * sin + v[..., 1::2] * cos
        return out.reshape(B, T, C)

    return Tensor(turn(x.data, 1.0), (x,), lambda g: (turn(g, -1.0),), "rope")
''',
    ],
    "ex13_5_average": [
        # no bias correction: the average of a zero start
        '''def average_weights(weights, d):
    a = np.zeros_like(weights[0])
    for w in weights:
        a = d * a + (1 - d) * w
    return a
''',
        # one power too many in the correction
        '''def average_weights(weights, d):
    a = np.zeros_like(weights[0])
    for w in weights:
        a = d * a + (1 - d) * w
    return a / (1 - d ** (len(weights) + 1))
''',
        # started from the first weights (the chapter's way), and corrected as if from zero
        '''def average_weights(weights, d):
    a = weights[0].copy()
    for w in weights:
        a = d * a + (1 - d) * w
    return a / (1 - d ** len(weights))
''',
        # d and 1 - d swapped
        '''def average_weights(weights, d):
    a = np.zeros_like(weights[0])
    for w in weights:
        a = (1 - d) * a + d * w
    return a / (1 - d ** len(weights))
''',
        # in place, into the first array passed in
        '''def average_weights(weights, d):
    a = weights[0]
    a *= 0.0
    for w in weights:
        a *= d
        a += (1 - d) * w
    return a / (1 - d ** len(weights))
''',
    ],
}

HIDDEN_ONLY = {
    "ex13_1_wsd": [
        # the visible schedules all cool down over 20%: 0.2 typed in instead of cooldown_fraction
        '''def wsd_lr(step, num_steps, lr, warmup_steps, cooldown_fraction):
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    return lr * min(1.0, (num_steps - step) / (0.2 * num_steps))
''',
    ],
    "ex13_2_clip": [
        # np.dot as the sum of squares: right for the visible 1-D gradients, a matrix product for 2-D ones
        '''def clip_by_global_norm(grads, max_norm):
    norm = math.sqrt(sum(float(np.sum(np.dot(g, g))) for g in grads))
    factor = min(1.0, max_norm / norm)
    return [g * factor for g in grads], norm
''',
    ],
    "ex13_3_layernorm": [
        # axis=1 instead of the last axis: right for the visible 2-D arrays only
        '''def layernorm_backward(x, g, eps=1e-5):
    c = x - x.mean(axis=1, keepdims=True)
    s = ((c * c).mean(axis=1, keepdims=True) + eps) ** -0.5
    y = c * s
    return s * (g - g.mean(axis=1, keepdims=True) - y * (g * y).mean(axis=1, keepdims=True))
''',
    ],
    "ex13_4_rope": [
        # the frequencies from C instead of head_dim: right while there is one head (the visible cases)
        '''def rope_interleaved(x, n_head, base=10000.0):
    B, T, C = x.shape
    head_dim = C // n_head
    angles = np.arange(T)[:, None] * (base ** (-np.arange(0, head_dim, 2) / C))[None, :]
    cos, sin = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]

    def turn(v, sign):
        v = v.reshape(B, T, n_head, head_dim)
        out = np.empty_like(v)
        out[..., 0::2] = v[..., 0::2] * cos + sign * v[..., 1::2] * sin
        out[..., 1::2] = -sign * v[..., 0::2] * sin + v[..., 1::2] * cos
        return out.reshape(B, T, C)

    return Tensor(turn(x.data, 1.0), (x,), lambda g: (turn(g, -1.0),), "rope")
''',
    ],
    "ex13_5_average": [
        # the visible cases all use d = 0.9: typed in instead of d
        '''def average_weights(weights, d):
    a = np.zeros_like(weights[0])
    for w in weights:
        a = 0.9 * a + 0.1 * w
    return a / (1 - 0.9 ** len(weights))
''',
    ],
}
