"""microgpt on NumPy arrays: the same model, a whole name (or a batch of names) at once.

The scalar `GPT` runs one position at a time, and its KV cache makes attention causal: a
position can only see the keys that are already cached. Here every position runs at once,
as rows of one matrix, and a causal mask does the cache's job: position t's scores for
positions after t are set to -inf before the softmax, so their weights are exactly 0.
Same parameters (drawn from the same generator in the same order), same numbers.
"""
import math

import numpy as np

from .model import GPT, param_shapes
from .optim import check_adam_settings, check_num_steps
from .sample import check_temperature
from .autograd import Value
from .tensor import Tensor, causal_attention, embedding, linear, pick, rmsnorm, softmax
from .train import diverged



def flat_parameters(config, shapes, rng=None, flat=None):
    """(flat, state_dict): one float64 array holding every matrix of `shapes` in order, and a Tensor view
    of it per name. With `rng`, the numbers are drawn as microgpt draws them (in microgpt's order: the
    same weights as GPT(config, rng)); otherwise they are `flat`, checked for its size."""
    if (rng is None) == (flat is None):
        raise ValueError("give either rng (to draw fresh parameters) or flat (the parameters in order)")
    total = sum(nout * nin for nout, nin in shapes.values())
    if rng is not None:
        flat = [rng.gauss(0, config.init_std) for _ in range(total)]
    flat = np.array(flat, dtype=np.float64)
    if flat.shape != (total,):
        raise ValueError(f"flat holds {flat.size} numbers; {config} has {total} parameters")
    state_dict, start = {}, 0
    for name, (nout, nin) in shapes.items():
        state_dict[name] = Tensor(flat[start : start + nout * nin].reshape(nout, nin))
        start += nout * nin
    return flat, state_dict


class NumpyGPT:
    """microgpt's model with a matrix per parameter: `state_dict` maps microgpt's names to Tensors.

    All parameters are views into one flat array, `flat`, in microgpt's order (the order of
    `GPT.params`), so that Adam updates all of them with a handful of array operations.
    """

    def __init__(self, config, rng=None, flat=None):
        self.config = config
        self.flat, self.state_dict = flat_parameters(config, param_shapes(config), rng, flat)
        self.params = list(self.state_dict.values())

    @classmethod
    def from_gpt(cls, model):
        """The same weights as a scalar `GPT` (copied: the two then train independently)."""
        return cls(model.config, flat=[p.data for p in model.params])

    def to_gpt(self):
        """A scalar `GPT` with a copy of these weights (to save, or to check against)."""
        state_dict = {name: [[Value(float(x)) for x in row] for row in t.data] for name, t in self.state_dict.items()}
        return GPT(self.config, state_dict=state_dict)

    def __call__(self, ids):
        """The logits of the next token at every position: ids (B, T) -> logits (B, T, vocab_size)."""
        c, sd = self.config, self.state_dict
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"ids must be a (batch, positions) array of token ids, got shape {ids.shape}")
        B, T = ids.shape
        if T > c.block_size:
            raise ValueError(f"{T} positions do not fit in the context of block_size={c.block_size}")
        if ids.size and not (0 <= ids.min() and ids.max() < c.vocab_size):
            raise ValueError(f"token ids must be in 0..{c.vocab_size - 1}, got {ids.min()}..{ids.max()}")
        x = embedding(sd["wte"], ids) + embedding(sd["wpe"], np.arange(T))  # (B, T, n_embd)
        x = rmsnorm(x)
        for li in range(c.n_layer):
            x_residual = x
            x = rmsnorm(x)
            q = linear(x, sd[f"layer{li}.attn_wq"])
            k = linear(x, sd[f"layer{li}.attn_wk"])
            v = linear(x, sd[f"layer{li}.attn_wv"])
            x_attn = causal_attention(q, k, v, c.n_head)
            x = linear(x_attn, sd[f"layer{li}.attn_wo"]) + x_residual
            x_residual = x
            x = linear(linear(rmsnorm(x), sd[f"layer{li}.mlp_fc1"]).relu(), sd[f"layer{li}.mlp_fc2"]) + x_residual
        return linear(x, sd["lm_head"])


def pad_batch(token_lists, block_size, pad_id):
    """Documents of different lengths as rectangles: (inputs, targets, mask), each (B, T).

    Document b contributes n_b = min(block_size, len(tokens) - 1) predictions; shorter rows are
    padded at the end with `pad_id`, and mask[b, t] is 1 for a real prediction, 0 for padding.
    Padding comes after the name, so the causal mask already keeps real positions from seeing it.
    """
    lengths = [min(block_size, len(tokens) - 1) for tokens in token_lists]
    if not token_lists or min(lengths) < 1:
        raise ValueError("every document needs at least 2 tokens (BOS, ..., BOS)")
    T = max(lengths)
    inputs = np.full((len(token_lists), T), pad_id, dtype=np.int64)
    targets = np.full((len(token_lists), T), pad_id, dtype=np.int64)
    mask = np.zeros((len(token_lists), T))
    for b, (tokens, n) in enumerate(zip(token_lists, lengths)):
        inputs[b, :n] = tokens[:n]
        targets[b, :n] = tokens[1 : n + 1]
        mask[b, :n] = 1.0
    return inputs, targets, mask


def batch_loss(model, token_lists):
    """The mean over documents of each document's mean next-token loss (microgpt's loss, for B = 1)."""
    inputs, targets, mask = pad_batch(token_lists, model.config.block_size, pad_id=0)
    weights = mask / mask.sum(axis=1, keepdims=True) / len(token_lists)  # 1/n_b of each name, 1/B of the batch
    probs = softmax(model(inputs))  # as microgpt: softmax, then -log of the target's probability
    return -(pick(probs, targets).log() * weights).sum()


def document_loss(model, tokens):
    """The mean negative log-likelihood of each next token of one tokenized document."""
    return batch_loss(model, [tokens])


class Adam:
    """microgpt's Adam (bias correction, linear decay to 0), on the flat parameter array at once."""

    def __init__(self, model, num_steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8):
        check_adam_settings(num_steps, lr, beta1, beta2)
        self.model, self.num_steps = model, num_steps
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = np.zeros_like(model.flat)  # running mean of the gradient
        self.v = np.zeros_like(model.flat)  # running mean of the squared gradient
        self._grad, self._scratch, self._update = (np.empty_like(model.flat) for _ in range(3))  # reused every step

    def lr_at(self, step):
        """The learning rate of training step `step` (counted from 0)."""
        return self.lr * (1 - step / self.num_steps)  # microgpt's own expression, bit for bit

    def update(self, step, lr_t):
        """Adam's change of every weight for step `step`: lr_t * m_hat / (sqrt(v_hat) + eps), one flat array."""
        beta1, beta2 = self.beta1, self.beta2
        m, v, grad, scratch, update = self.m, self.v, self._grad, self._scratch, self._update
        grads = [np.zeros(p.data.size) if p.grad is None else p.grad.ravel() for p in self.model.params]
        np.concatenate(grads, out=grad)
        # microgpt's arithmetic, operation for operation, but in place: a big model's arrays are
        # megabytes, and allocating fresh ones every step cost more than the arithmetic
        m *= beta1
        m += np.multiply(grad, 1 - beta1, out=scratch)  # m = beta1 * m + (1 - beta1) * g
        v *= beta2
        v += np.multiply(np.square(grad, out=scratch), 1 - beta2, out=scratch)  # v = beta2 * v + (1 - beta2) * g**2
        np.divide(m, 1 - beta1 ** (step + 1), out=update)  # m_hat
        update *= lr_t
        np.sqrt(np.divide(v, 1 - beta2 ** (step + 1), out=scratch), out=scratch)  # v_hat**0.5
        scratch += self.eps
        update /= scratch  # lr_t * m_hat / (v_hat**0.5 + eps)
        return update

    def zero_grad(self):
        """Forget the gradients that this step used (the next backward starts from none)."""
        for p in self.model.params:
            p.grad = None

    def step(self, step):
        """Update every parameter for training step `step` (counted from 0), then forget the gradients."""
        self.model.flat -= self.update(step, self.lr_at(step))  # in place: every parameter is a view of flat
        self.zero_grad()


def train(model, tokenizer, docs, num_steps, optimizer=None, callback=None, start_step=0, loss_of=None):
    """microgpt's training loop on the NumPy engine: one document a step; returns the loss of every step.

    The same contract as `microgpt_lib.train.train`: the optimizer defaults to microgpt's Adam,
    `callback(step, num_steps, loss)` after each step, a loss that is not finite stops training.
    `loss_of(model, tokens)` is `document_loss` unless another engine brings its own (chapter 09b's).
    """
    loss_of = document_loss if loss_of is None else loss_of
    check_num_steps(num_steps)
    if not docs:
        raise ValueError("no documents to train on")
    optimizer = Adam(model, num_steps) if optimizer is None else optimizer
    loss_history = []
    for step in range(start_step, num_steps):
        tokens = tokenizer.tokenize(docs[step % len(docs)])
        with np.errstate(all="ignore"):  # an overflow shows up as a loss that is not finite, below
            loss = loss_of(model, tokens)
        loss_value = float(loss.data)
        if not math.isfinite(loss_value):  # as the scalar engine says it: a probability reached 0, or worse
            raise diverged(step, "infinite (a probability reached 0)" if loss_value == math.inf else loss_value)
        loss.backward()
        optimizer.step(step)
        loss_history.append(loss_value)
        if callback is not None:
            callback(step, num_steps, loss_value)
    return loss_history


def next_token_probs(model, ids, temperature=1.0):
    """The distribution of the token after `ids` (a list), as microgpt computes it: softmax(logits / T)."""
    check_temperature(temperature)
    logits = model(np.asarray([ids])).data[0, -1] * temperature**-1
    exps = np.exp(logits - logits.max())
    return exps * exps.sum() ** -1


def sample(model, tokenizer, rng, temperature=0.5):
    """One new document, drawn with the generator `rng` exactly as the scalar `sample` draws it."""
    check_temperature(temperature)
    ids = [tokenizer.BOS]
    for _ in range(model.config.block_size):
        probs = next_token_probs(model, ids, temperature)
        token_id = rng.choices(range(tokenizer.vocab_size), weights=probs.tolist())[0]
        if token_id == tokenizer.BOS:
            break
        ids.append(token_id)
    return tokenizer.decode(ids)  # any tokenizer: characters, or the subwords of chapter 12


def sample_names(model, tokenizer, rng, num_samples=20, temperature=0.5):
    """`num_samples` new documents, one after another from the same generator."""
    if not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"num_samples must be a whole number of at least 1, got {num_samples!r}")
    return [sample(model, tokenizer, rng, temperature) for _ in range(num_samples)]

