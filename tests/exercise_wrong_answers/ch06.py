"""Plausible wrong answers to the exercises of chapter 06; each must fail its check."""

WRONG = {
    "ex06_1_lr_at": [
        # steps counted from 1: the first step already decayed, the last one gets 0
        '''def lr_at(step, num_steps, lr):
    return lr * (1 - (step + 1) / num_steps)
''',
        # no decay
        '''def lr_at(step, num_steps, lr):
    return lr
''',
        # the rate grows instead of falling
        '''def lr_at(step, num_steps, lr):
    return lr * step / num_steps
''',
    ],
    "ex06_2_moving_average": [
        # always divided by window, even at the start
        '''def moving_average(values, window):
    return [sum(values[max(0, i - window + 1) : i + 1]) / window for i in range(len(values))]
''',
        # off by one: window + 1 values
        '''def moving_average(values, window):
    averages = []
    for i in range(len(values)):
        recent = values[max(0, i - window) : i + 1]
        averages.append(sum(recent) / len(recent))
    return averages
''',
        # the window looks ahead instead of back
        '''def moving_average(values, window):
    averages = []
    for i in range(len(values)):
        recent = values[i : i + window]
        averages.append(sum(recent) / len(recent))
    return averages
''',
    ],
    "ex06_3_sgd_step": [
        # sign error: up the gradient
        '''def sgd_step(params, lr):
    for p in params:
        p.data += lr * p.grad
        p.grad = 0
''',
        # gradients not zeroed
        '''def sgd_step(params, lr):
    for p in params:
        p.data -= lr * p.grad
''',
        # the gradient zeroed before it is used
        '''def sgd_step(params, lr):
    for p in params:
        p.grad = 0
        p.data -= lr * p.grad
''',
    ],
    "ex06_4_document_loss": [
        # the sum of the losses, not their mean
        '''def document_loss(model, tokens):
    n = min(model.config.block_size, len(tokens) - 1)
    keys, values = model.empty_cache()
    losses = []
    for pos_id in range(n):
        probs = softmax(model(tokens[pos_id], pos_id, keys, values))
        losses.append(nll(probs, tokens[pos_id + 1]))
    return sum(losses)
''',
        # off by one: the last prediction (the final BOS) left out
        '''def document_loss(model, tokens):
    n = min(model.config.block_size, len(tokens) - 2)
    keys, values = model.empty_cache()
    losses = []
    for pos_id in range(n):
        probs = softmax(model(tokens[pos_id], pos_id, keys, values))
        losses.append(nll(probs, tokens[pos_id + 1]))
    return (1 / n) * sum(losses)
''',
        # scored on the token it is shown, not the next one
        '''def document_loss(model, tokens):
    n = min(model.config.block_size, len(tokens) - 1)
    keys, values = model.empty_cache()
    losses = []
    for pos_id in range(n):
        probs = softmax(model(tokens[pos_id], pos_id, keys, values))
        losses.append(nll(probs, tokens[pos_id]))
    return (1 / n) * sum(losses)
''',
        # block_size ignored: a long name runs past the last position
        '''def document_loss(model, tokens):
    n = len(tokens) - 1
    keys, values = model.empty_cache()
    losses = []
    for pos_id in range(n):
        probs = softmax(model(tokens[pos_id], pos_id, keys, values))
        losses.append(nll(probs, tokens[pos_id + 1]))
    return (1 / n) * sum(losses)
''',
        # a float, not a Value: backward cannot reach the parameters
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
    "ex06_5_adam_step": [
        # no bias correction
        '''def adam_step(params, m, v, step, lr_t, beta1=0.85, beta2=0.99, eps=1e-8):
    for i, p in enumerate(params):
        m[i] = beta1 * m[i] + (1 - beta1) * p.grad
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad ** 2
        p.data -= lr_t * m[i] / (v[i] ** 0.5 + eps)
        p.grad = 0
''',
        # wrong step index: beta ** step divides by zero at step 0
        '''def adam_step(params, m, v, step, lr_t, beta1=0.85, beta2=0.99, eps=1e-8):
    for i, p in enumerate(params):
        m[i] = beta1 * m[i] + (1 - beta1) * p.grad
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad ** 2
        m_hat = m[i] / (1 - beta1 ** step)
        v_hat = v[i] / (1 - beta2 ** step)
        p.data -= lr_t * m_hat / (v_hat ** 0.5 + eps)
        p.grad = 0
''',
        # wrong step index the other way: one step too far
        '''def adam_step(params, m, v, step, lr_t, beta1=0.85, beta2=0.99, eps=1e-8):
    for i, p in enumerate(params):
        m[i] = beta1 * m[i] + (1 - beta1) * p.grad
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad ** 2
        m_hat = m[i] / (1 - beta1 ** (step + 2))
        v_hat = v[i] / (1 - beta2 ** (step + 2))
        p.data -= lr_t * m_hat / (v_hat ** 0.5 + eps)
        p.grad = 0
''',
        # sign error
        '''def adam_step(params, m, v, step, lr_t, beta1=0.85, beta2=0.99, eps=1e-8):
    for i, p in enumerate(params):
        m[i] = beta1 * m[i] + (1 - beta1) * p.grad
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad ** 2
        m_hat = m[i] / (1 - beta1 ** (step + 1))
        v_hat = v[i] / (1 - beta2 ** (step + 1))
        p.data += lr_t * m_hat / (v_hat ** 0.5 + eps)
        p.grad = 0
''',
        # the betas swapped in the running mean: the new gradient weighs 0.85
        '''def adam_step(params, m, v, step, lr_t, beta1=0.85, beta2=0.99, eps=1e-8):
    for i, p in enumerate(params):
        m[i] = (1 - beta1) * m[i] + beta1 * p.grad
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad ** 2
        m_hat = m[i] / (1 - beta1 ** (step + 1))
        v_hat = v[i] / (1 - beta2 ** (step + 1))
        p.data -= lr_t * m_hat / (v_hat ** 0.5 + eps)
        p.grad = 0
''',
        # m and v rebound locally: the lists never change, every step starts from 0
        '''def adam_step(params, m, v, step, lr_t, beta1=0.85, beta2=0.99, eps=1e-8):
    for i, p in enumerate(params):
        m_i = beta1 * m[i] + (1 - beta1) * p.grad
        v_i = beta2 * v[i] + (1 - beta2) * p.grad ** 2
        m_hat = m_i / (1 - beta1 ** (step + 1))
        v_hat = v_i / (1 - beta2 ** (step + 1))
        p.data -= lr_t * m_hat / (v_hat ** 0.5 + eps)
        p.grad = 0
''',
        # the square root of v_hat forgotten
        '''def adam_step(params, m, v, step, lr_t, beta1=0.85, beta2=0.99, eps=1e-8):
    for i, p in enumerate(params):
        m[i] = beta1 * m[i] + (1 - beta1) * p.grad
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad ** 2
        m_hat = m[i] / (1 - beta1 ** (step + 1))
        v_hat = v[i] / (1 - beta2 ** (step + 1))
        p.data -= lr_t * m_hat / (v_hat + eps)
        p.grad = 0
''',
    ],
}
