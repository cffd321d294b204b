"""nnscratch against PyTorch autograd and torch.optim, in float32.

Agreement is measured as max|ours - torch| / max|torch| per array ("relative error"), which
must stay below 1e-5. PyTorch is an optional dependency: these tests skip without it locally,
and CI refuses to run without it (see conftest.py).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nnscratch as ns  # noqa: E402
from nnscratch import optim  # noqa: E402

TOLERANCE = 1e-5
ACTIVATIONS = {
    "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU,
    "leaky_relu": lambda: torch.nn.LeakyReLU(0.01), "softmax": lambda: torch.nn.Softmax(dim=1),
    "identity": torch.nn.Identity,
}
LOSSES = {
    "mse": torch.nn.MSELoss, "cross_entropy": torch.nn.CrossEntropyLoss,
    "binary_cross_entropy": torch.nn.BCEWithLogitsLoss,
}


def assert_relative_close(ours, theirs, what):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    ours = np.asarray(ours)
    assert ours.shape == theirs.shape, what
    scale = max(float(np.abs(theirs).max()), 1e-30)
    error = float(np.abs(ours - theirs).max()) / scale
    assert error < TOLERANCE, f"{what}: relative error {error:.2e}"


def torch_twin(net: ns.Sequential, activation: str) -> torch.nn.Sequential:
    """The same network in PyTorch, sharing the weights (torch's Linear weight is W.T)."""
    modules = []
    for layer in net.layers:
        if isinstance(layer, ns.Dense):
            linear = torch.nn.Linear(layer.in_features, layer.out_features)
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


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_forward_loss_and_every_gradient_match_autograd(activation, loss, seed):
    sizes, X, y, y_torch = random_problem(loss, seed)
    net = ns.MLP(sizes, activation=activation, seed=seed)
    twin = torch_twin(net, activation)
    ns_loss = ns.losses.get_loss(loss)

    outputs = net.forward(X, training=True)
    value = ns_loss.forward(outputs, ns_loss.prepare_targets(y, sizes[-1]))
    grad_input = net.backward(ns_loss.backward())

    X_torch = torch.from_numpy(X).requires_grad_(True)
    outputs_torch = twin(X_torch)
    value_torch = LOSSES[loss]()(outputs_torch, y_torch)
    value_torch.backward()

    assert_relative_close(outputs, outputs_torch, "outputs")
    assert_relative_close(value, value_torch.item(), "loss")
    assert_relative_close(grad_input, X_torch.grad, "dL/dX")
    linears = [module for module in twin if isinstance(module, torch.nn.Linear)]
    dense_layers = [layer for layer in net.layers if isinstance(layer, ns.Dense)]
    for index, (layer, linear) in enumerate(zip(dense_layers, linears, strict=True)):
        assert layer.grads["W"].dtype == np.float32
        assert_relative_close(layer.grads["W"], linear.weight.grad.T, f"dense {index} dL/dW")
        assert_relative_close(layer.grads["b"], linear.bias.grad, f"dense {index} dL/db")


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
    assert_relative_close(value, value_torch.item(), "weighted loss")
    assert_relative_close(grad, outputs_torch.grad, "weighted dL/d(outputs)")


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


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_updates_match_torch_optim_over_10_steps(name):
    make_ours, make_theirs = OPTIMIZERS[name]
    rng = np.random.default_rng(0)
    shapes = [(5, 4), (4,), (4, 3)]
    params = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    params_torch = [torch.from_numpy(param.copy()).requires_grad_(True) for param in params]
    ours, theirs = make_ours(), make_theirs(params_torch)
    for step in range(10):
        grads = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
        ours.step(list(zip(params, grads, strict=True)))
        for param_torch, grad in zip(params_torch, grads, strict=True):
            param_torch.grad = torch.from_numpy(grad.copy())
        theirs.step()
        for index, (param, param_torch) in enumerate(zip(params, params_torch, strict=True)):
            assert_relative_close(param, param_torch, f"step {step + 1}, parameter {index}")


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
    for layer, linear in zip(dense_layers, linears, strict=True):
        assert_relative_close(layer.params["W"], linear.weight.T, "trained W")
        assert_relative_close(layer.params["b"], linear.bias, "trained b")
