"""Property tests of lesson 4's autograd engine: the solution's own `Value`, operations, `backward` and MLP.

The engine is taken from the solution notebook itself (the cells that define `Value`, `Module` and the derived
operations, and every answer cell with its solution), so these tests follow the lesson as it is edited. On a
thousand random expressions built from +, -, *, /, powers, exp, tanh and ReLU, with values reused, every gradient
must equal central finite differences (relative error at most 1e-6, the course's threshold; absolute 1e-9 for
gradients below 1e-3, where round-off sets the limit) and PyTorch's
autograd in float64 (to 1e-10); so must every parameter gradient of random MLPs, and a few steps of `train`.
Random cases come from seeded generators (numpy's default_rng), so a failure names a seed that reproduces it.
"""

from __future__ import annotations

import contextlib
import io
import math
import random

import numpy as np
import pytest
import torch

import course
from helpers import gradient_check

LESSON = "04_your_own_autograd"
N_EXPRESSIONS = 1000


@pytest.fixture(scope="module")
def engine() -> dict:
    """The namespace left by the solution notebook's engine cells, run in order."""
    namespace: dict = {"__name__": "lesson04_engine", "math": math, "random": random, "np": np, "torch": torch}
    cells = course.read(course.source_notebook(LESSON)).cells
    kept = 0
    for cell in cells:
        if cell.cell_type != "code":
            continue
        meta = course.nbgrader_meta(cell)
        defines = "class Value" in cell.source or "class Module" in cell.source or "Value.__neg__" in cell.source
        if defines or (meta.get("solution") and not meta.get("grade")):
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(course.solution_source(cell.source), f"<{LESSON} cell>", "exec"), namespace)
            kept += 1
    assert kept >= 8, f"expected the Value, Module and derived-operation cells and five answer cells, found {kept} cells"
    for name in ("Value", "Module", "Neuron", "Layer", "MLP", "train"):
        assert name in namespace, f"the solution notebook no longer defines {name}"
    return namespace


# ---------------------------------------------------------------------------------------------- random programs
# A program is a list of instructions over a growing list of values (the leaves first); each instruction appends
# one value computed from earlier ones, so any value may be used several times. The last value is the output.
BINARY = ("+", "-", "*", "/")
UNARY = ("**2", "**3", "**-1", "**0.5", "exp", "tanh", "relu", "neg", "+c", "c*", "c/")


def _apply(op: str, args: list, const: float):
    a = args[0]
    if op == "+":
        return a + args[1]
    if op == "-":
        return a - args[1]
    if op == "*":
        return a * args[1]
    if op == "/":
        return a / args[1]
    if op.startswith("**"):
        return a ** float(op[2:]) if op == "**0.5" else a ** int(op[2:])
    if op == "exp":
        return a.exp()
    if op == "tanh":
        return a.tanh()
    if op == "relu":
        return a.relu()
    if op == "neg":
        return -a
    if op == "+c":
        return const + a   # a plain number on the left: the reflected operations
    if op == "c*":
        return const * a
    if op == "c/":
        return const / a
    raise ValueError(op)


def _safe(op: str, args: list[float]) -> bool:
    """Keep each step well inside the region where finite differences and both engines are accurate."""
    a = args[0]
    if op in ("/", "**-1", "c/") and abs(args[-1] if op == "/" else a) < 0.3:
        return False
    if op == "**0.5" and a < 0.1:
        return False
    if op == "relu" and abs(a) < 1e-2:   # no kink within a finite difference's step
        return False
    return not (op == "exp" and a > 4.0)


def random_program(rng: np.random.Generator, n_leaves: int, n_steps: int) -> tuple[list[float], list[tuple]]:
    leaves = [float(v) for v in rng.uniform(-2.0, 2.0, size=n_leaves)]
    values, program = list(leaves), []
    while len(program) < n_steps:
        if rng.random() < 0.45:
            op, picks = str(rng.choice(BINARY)), [int(i) for i in rng.integers(0, len(values), size=2)]
        else:
            op, picks = str(rng.choice(UNARY)), [int(rng.integers(0, len(values)))]
        const = float(rng.uniform(0.5, 2.0))
        if not _safe(op, [values[i] for i in picks]):
            continue
        out = _apply(op, [_Float(values[i]) for i in picks], const).x
        if math.isfinite(out) and abs(out) < 50.0:
            values.append(out)
            program.append((op, picks, const))
    # the output sums the last few values, so that most of the graph reaches it
    program.append(("+", [len(values) - 1, len(values) - 2], 0.0))
    return leaves, program


class _Float:
    """Plain float arithmetic with the method names of Value, to screen a random program."""

    def __init__(self, x: float):
        self.x = float(x)

    def _of(self, other):
        return other.x if isinstance(other, _Float) else float(other)

    def __add__(self, other):
        return _Float(self.x + self._of(other))

    __radd__ = __add__

    def __sub__(self, other):
        return _Float(self.x - self._of(other))

    def __mul__(self, other):
        return _Float(self.x * self._of(other))

    __rmul__ = __mul__

    def __truediv__(self, other):
        return _Float(self.x / self._of(other))

    def __rtruediv__(self, other):
        return _Float(self._of(other) / self.x)

    def __neg__(self):
        return _Float(-self.x)

    def __pow__(self, k):
        return _Float(self.x**k)

    def exp(self):
        return _Float(math.exp(self.x))

    def tanh(self):
        return _Float(math.tanh(self.x))

    def relu(self):
        return _Float(max(self.x, 0.0))


def run(program: list[tuple], leaves: list):
    values = list(leaves)
    for op, picks, const in program:
        values.append(_apply(op, [values[i] for i in picks], const))
    return values[-1]


# ------------------------------------------------------------------------------------------------------- tests
def test_random_expressions_match_finite_differences_and_torch(engine):
    Value = engine["Value"]
    ops_seen: set[str] = set()
    reused = 0
    for seed in range(N_EXPRESSIONS):
        rng = np.random.default_rng(seed)
        leaves, program = random_program(rng, n_leaves=int(rng.integers(1, 5)), n_steps=int(rng.integers(3, 15)))
        ops_seen |= {op for op, _, _ in program}
        uses = [i for _, picks, _ in program for i in picks]
        reused += len(uses) > len(set(uses))

        nodes = [Value(v) for v in leaves]
        run(program, nodes).backward()
        ours = np.array([v.grad for v in nodes])

        tensors = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in leaves]
        run(program, tensors).backward()
        by_torch = np.array([0.0 if t.grad is None else t.grad.item() for t in tensors])
        assert np.allclose(ours, by_torch, rtol=1e-10, atol=1e-12), (
            f"seed {seed}: engine {ours} against torch {by_torch} for {program}")

        # floor 1e-3: a gradient below it is compared to within 1e-9, the round-off floor of a difference quotient of
        # outputs up to ~50 with h = 1e-5 (lesson 3, section 8), instead of relatively
        report = gradient_check(lambda p, program=program: run(program, [Value(v) for v in p]).data, leaves, ours,
                                floor=1e-3)
        assert report.max_rel_error <= 1e-6, f"seed {seed}: engine {ours} against finite differences: {report}"
    assert ops_seen == set(BINARY) | set(UNARY) | {"+"}, f"operations never drawn: {set(BINARY) | set(UNARY) - ops_seen}"
    assert reused > N_EXPRESSIONS // 2, f"only {reused} expressions reuse a value"


def test_every_node_of_a_shared_graph_gets_the_sum_over_its_uses(engine):
    Value = engine["Value"]
    a = Value(1.5)
    b = a * a + a * 3 + a       # d/da = 2a + 3 + 1
    b.backward()
    assert a.grad == pytest.approx(2 * 1.5 + 4, rel=1e-15)
    b.backward()                # a leaf accumulates across calls, a computed value does not
    assert a.grad == pytest.approx(2 * (2 * 1.5 + 4), rel=1e-15)
    assert b.grad == 1.0


def _torch_mlp_grads(net, X, Y):
    """The same network in torch, built from our parameters, and the gradients of the same loss."""
    layers = []
    for layer in net.layers:
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        layers.append((W, b, layer.neurons[0].nonlinear))
    H = torch.tensor(X, dtype=torch.float64)
    for W, b, nonlinear in layers:
        H = H @ W.T + b
        H = torch.relu(H) if nonlinear else H
    loss = ((H - torch.tensor(Y, dtype=torch.float64)) ** 2).mean() + torch.tanh(H).sum()
    loss.backward()
    grads = []
    for W, b, _ in layers:
        for j in range(W.shape[0]):
            grads += [*W.grad[j].tolist(), b.grad[j].item()]
    return np.array(grads), loss.item()


@pytest.mark.parametrize(("seed", "n_in", "sizes"), [(0, 3, [4, 4, 2]), (1, 2, [2, 1]), (2, 1, [5, 3, 3, 1]), (3, 4, [6, 2])])
def test_mlp_parameter_gradients_match_torch(engine, seed, n_in, sizes):
    Value, MLP = engine["Value"], engine["MLP"]
    random.seed(seed)
    net = MLP(n_in, sizes)
    rng = np.random.default_rng(seed)
    for p in net.parameters():
        p.data = float(rng.normal(0.0, 0.8))
    X, Y = rng.normal(size=(5, n_in)), rng.normal(size=(5, sizes[-1]))

    def loss_of(model):
        total, count = Value(0.0), 0
        for x, y in zip(X.tolist(), Y.tolist()):
            out = model(x)
            outs = out if isinstance(out, list) else [out]
            for o, t in zip(outs, y):
                total = total + (o - t) ** 2 + o.tanh() * len(Y) * len(y)
                count += 1
        return total / count

    net.zero_grad()
    loss = loss_of(net)
    loss.backward()
    ours = np.array([p.grad for p in net.parameters()])
    expected, torch_loss = _torch_mlp_grads(net, X, Y)
    assert loss.data == pytest.approx(torch_loss, rel=1e-12)
    assert np.allclose(ours, expected, rtol=1e-10, atol=1e-12), f"largest gap {np.max(np.abs(ours - expected)):.2e}"


def test_train_takes_the_steps_of_gradient_descent_in_torch(engine):
    Value, MLP, train = engine["Value"], engine["MLP"], engine["train"]
    random.seed(5)
    net = MLP(2, [3, 1])
    X, Y = [[1.0, 2.0], [3.0, 4.0], [-1.0, 0.5]], [1.0, 2.0, -0.5]
    params = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in net.parameters()]

    def mse(model):
        return sum(((model(x) - y) ** 2 for x, y in zip(X, Y)), Value(0.0)) / len(X)

    losses = train(net, mse, 0.05, 5)

    def torch_forward(x):
        h = []
        for j in range(3):
            w1, w2, b = params[3 * j: 3 * j + 3]
            h.append(torch.relu(w1 * x[0] + w2 * x[1] + b))
        w = params[9:12]
        return h[0] * w[0] + h[1] * w[1] + h[2] * w[2] + params[12]

    torch_losses = []
    for _ in range(5):   # torch.optim.SGD's step without momentum, written out (importing torch.optim takes seconds)
        for p in params:
            p.grad = None
        loss = sum((torch_forward(x) - y) ** 2 for x, y in zip(X, Y)) / len(X)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.05 * p.grad
        torch_losses.append(loss.item())
    assert np.allclose(losses, torch_losses, rtol=1e-12)
    assert np.allclose([p.data for p in net.parameters()], [p.item() for p in params], rtol=1e-12, atol=1e-14)
