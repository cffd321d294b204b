"""Optimizers, which update parameters from their gradients, and learning-rate schedules.

An optimizer only updates: ``optimizer.step(network.parameters())`` receives (param, grad) pairs
and changes each param in place. It keeps its own per-parameter state (velocity, moments), keyed
by the pair's position, and ``state_dict()`` / ``load_state_dict()`` save and restore it.

Each ``update`` is its equations, one line each, and nothing else. fit steps through
``_fast.step``, which takes a measured fast form where one applies (Adam in place, plain SGD on
a gradient's sparse rows, the flush of subnormal state; see _fast.py) and these methods
everywhere else. The tests check both against steps derived by hand and against torch.optim.

In order of increasing complexity (eta = lr, lambda = weight_decay, t = step count):

    SGD        theta <- theta - eta g                         (+ momentum, Nesterov, L2)
    RMSProp    s <- rho s + (1 - rho) g^2;  theta <- theta - eta g / (sqrt(s) + eps)
    Adam       bias-corrected moving averages of g and g^2
    AdamW      Adam with decoupled weight decay: theta <- theta - eta lambda theta

The updates are written with the operators and the array-API functions (``xp = namespace``
of the parameter, see backend.py), so the same lines update NumPy arrays, CuPy arrays and
PyTorch tensors; the fast forms are NumPy's alone. The update rules follow PyTorch's
torch.optim (the tests compare them step by step). A schedule is a callable
``schedule(epoch, initial_lr) -> lr``, applied by the LearningRateScheduler callback once per
epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ._validation import check_choice, check_float, check_int
from .backend import backend_of, complete_sparse_rows, namespace, to_numpy

ParamsAndGrads = Iterable[tuple[np.ndarray, np.ndarray]]


class Optimizer:
    """Base class: counts steps, stores per-parameter state, and saves it.

    ``fast`` (True by default; set it False on the class or one optimizer) lets fit take the
    fast forms of the updates (see _fast.py); ``step`` itself always runs the plain lines.
    """

    fast = True
    #: the names of the state arrays it keeps per parameter (``buffer``), saved with a model
    slots: tuple[str, ...] = ()

    def __init__(self, lr: float, weight_decay: float = 0.0):
        self.lr = check_float(lr, "lr", fix="The learning rate must be positive, e.g. 0.01.")
        self.weight_decay = check_float(weight_decay, "weight_decay", low_inclusive=True,
                                        fix="Use 0 for none; 1e-4 is a common strength.")
        self.steps = 0
        self.state: dict[int, dict[str, np.ndarray]] = {}

    def step(self, params_and_grads: ParamsAndGrads,
             sparse_rows: Sequence[np.ndarray | None] | None = None) -> None:
        """Update every parameter in place from its gradient.

        ``sparse_rows`` (optional, one entry per parameter) marks a gradient kept on its
        sparse rows, as a one-sample Dense layer may keep it in fit (see _fast.py): ``grad``
        then holds only the rows ``sparse_rows[index]`` of the gradient, the others being
        zero (None: ``grad`` is complete); it is written out in full first.
        """
        self.steps += 1
        for index, (param, grad) in enumerate(params_and_grads):
            rows = None if sparse_rows is None else sparse_rows[index]
            if rows is not None:
                grad = complete_sparse_rows(grad, rows, param.shape[0])
            self.update(index, param, grad)

    def updates_sparse_rows(self) -> bool:
        """Whether a row whose gradient is zero is left unchanged by ``update``, so that a
        gradient's sparse rows alone may be updated (see _fast.py)."""
        return False

    def update(self, index: int, param: np.ndarray, grad: np.ndarray) -> None:
        """Update one parameter in place; ``index`` keys its state."""
        raise NotImplementedError(f"{type(self).__name__} must implement update")

    def buffer(self, index: int, name: str, param: np.ndarray) -> np.ndarray:
        """The state array ``name`` (one of ``slots``) of parameter ``index``, created as zeros
        on first use (and moved to the parameter's library and device if it was loaded or made
        elsewhere)."""
        assert name in self.slots, f"{type(self).__name__} keeps no state {name!r}"
        slots = self.state.setdefault(index, {})
        if name not in slots:
            slots[name] = namespace(param).zeros_like(param)
        elif type(slots[name]) is not type(param):
            slots[name] = backend_of(param).asarray(slots[name])
        return slots[name]

    def get_config(self) -> dict[str, Any]:
        """The hyperparameters, as the constructor takes them."""
        return {"lr": self.lr, "weight_decay": self.weight_decay}

    def state_dict(self) -> dict[str, Any]:
        """A copy of everything needed to resume: hyperparameters, step count, buffers (as
        NumPy arrays, wherever the parameters are)."""
        return {
            "name": type(self).__name__,
            "config": self.get_config(),
            "steps": self.steps,
            "state": {index: {name: np.array(to_numpy(array)) for name, array in slots.items()}
                      for index, slots in self.state.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned (of an optimizer of the same class)."""
        if state.get("name") != type(self).__name__:
            raise ValueError(f"state must come from a {type(self).__name__}; got the state of "
                             f"a {state.get('name')!r}. Load it into that optimizer class instead.")
        for key, value in state["config"].items():
            setattr(self, key, value)
        self.steps = int(state["steps"])
        self.state = {int(index): {name: np.array(array) for name, array in slots.items()}
                      for index, slots in state["state"].items()}

    def __repr__(self) -> str:
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov momentum and L2 decay.

    For each parameter theta with gradient g::

        g <- g + lambda theta                     weight decay (L2), if weight_decay > 0
        v <- mu v + g                             velocity, if momentum mu > 0
        g <- g + mu v   (Nesterov)   or   g <- v
        theta <- theta - eta g
    """

    slots = ("velocity",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.momentum = check_float(momentum, "momentum", 0.0, 1.0, low_inclusive=True,
                                    high_inclusive=False, fix="0.9 is the usual choice.")
        if nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True needs momentum > 0; got momentum=0. "
                             "Pass momentum=0.9, say, or drop nesterov.")
        self.nesterov = bool(nesterov)

    def update(self, index, param, grad) -> None:
        if self.weight_decay:
            grad = grad + self.weight_decay * param  # g <- g + lambda theta
        if self.momentum:
            velocity = self.buffer(index, "velocity", param)
            velocity[...] = self.momentum * velocity + grad  # v <- mu v + g
            grad = grad + self.momentum * velocity if self.nesterov else velocity
        param -= self.lr * grad  # theta <- theta - eta g

    def updates_sparse_rows(self) -> bool:
        return not self.momentum and not self.weight_decay  # theta - eta 0 = theta

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSProp(Optimizer):
    """RMSProp: divide each step by a running root-mean-square of recent gradients.

    For each parameter theta with gradient g::

        g <- g + lambda theta                     weight decay (L2), if weight_decay > 0
        s <- rho s + (1 - rho) g^2                mean square
        theta <- theta - eta g / (sqrt(s) + eps)
    """

    slots = ("mean_square",)

    def __init__(self, lr: float = 0.001, rho: float = 0.9, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.rho = check_float(rho, "rho", 0.0, 1.0, high_inclusive=False, fix="0.9 is usual.")
        self.eps = check_float(eps, "eps", fix="1e-8 is usual.")

    def update(self, index, param, grad) -> None:
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        mean_square = self.buffer(index, "mean_square", param)
        mean_square[...] = self.rho * mean_square + (1.0 - self.rho) * grad**2
        param -= self.lr * grad / (namespace(param).sqrt(mean_square) + self.eps)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "eps": self.eps}


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015): momentum and RMSProp, with bias correction.

    For each parameter theta with gradient g, at step t = 1, 2, ...::

        g <- g + lambda theta                     weight decay (L2), if weight_decay > 0
        m <- beta1 m + (1 - beta1) g              first moment
        v <- beta2 v + (1 - beta2) g^2            second moment
        m_hat = m / (1 - beta1^t);  v_hat = v / (1 - beta2^t)
        theta <- theta - eta m_hat / (sqrt(v_hat) + eps)
    """

    slots = ("first_moment", "second_moment")

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.beta1 = check_float(beta1, "beta1", 0.0, 1.0, low_inclusive=True,
                                 high_inclusive=False, fix="0.9 is usual.")
        self.beta2 = check_float(beta2, "beta2", 0.0, 1.0, low_inclusive=True,
                                 high_inclusive=False, fix="0.999 is usual.")
        self.eps = check_float(eps, "eps", fix="1e-8 is usual.")

    def update(self, index, param, grad) -> None:
        self.adam_step(index, param, self.decay(param, grad))

    def decay(self, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """The weight decay: g <- g + lambda theta (L2, in the gradient)."""
        return grad + self.weight_decay * param if self.weight_decay else grad

    def adam_step(self, index: int, param: np.ndarray, grad: np.ndarray) -> None:
        """The moment updates and the bias-corrected step (shared with AdamW)."""
        m = self.buffer(index, "first_moment", param)
        v = self.buffer(index, "second_moment", param)
        t, xp = self.steps, namespace(param)
        m[...] = self.beta1 * m + (1 - self.beta1) * grad  # m <- beta1 m + (1 - beta1) g
        v[...] = self.beta2 * v + (1 - self.beta2) * grad**2  # v <- beta2 v + (1 - beta2) g^2
        m_hat = m / (1 - self.beta1**t)  # m_hat = m / (1 - beta1^t)
        v_hat = v / (1 - self.beta2**t)  # v_hat = v / (1 - beta2^t)
        param -= self.lr * m_hat / (xp.sqrt(v_hat) + self.eps)  # theta -= eta m_hat / (...)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019).

    The decay shrinks the weights directly instead of entering the gradient::

        theta <- theta - eta lambda theta
        then the Adam step with the raw gradient g
    """

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, weight_decay: float = 0.01):
        super().__init__(lr, beta1, beta2, eps, weight_decay)

    def decay(self, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """The decoupled decay: theta <- theta - eta lambda theta; the gradient is unchanged."""
        if self.weight_decay:
            param -= self.lr * self.weight_decay * param
        return grad


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": SGD,
    "rmsprop": RMSProp,
    "adam": Adam,
    "adamw": AdamW,
}


def get_optimizer(optimizer: str | Optimizer, lr: float | None = None) -> Optimizer:
    """An optimizer from its name ("sgd", "momentum", "rmsprop", "adam", "adamw") or itself.

    "momentum" is SGD with momentum 0.9. ``lr`` overrides the default learning rate; given
    with an optimizer object it must agree with the object's own (it is not silently dropped).
    """
    if isinstance(optimizer, Optimizer):
        if lr is not None and lr != optimizer.lr:
            raise ValueError(f"lr={lr!r} was given with the optimizer {optimizer!r}, which has "
                             f"lr={optimizer.lr!r}. Set the learning rate in the optimizer "
                             f"itself, e.g. {type(optimizer).__name__}(lr={lr!r}).")
        return optimizer
    name = check_choice(optimizer, "optimizer", tuple(OPTIMIZERS))
    arguments: dict[str, Any] = {} if lr is None else {"lr": lr}
    if name == "momentum":
        arguments["momentum"] = 0.9
    return OPTIMIZERS[name](**arguments)


# ----------------------------------------------------------------------------------------------
# Learning-rate schedules: schedule(epoch, initial_lr) -> lr, with epoch counted from 0


class StepDecay:
    """lr = initial_lr * gamma ** floor(epoch / step_size): drop by ``gamma`` every few epochs."""

    def __init__(self, step_size: int, gamma: float = 0.1):
        self.step_size = check_int(step_size, "step_size")
        self.gamma = check_float(gamma, "gamma", 0.0, 1.0)

    def __call__(self, epoch: int, initial_lr: float) -> float:
        return initial_lr * self.gamma ** (epoch // self.step_size)


class ExponentialDecay:
    """lr = initial_lr * gamma ** epoch."""

    def __init__(self, gamma: float):
        self.gamma = check_float(gamma, "gamma", 0.0, 1.0)

    def __call__(self, epoch: int, initial_lr: float) -> float:
        return initial_lr * self.gamma**epoch


class CosineDecay:
    """lr = min_lr + (initial_lr - min_lr) * (1 + cos(pi * epoch / total_epochs)) / 2.

    Falls from initial_lr at epoch 0 to min_lr at ``total_epochs`` and stays there.
    """

    def __init__(self, total_epochs: int, min_lr: float = 0.0):
        self.total_epochs = check_int(total_epochs, "total_epochs")
        self.min_lr = check_float(min_lr, "min_lr", low_inclusive=True)

    def __call__(self, epoch: int, initial_lr: float) -> float:
        progress = min(epoch, self.total_epochs) / self.total_epochs
        return self.min_lr + (initial_lr - self.min_lr) * (1.0 + math.cos(math.pi * progress)) / 2
