"""A scalar autograd engine: `Value` remembers how it was made and back-propagates.

Each operation computes its result and, at the same time, the local derivative of
the result with respect to each input. `backward` then applies the chain rule,
from the output back to every leaf, in reverse topological order.
"""
import math


class Value:
    """A number in a computation graph, with the gradient of the output with respect to it."""

    __slots__ = ("data", "grad", "_children", "_local_grads", "_op")

    def __init__(self, data, children=(), local_grads=(), op=""):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads  # d(self)/d(child), one per child
        self._op = op  # only for drawing the graph

    # primitives: the value and its local derivatives, side by side
    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1, 1), "+")

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __pow__(self, k):
        if not isinstance(k, (int, float)):
            raise TypeError(f"the exponent must be a plain number, got {type(k).__name__}")
        return Value(self.data**k, (self,), (k * self.data ** (k - 1),), f"**{k}")

    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,), "log")

    def exp(self):
        return Value(math.exp(self.data), (self,), (math.exp(self.data),), "exp")

    def relu(self):
        return Value(max(0, self.data), (self,), (float(self.data > 0),), "relu")

    # derived operations, built from the primitives
    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other**-1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return other + (-self)

    def __rtruediv__(self, other):
        return other * self**-1

    def backward(self):
        """Fill in `.grad` of every node below this one with d(self)/d(node)."""
        self.grad = 1
        for node in reversed(topological_order(self)):
            for child, local_grad in zip(node._children, node._local_grads):
                child.grad += local_grad * node.grad

    def __repr__(self):
        return f"Value(data={self.data:.4f}, grad={self.grad:.4f})"


def topological_order(root):
    """Every node below `root`, each after all of its children (depth first, children in order).

    The same order as the recursive depth-first search of micrograd and microgpt, with an
    explicit stack instead of recursion, so a graph of any depth fits.
    """
    order, visited = [], {root}
    stack = [(root, iter(root._children))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child not in visited:
                visited.add(child)
                stack.append((child, iter(child._children)))
                break
        else:  # every child is done: the node can follow them
            stack.pop()
            order.append(node)
    return order
