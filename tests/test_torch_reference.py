"""nnscratch against PyTorch autograd and torch.optim, in float32.

Two libraries add the same terms in other orders, with other BLAS kernels on other CPUs, so
every array must agree within the rounding that its own computation allows, entry by entry:
tests/rounding.py derives that bound for each number of a forward and backward pass, from the
exact pass in float64 (the sums' lengths, the terms' magnitudes, how each step carries the
differences of the steps before). PyTorch is an optional dependency: these tests skip without
it locally, and CI refuses to run without it (see conftest.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from rounding import STEP_ROUNDINGS, assert_rounding_close, loss_bounds, network_bounds

torch = pytest.importorskip("torch")

import nnscratch as ns  # noqa: E402
from nnscratch import optim  # noqa: E402

ACTIVATIONS = {
    "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU,
    "leaky_relu": lambda: torch.nn.LeakyReLU(0.01), "softmax": lambda: torch.nn.Softmax(dim=1),
    "identity": torch.nn.Identity,
}
LOSSES = {
    "mse": torch.nn.MSELoss, "cross_entropy": torch.nn.CrossEntropyLoss,
    "binary_cross_entropy": torch.nn.BCEWithLogitsLoss,
}


def assert_within(ours, theirs, bound, what, dtype=np.float32):
    """``ours`` and PyTorch's ``theirs`` within the rounding ``bound`` = (roundings, scale)."""
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    roundings, scale = bound
    assert_rounding_close(ours, theirs, roundings=roundings, scale=scale, dtype=dtype,
                          err_msg=what)


def torch_twin(net: ns.Sequential, activation: str) -> torch.nn.Sequential:
    """The same network in PyTorch, sharing the weights (torch's Linear weight is W.T)."""
    modules = []
    for layer in net.layers:
        if isinstance(layer, ns.Dense):
            linear = torch.nn.Linear(layer.in_features, layer.out_features,
                                     dtype=getattr(torch, net.dtype.name))
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(layer.params["W"].T.copy()))
                linear.bias.copy_(torch.from_numpy(layer.params["b"]))
            modules.append(linear)
        else:
            modules.append(ACTIVATIONS[activation]())
    return torch.nn.Sequential(*modules)


def random_problem(loss, seed):
    """A random architecture, batch and targets, all drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(1, 12))] + [int(rng.integers(2, 16))
                                          for _ in range(int(rng.integers(1, 4)))]
    sizes.append(int(rng.integers(2, 8)))
    n_samples = int(rng.integers(1, 40))
    X = rng.standard_normal((n_samples, sizes[0])).astype(np.float32)
    if loss == "cross_entropy":
        y = rng.integers(0, sizes[-1], n_samples)
        y_torch = torch.from_numpy(y)
    elif loss == "binary_cross_entropy":
        y = rng.integers(0, 2, (n_samples, sizes[-1])).astype(np.float32)
        y_torch = torch.from_numpy(y)
    else:
        y = rng.standard_normal((n_samples, sizes[-1])).astype(np.float32)
        y_torch = torch.from_numpy(y)
    return sizes, X, y, y_torch


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_forward_loss_and_every_gradient_match_autograd(activation, loss, seed, dtype):
    """In float32 the pass nnscratch trains with; in float64, where the rounding bound is
    2**29 times smaller, any difference of convention or equation larger than about 1e-12
    shows (a float32 comparison alone would let one of 1e-4 hide among the roundings)."""
    sizes, X, y, y_torch = random_problem(loss, seed)
    X = X.astype(dtype)
    if loss != "cross_entropy":
        y_torch = y_torch.to(getattr(torch, np.dtype(dtype).name))
    net = ns.MLP(sizes, activation=activation, seed=seed, dtype=dtype)
    twin = torch_twin(net, activation)
    ns_loss = ns.losses.get_loss(loss)

    outputs = net.forward(X, training=True)
    value = ns_loss.forward(outputs, ns_loss.prepare_targets(y, sizes[-1]))
    grad_input = net.backward(ns_loss.backward())

    X_torch = torch.from_numpy(X).requires_grad_(True)
    outputs_torch = twin(X_torch)
    value_torch = LOSSES[loss]()(outputs_torch, y_torch)
    value_torch.backward()

    bounds = network_bounds(net, X, loss, y)
    assert_within(outputs, outputs_torch, bounds["outputs"], "outputs", dtype)
    assert_within(value, value_torch.item(), bounds["loss"], "loss", dtype)
    assert_within(grad_input, X_torch.grad, bounds["dL/dX"], "dL/dX", dtype)
    linears = [module for module in twin if isinstance(module, torch.nn.Linear)]
    dense_layers = [layer for layer in net.layers if isinstance(layer, ns.Dense)]
    for index, (layer, linear) in enumerate(zip(dense_layers, linears, strict=True)):
        assert layer.grads["W"].dtype == dtype
        assert_within(layer.grads["W"], linear.weight.grad.T, bounds[f"{index}.W"],
                      f"dense {index} dL/dW", dtype)
        assert_within(layer.grads["b"], linear.bias.grad, bounds[f"{index}.b"],
                      f"dense {index} dL/db", dtype)


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_sample_weighted_losses_match_torch(loss):
    sizes, X, y, y_torch = random_problem(loss, 11)
    outputs = np.random.default_rng(0).standard_normal((len(X), sizes[-1])).astype(np.float32)
    weights = np.random.default_rng(1).random(len(X)).astype(np.float32)
    ns_loss = ns.losses.get_loss(loss)
    value = ns_loss.forward(outputs, ns_loss.prepare_targets(y, sizes[-1]), weights)
    grad = ns_loss.backward()

    outputs_torch = torch.from_numpy(outputs).requires_grad_(True)
    per_element = LOSSES[loss](reduction="none")(outputs_torch, y_torch)
    per_sample = per_element if per_element.ndim == 1 else per_element.mean(dim=1)
    value_torch = (per_sample * torch.from_numpy(weights)).mean()
    value_torch.backward()
    bounds = loss_bounds(loss, outputs, y, weights)
    assert_within(value, value_torch.item(), bounds["loss"], "weighted loss")
    assert_within(grad, outputs_torch.grad, bounds["gradient"], "weighted dL/d(outputs)")


OPTIMIZERS = {
    "sgd": (lambda: optim.SGD(lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "momentum": (lambda: optim.SGD(lr=0.1, momentum=0.9),
                 lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    "nesterov+decay": (lambda: optim.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
                       lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True,
                                                 weight_decay=0.01)),
    "rmsprop": (lambda: optim.RMSProp(lr=0.01, rho=0.9, eps=1e-8, weight_decay=0.01),
                lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8,
                                              weight_decay=0.01)),
    "adam": (lambda: optim.Adam(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-8, weight_decay=0.01),
             lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-8,
                                        weight_decay=0.01)),
    "adamw": (lambda: optim.AdamW(lr=0.01, weight_decay=0.1),
              lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_updates_match_torch_optim_over_10_steps(name, dtype):
    """Elementwise steps, each carrying the last one's differences forward; in float64 any
    difference of convention (where eps goes, which bias correction) larger than about 1e-13
    shows."""
    make_ours, make_theirs = OPTIMIZERS[name]
    rng = np.random.default_rng(0)
    shapes = [(5, 4), (4,), (4, 3)]
    params = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    params_torch = [torch.from_numpy(param.copy()).requires_grad_(True) for param in params]
    ours, theirs = make_ours(), make_theirs(params_torch)
    for step in range(10):
        grads = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
        ours.step(list(zip(params, grads, strict=True)))
        for param_torch, grad in zip(params_torch, grads, strict=True):
            param_torch.grad = torch.from_numpy(grad.copy())
        theirs.step()
        for index, (param, param_torch) in enumerate(zip(params, params_torch, strict=True)):
            assert_within(param, param_torch, (STEP_ROUNDINGS * (step + 1),
                                               np.abs(param_torch.detach().numpy()).max()),
                          f"step {step + 1}, parameter {index}", dtype)


@pytest.mark.parametrize("ours, make_theirs", [
    (optim.StepDecay(step_size=3, gamma=0.5),
     lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)),
    (optim.ExponentialDecay(gamma=0.8),
     lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.8)),
    (optim.CosineDecay(total_epochs=8, min_lr=0.01),
     lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8, eta_min=0.01)),
])
def test_schedules_match_torch_schedulers(ours, make_theirs):
    torch_optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = make_theirs(torch_optimizer)
    theirs = []
    for _ in range(9):
        theirs.append(torch_optimizer.param_groups[0]["lr"])
        torch_optimizer.step()
        scheduler.step()
    np.testing.assert_allclose([ours(epoch, 0.1) for epoch in range(9)], theirs, rtol=1e-9)


def test_a_short_training_run_follows_torch_step_for_step():
    """Nine steps of momentum SGD: each step's forward and backward pass rounds within the
    bounds of network_bounds, and the velocity carries every step's difference into the next;
    the weights agree within the roundings of all nine passes, relative to their size."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((48, 6)).astype(np.float32)
    y = rng.integers(0, 3, 48)
    net = ns.MLP([6, 16, 16, 3], activation="tanh", seed=3)
    twin = torch_twin(net, "tanh")
    torch_optimizer = torch.optim.SGD(twin.parameters(), lr=0.05, momentum=0.9)
    net.fit(X, y, loss="cross_entropy", optimizer=ns.SGD(lr=0.05, momentum=0.9), epochs=3,
            batch_size=16, shuffle=False)
    for _ in range(3):
        for start in range(0, 48, 16):
            torch_optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(X[start:start + 16])),
                                                     torch.from_numpy(y[start:start + 16]))
            loss.backward()
            torch_optimizer.step()
    linears = [module for module in twin if isinstance(module, torch.nn.Linear)]
    dense_layers = [layer for layer in net.layers if isinstance(layer, ns.Dense)]
    one_step = max(roundings for roundings, _ in network_bounds(net, X[:16], "cross_entropy",
                                                                y[:16]).values())
    for layer, linear in zip(dense_layers, linears, strict=True):
        for ours, theirs, what in ((layer.params["W"], linear.weight.T, "trained W"),
                                   (layer.params["b"], linear.bias, "trained b")):
            scale = np.abs(ours).max()
            assert_within(ours, theirs, (9 * (one_step + STEP_ROUNDINGS), scale), what)
