"""Optimizers: they move each parameter against its gradient, then zero the gradient."""


def check_num_steps(num_steps):
    if not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"num_steps must be a whole number of at least 1, got {num_steps!r}")


def check_adam_settings(num_steps, lr, beta1, beta2):
    check_num_steps(num_steps)
    if not lr > 0:
        raise ValueError(f"lr must be above 0, got {lr!r}")
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        if not 0 <= beta < 1:
            raise ValueError(f"{name} must be in [0, 1), got {beta!r}")


class Adam:
    """Adam with bias correction, and a learning rate that decays linearly to 0 over `num_steps`."""

    def __init__(self, params, num_steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8):
        check_adam_settings(num_steps, lr, beta1, beta2)
        self.params, self.num_steps = params, num_steps
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = [0.0] * len(params)  # running mean of the gradient
        self.v = [0.0] * len(params)  # running mean of the squared gradient

    def step(self, step):
        """Update every parameter for training step `step` (counted from 0)."""
        lr_t = self.lr * (1 - step / self.num_steps)
        beta1, beta2 = self.beta1, self.beta2
        for i, p in enumerate(self.params):
            self.m[i] = beta1 * self.m[i] + (1 - beta1) * p.grad
            self.v[i] = beta2 * self.v[i] + (1 - beta2) * p.grad**2
            m_hat = self.m[i] / (1 - beta1 ** (step + 1))  # undo the pull towards the 0 we started from
            v_hat = self.v[i] / (1 - beta2 ** (step + 1))
            p.data -= lr_t * m_hat / (v_hat**0.5 + self.eps)
            p.grad = 0


class SGD:
    """Plain gradient descent, with the same linear learning-rate decay as `Adam`."""

    def __init__(self, params, num_steps, lr=0.1):
        check_num_steps(num_steps)
        if not lr > 0:
            raise ValueError(f"lr must be above 0, got {lr!r}")
        self.params, self.num_steps, self.lr = params, num_steps, lr

    def step(self, step):
        lr_t = self.lr * (1 - step / self.num_steps)
        for p in self.params:
            p.data -= lr_t * p.grad
            p.grad = 0
