"""The GPT: embeddings, attention over a KV cache, an MLP, one position at a time."""
from dataclasses import dataclass

from .nn import linear, matrix, relu, rmsnorm, softmax


@dataclass(frozen=True)
class GPTConfig:
    """The sizes of the model; the defaults are microgpt's."""

    vocab_size: int = 27
    n_embd: int = 16  # width of every vector in the residual stream
    n_head: int = 4  # attention heads per layer
    n_layer: int = 1
    block_size: int = 16  # longest context the model sees
    init_std: float = 0.08

    def __post_init__(self):
        for name in ("vocab_size", "n_embd", "n_head", "n_layer", "block_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(
                f"n_embd={self.n_embd} is not divisible by n_head={self.n_head}: "
                "each head gets n_embd // n_head numbers, so pick n_head among the divisors of n_embd"
            )
        if not self.init_std > 0:
            raise ValueError(f"init_std must be above 0, got {self.init_std!r}")

    @property
    def head_dim(self):
        return self.n_embd // self.n_head


def param_shapes(config):
    """(rows, columns) of every parameter matrix by name, in microgpt's order."""
    c = config
    shapes = {
        "wte": (c.vocab_size, c.n_embd),  # token embeddings
        "wpe": (c.block_size, c.n_embd),  # position embeddings
        "lm_head": (c.vocab_size, c.n_embd),  # back to one logit per token
    }
    for li in range(c.n_layer):
        shapes[f"layer{li}.attn_wq"] = (c.n_embd, c.n_embd)
        shapes[f"layer{li}.attn_wk"] = (c.n_embd, c.n_embd)
        shapes[f"layer{li}.attn_wv"] = (c.n_embd, c.n_embd)
        shapes[f"layer{li}.attn_wo"] = (c.n_embd, c.n_embd)
        shapes[f"layer{li}.mlp_fc1"] = (4 * c.n_embd, c.n_embd)
        shapes[f"layer{li}.mlp_fc2"] = (c.n_embd, 4 * c.n_embd)
    return shapes


def count_params(config):
    """How many numbers each matrix holds, by name."""
    return {name: nout * nin for name, (nout, nin) in param_shapes(config).items()}


def init_params(config, rng):
    """The parameter matrices by name, drawn in microgpt's order."""
    return {name: matrix(nout, nin, rng, config.init_std) for name, (nout, nin) in param_shapes(config).items()}


def attention(q, keys, values, n_head, attn_log=None):
    """Each head's query against every cached key; returns the heads' weighted values, concatenated.

    `keys` and `values` hold one vector per position so far, so a position sees only the
    past: the cache is what makes attention causal. If `attn_log` is a list, each head's
    weights (plain floats) are appended to it.
    """
    head_dim = len(q) // n_head
    x_attn = []
    for h in range(n_head):
        hs = h * head_dim
        q_h = q[hs : hs + head_dim]
        k_h = [ki[hs : hs + head_dim] for ki in keys]
        v_h = [vi[hs : hs + head_dim] for vi in values]
        attn_logits = [sum(q_h[j] * k_h[t][j] for j in range(head_dim)) / head_dim**0.5 for t in range(len(k_h))]
        attn_weights = softmax(attn_logits)
        if attn_log is not None:
            attn_log.append([w.data for w in attn_weights])
        head_out = [sum(attn_weights[t] * v_h[t][j] for t in range(len(v_h))) for j in range(head_dim)]
        x_attn.extend(head_out)
    return x_attn


def mlp(x, fc1, fc2):
    """Widen to 4*n_embd, relu, narrow back."""
    return linear(relu(linear(x, fc1)), fc2)


class GPT:
    """microgpt's model: parameters in `state_dict`, a forward pass for one position."""

    def __init__(self, config, rng=None, state_dict=None):
        if (rng is None) == (state_dict is None):
            raise ValueError("give either rng (to draw fresh parameters) or state_dict (to use given ones)")
        self.config = config
        self.state_dict = init_params(config, rng) if state_dict is None else state_dict
        self.params = [p for mat in self.state_dict.values() for row in mat for p in row]

    def empty_cache(self):
        """Fresh per-layer lists of keys and values: a new document starts with no past."""
        return [[] for _ in range(self.config.n_layer)], [[] for _ in range(self.config.n_layer)]

    def __call__(self, token_id, pos_id, keys, values, attn_log=None):
        """The logits of the next token, given this token, its position and the cache of the past."""
        c, sd = self.config, self.state_dict
        if not 0 <= token_id < c.vocab_size:
            raise ValueError(f"token id {token_id} is outside the vocabulary of vocab_size={c.vocab_size}")
        if not 0 <= pos_id < c.block_size:
            raise ValueError(f"position {pos_id} is outside the context of block_size={c.block_size}")
        x = [t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])]
        x = rmsnorm(x)
        for li in range(c.n_layer):
            x_residual = x
            x = rmsnorm(x)
            q = linear(x, sd[f"layer{li}.attn_wq"])
            k = linear(x, sd[f"layer{li}.attn_wk"])
            v = linear(x, sd[f"layer{li}.attn_wv"])
            keys[li].append(k)
            values[li].append(v)
            x_attn = attention(q, keys[li], values[li], c.n_head, attn_log)
            x = linear(x_attn, sd[f"layer{li}.attn_wo"])
            x = [a + b for a, b in zip(x, x_residual)]
            x_residual = x
            x = mlp(rmsnorm(x), sd[f"layer{li}.mlp_fc1"], sd[f"layer{li}.mlp_fc2"])
            x = [a + b for a, b in zip(x, x_residual)]
        return linear(x, sd["lm_head"])

    def attention_maps(self, tokens):
        """Attention weights for a token sequence: maps[layer][head][query_pos][key_pos], 0 for the future."""
        c = self.config
        keys, values = self.empty_cache()
        maps = [[[] for _ in range(c.n_head)] for _ in range(c.n_layer)]
        for pos_id, token_id in enumerate(tokens[: c.block_size]):
            attn_log = []  # n_layer * n_head rows, layer by layer
            self(token_id, pos_id, keys, values, attn_log)
            for i, weights in enumerate(attn_log):
                future = len(tokens[: c.block_size]) - len(weights)
                maps[i // c.n_head][i % c.n_head].append(weights + [0.0] * future)
        return maps
