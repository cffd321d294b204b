"""The playground's model: toy 2-D data, nnscratch's own network trained on it, and what the
page draws — the decision boundary, every hidden neuron's activation, the weights, the curves,
and one neuron's equations with the numbers of the current step.

Everything here is plain nnscratch: ``Sequential`` with ``Dense`` layers and the activation
named for each layer, trained by ``fit``, so what the page shows is what the library computes.
All randomness comes from ``numpy.random.default_rng(seed)``: the same settings give the same
points, the same starting weights and the same training, bit for bit.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..activations import ACTIVATIONS
from ..layers import Dense, Dropout, Layer
from ..network import Sequential
from ..optim import SGD, Adam, Optimizer

DATA_SETS = ("xor", "circles", "spirals", "gaussians", "moons", "plane")
FEATURES = {  # name -> the feature from the point (x, y), both in [-6, 6]
    "x": lambda x, y: x / 6, "y": lambda x, y: y / 6,
    "x2": lambda x, y: (x / 6) ** 2, "y2": lambda x, y: (y / 6) ** 2,
    "xy": lambda x, y: (x / 6) * (y / 6),
    "sinx": lambda x, y: np.sin(x), "siny": lambda x, y: np.sin(y),
}
FEATURE_LABELS = {"x": "x", "y": "y", "x2": "x²", "y2": "y²", "xy": "xy", "sinx": "sin x",
                  "siny": "sin y"}
ACTIVATION_NAMES = ("tanh", "sigmoid", "relu", "leaky_relu")
OPTIMIZERS = ("sgd", "momentum", "adam")
LOSSES = ("cross_entropy", "mse")
CLASS_COUNT_SETS = ("gaussians", "spirals")  # the sets drawn with a chosen number of classes
# what the page's menus offer
LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)
PENALTIES = (0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1)
DROPOUTS = (0, 0.1, 0.2, 0.3, 0.5)
EXTENT = 6.0  # the plane shown: [-6, 6] x [-6, 6]
MIN_POINTS, MAX_POINTS = 10, 2000
MIN_CLASSES, MAX_CLASSES = 2, 5
NOISE, TEST_RATIO = (0.0, 1.0), (0.0, 0.9)  # the ranges of the two sliders
MAX_LAYERS, MAX_UNITS = 6, 8
NEW_LAYER = {"units": 2, "activation": "tanh"}  # what "+ layer" adds


class SettingsError(ValueError):
    """A setting out of range; the message names it and the range."""


@dataclass
class Settings:
    """Everything that defines a run of the playground (and its URL)."""

    data: str = "circles"
    noise: float = 0.1  # of the point cloud's scale
    n_points: int = 300
    test_ratio: float = 0.3
    classes: int = 2
    seed: int = 0
    layers: list[int] = field(default_factory=lambda: [4, 2])
    activations: list[str] = field(default_factory=lambda: ["tanh", "tanh"])
    loss: str = "cross_entropy"  # or "mse" (squared error on one-hot targets, as the Playground)
    optimizer: str = "sgd"
    lr: float = 0.03
    batch_size: int = 10  # 1 (per sample), n, or 0 for the full batch
    l2: float = 0.0
    dropout: float = 0.0
    features: list[str] = field(default_factory=lambda: ["x", "y"])

    @classmethod
    def from_dict(cls, record: Any) -> Settings:
        """Settings from untrusted JSON, every field checked; absent fields keep defaults."""
        if not isinstance(record, dict):
            raise SettingsError("settings must be a JSON object")
        unknown = set(record) - set(cls.__dataclass_fields__)
        if unknown:
            raise SettingsError(f"unknown settings: {sorted(unknown)}")
        settings = cls(**record)
        settings.check()
        return settings

    def check(self) -> None:
        """Every field within its limits (the data, the network, the training); the plane's
        loss is squared error whatever was asked."""
        _choice("data", self.data, DATA_SETS)
        _number("noise", self.noise, *NOISE)
        _integer("n_points", self.n_points, MIN_POINTS, MAX_POINTS)
        _number("test_ratio", self.test_ratio, *TEST_RATIO)
        _integer("classes", self.classes, MIN_CLASSES, MAX_CLASSES)
        _integer("seed", self.seed, 0, 2**31 - 1)
        self._check_network()
        _choice("loss", self.loss, LOSSES)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _number("lr", self.lr, 1e-5, 10.0)
        _integer("batch_size", self.batch_size, 0, MAX_POINTS)
        _number("l2", self.l2, 0.0, 1.0)
        _number("dropout", self.dropout, 0.0, 0.9)
        if self.data == "plane" and self.loss != "mse":
            self.loss = "mse"  # the regression plane has one real target: squared error

    def _check_network(self) -> None:
        """The hidden layers, their activations and the input features."""
        if not isinstance(self.layers, list) or len(self.layers) > MAX_LAYERS:
            raise SettingsError(f"layers must be a list of at most {MAX_LAYERS} sizes")
        for size in self.layers:
            _integer("layer size", size, 1, MAX_UNITS)
        if not isinstance(self.activations, list) or len(self.activations) != len(self.layers):
            raise SettingsError("activations must name one activation per hidden layer")
        for name in self.activations:
            _choice("activation", name, ACTIVATION_NAMES)
        if not isinstance(self.features, list) or not self.features or \
                len(set(self.features)) != len(self.features):
            raise SettingsError(f"features must be a non-empty list of distinct names from "
                                f"{list(FEATURES)}")
        for name in self.features:
            _choice("feature", name, tuple(FEATURES))

    @property
    def regression(self) -> bool:
        return self.data == "plane"

    @property
    def n_classes(self) -> int:
        return self.classes if self.data in CLASS_COUNT_SETS else 2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _number(name: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or not low <= value <= high:
        raise SettingsError(f"{name} must be a number in [{low:g}, {high:g}]; got {value!r}")


def _integer(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(f"{name} must be a whole number in [{low}, {high}]; got {value!r}")


# ----------------------------------------------------------------------------------------------
# Data: points in [-6, 6]^2 with labels (or a real target for the plane)


def make_points(settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """(points (n, 2), labels (n,)) of the chosen toy set, drawn from the seed."""
    rng = np.random.default_rng(settings.seed)
    n, k = settings.n_points, settings.n_classes
    noise = settings.noise
    if settings.data == "xor":
        points = rng.uniform(-5, 5, (n, 2))
        points += np.sign(points) * 0.3  # a margin around the axes, as the Playground
        labels = (points[:, 0] * points[:, 1] > 0).astype(np.int64)
    elif settings.data == "circles":
        labels = rng.integers(0, 2, n)
        radius = np.where(labels == 0, rng.uniform(0, 2.5, n), rng.uniform(3.5, 5, n))
        angle = rng.uniform(0, 2 * np.pi, n)
        points = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    elif settings.data == "spirals":
        labels = rng.integers(0, k, n)
        t = rng.uniform(0.2, 1, n)
        angle = 1.75 * t * 2 * np.pi + labels * 2 * np.pi / k
        points = 5 * t[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    elif settings.data == "gaussians":
        labels = rng.integers(0, k, n)
        centre_angle = 2 * np.pi * labels / k + np.pi / 4
        points = 3 * np.column_stack([np.cos(centre_angle), np.sin(centre_angle)]) + \
            rng.normal(0, 1.0, (n, 2))
    elif settings.data == "moons":
        labels = rng.integers(0, 2, n)
        angle = rng.uniform(0, np.pi, n)
        points = np.where(labels[:, None] == 0,
                          np.column_stack([np.cos(angle), np.sin(angle)]),
                          np.column_stack([1 - np.cos(angle), 0.5 - np.sin(angle)]))
        points = 3 * (points - [0.5, 0.25])
    else:  # plane: a real target that rises across the plane
        points = rng.uniform(-5, 5, (n, 2))
        labels = ((points[:, 0] + points[:, 1]) / 10).astype(np.float64)
    points = points + rng.normal(0, noise * 2.0, (n, 2))
    return np.clip(points, -EXTENT, EXTENT), labels


def features_of(points: np.ndarray, names: list[str]) -> np.ndarray:
    """The network's input columns, one per chosen feature of each point."""
    x, y = points[:, 0], points[:, 1]
    return np.column_stack([FEATURES[name](x, y) for name in names]).astype(np.float64)


def grid_points(size: int) -> np.ndarray:
    """size x size points covering the plane, row by row from the top (y = +6) down."""
    axis = np.linspace(-EXTENT, EXTENT, size)
    xs, ys = np.meshgrid(axis, axis[::-1])
    return np.column_stack([xs.ravel(), ys.ravel()])


def page_config(feature_grid: int = 40) -> dict[str, Any]:
    """What the page needs before its first session: the default settings, every choice its
    menus offer and every limit, and each feature drawn over the plane, so that the page holds
    no default, formula or limit of its own (it reads these from GET /api/config)."""
    grid = grid_points(feature_grid)
    maps = {name: _bytes((np.clip(FEATURES[name](grid[:, 0], grid[:, 1]), -1, 1) + 1) / 2)
            for name in FEATURES}
    return {
        "defaults": Settings().to_dict(), "data_sets": list(DATA_SETS),
        "class_count_sets": list(CLASS_COUNT_SETS), "classes": [MIN_CLASSES, MAX_CLASSES],
        "points": [MIN_POINTS, MAX_POINTS], "noise": list(NOISE),
        "test_ratio": list(TEST_RATIO), "extent": EXTENT,
        "features": [{"name": name, "label": FEATURE_LABELS[name], "map": maps[name]}
                     for name in FEATURES],
        "feature_grid": feature_grid, "activations": list(ACTIVATION_NAMES),
        "optimizers": list(OPTIMIZERS), "losses": list(LOSSES),
        "learning_rates": list(LEARNING_RATES), "penalties": list(PENALTIES),
        "dropouts": list(DROPOUTS), "max_layers": MAX_LAYERS, "max_units": MAX_UNITS,
        "new_layer": NEW_LAYER,
    }


# ----------------------------------------------------------------------------------------------
# A session: the settings, the points, the network, its history


class Playground:
    """One page's run: create with settings (and optionally points), then ``step`` and
    ``snapshot``; ``explain(layer, unit)`` gives one neuron's equations with numbers."""

    def __init__(self, settings: Settings, points: np.ndarray | None = None,
                 labels: np.ndarray | None = None):
        settings.check()
        self.settings = settings
        self.own_points = points is not None and labels is not None
        if points is None or labels is None:
            points, labels = make_points(settings)
        self.points, self.labels = points, labels
        rng = np.random.default_rng(settings.seed + 1)
        order = rng.permutation(len(points))
        n_test = int(round(len(points) * settings.test_ratio))
        self.test_rows, self.train_rows = order[:n_test], order[n_test:]
        self.network = self._build()
        self.optimizer = self._optimizer()
        self.epoch = 0
        self.history: dict[str, list[float]] = {"loss": [], "test_loss": []}

    def _build(self) -> Sequential:
        settings = self.settings
        sizes = [len(settings.features), *settings.layers,
                 1 if settings.regression else settings.n_classes]
        layers: list[Layer] = []
        for index, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:], strict=False)):
            layers.append(Dense(fan_in, fan_out, init="glorot_uniform"))
            if index < len(settings.layers):
                layers.append(ACTIVATIONS[settings.activations[index]]())
                if settings.dropout:
                    layers.append(Dropout(settings.dropout))
        loss = "mse" if settings.loss == "mse" else "cross_entropy"
        return Sequential(layers, seed=settings.seed, dtype="float64", loss=loss)

    def _optimizer(self) -> Optimizer:
        settings = self.settings
        if settings.optimizer == "adam":
            return Adam(lr=settings.lr, weight_decay=settings.l2)
        return SGD(lr=settings.lr, momentum=0.9 if settings.optimizer == "momentum" else 0.0,
                   weight_decay=settings.l2)

    # -- data as the network sees it

    def inputs(self, rows: np.ndarray | None = None) -> np.ndarray:
        points = self.points if rows is None else self.points[rows]
        return features_of(points, self.settings.features)

    def targets(self, rows: np.ndarray) -> np.ndarray:
        labels = self.labels[rows]
        if self.settings.regression:
            return labels.reshape(-1, 1).astype(np.float64)
        if self.settings.loss == "mse":  # squared error on one-hot targets
            return np.eye(self.settings.n_classes)[labels.astype(np.int64)]
        return labels.astype(np.int64)

    # -- training

    def step(self, epochs: int = 1) -> None:
        """Train ``epochs`` more epochs on the training points."""
        if len(self.train_rows) == 0:
            return
        batch = self.settings.batch_size or None
        test = (self.inputs(self.test_rows), self.targets(self.test_rows)) \
            if len(self.test_rows) else None
        history = self.network.fit(
            self.inputs(self.train_rows), self.targets(self.train_rows),
            optimizer=self.optimizer, epochs=self.epoch + epochs, initial_epoch=self.epoch,
            batch_size=batch, validation_data=test, seed=self.settings.seed, verbose=0)
        self.epoch += epochs
        self.history["loss"] += [float(value) for value in history.history["loss"]]
        self.history["test_loss"] += [float(value) for value in
                                      history.history.get("val_loss", [math.nan] * epochs)]

    def loss_on(self, rows: np.ndarray) -> float:
        outputs = self.network.forward(self.inputs(rows))
        assert self.network.loss is not None
        return float(self.network.loss.forward(outputs, self.targets(rows)))

    # -- what the page draws

    def snapshot(self, grid: int = 100, neuron_grid: int = 40) -> dict[str, Any]:
        """The state for one frame: curves, the boundary, the neurons, the weights."""
        boundary = self._outputs_on_grid(grid)
        return {
            "epoch": self.epoch,
            "loss": self._latest("loss", self.train_rows),
            "test_loss": self._latest("test_loss", self.test_rows),
            "history": self.history,
            "grid": grid, "boundary": boundary,
            "neuron_grid": neuron_grid, "neurons": self.neuron_maps(neuron_grid),
            "weights": [{"W": layer.params["W"].tolist(), "b": layer.params["b"].tolist()}
                        for layer in self.network.layers if isinstance(layer, Dense)],
        }

    def _latest(self, name: str, rows: np.ndarray) -> float | None:
        """The last epoch's value of a loss; before any epoch, the loss on ``rows`` now."""
        if self.history[name]:
            return self.history[name][-1]
        return self.loss_on(rows) if len(rows) else None

    def _outputs_on_grid(self, size: int) -> dict[str, Any]:
        """Per grid cell: for classes, the predicted class and its probability (0..255);
        for the plane, the predicted value mapped from [-1, 1] to 0..255."""
        outputs = self.network.predict_outputs(features_of(grid_points(size),
                                                           self.settings.features))
        if self.settings.regression:
            level = np.clip((outputs[:, 0] + 1) / 2, 0, 1)
            return {"kind": "value", "value": _bytes(level)}
        if self.settings.loss == "mse":
            scores = np.clip(outputs, 0, None) + 1e-9
            probabilities = scores / scores.sum(axis=1, keepdims=True)
        else:
            shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
            probabilities = shifted / shifted.sum(axis=1, keepdims=True)
        return {"kind": "classes", "class": probabilities.argmax(axis=1).astype(np.uint8).tolist(),
                "confidence": _bytes((probabilities.max(axis=1) - 1 / probabilities.shape[1])
                                     / (1 - 1 / probabilities.shape[1]))}

    def neuron_maps(self, size: int) -> list[list[list[int]]]:
        """Every hidden neuron's activation over the plane, layer by layer, each map scaled
        from the activation's range to 0..255 (tanh, leaky ReLU: [-1, 1]; sigmoid: [0, 1];
        ReLU: [0, its largest value])."""
        x = features_of(grid_points(size), self.settings.features)
        maps: list[list[list[int]]] = []
        for layer in self.network.layers:
            x = layer.forward(x, training=False)
            if isinstance(layer, (Dense, Dropout)):
                continue
            name = type(layer).__name__
            if name == "Sigmoid":
                scaled = x
            elif name == "ReLU":
                scaled = x / max(float(x.max()), 1e-9)
            else:
                scaled = (np.clip(x, -1, 1) + 1) / 2
            maps.append([_bytes(scaled[:, unit]) for unit in range(x.shape[1])])
        return maps

    def explain(self, layer: int, unit: int, sample: int = 0) -> dict[str, Any]:
        """Neuron ``unit`` of Dense layer ``layer`` (0 = the first), for training point
        ``sample``: the forward equation z = sum_i W[i, unit] a_i + b, a = phi(z), and the
        backward equation of one SGD step on that point alone: dL/dz, dL/dW[i, unit] =
        a_i dL/dz, dL/db = dL/dz, and the updated weights W - lr dL/dW (what plain SGD would
        do; Adam and momentum scale the step by their own state)."""
        position = self._dense_position(layer, unit)
        target_layer = self.network.layers[position]
        assert isinstance(target_layer, Dense)
        if len(self.train_rows) == 0:
            raise SettingsError("there are no training points")
        row = self.train_rows[sample % len(self.train_rows)]
        a_in, loss_value, grad_z = self._one_point(row, position)
        weights = target_layer.params["W"][:, unit]
        bias = float(target_layer.params["b"][unit])
        z = float(a_in @ weights + bias)
        activation = (self.settings.activations[layer] if layer < len(self.settings.layers)
                      else ("identity" if self.settings.loss == "mse" else "softmax"))
        after = self.network.layers[position + 1] if layer < len(self.settings.layers) else None
        a_out = float(after.forward(np.array([[z]]), training=False)[0, 0]) \
            if after is not None else None
        grad_weights = a_in * float(grad_z[0, unit])
        lr = self.settings.lr
        return {"layer": layer, "unit": unit, "point": self.points[row].tolist(),
                "label": float(self.labels[row]), "inputs": a_in.tolist(),
                "weights": weights.tolist(), "bias": bias, "z": z, "activation": activation,
                "a": a_out, "loss": loss_value, "grad_z": float(grad_z[0, unit]),
                "grad_weights": grad_weights.tolist(), "grad_bias": float(grad_z[0, unit]),
                "lr": lr, "new_weights": (weights - lr * grad_weights).tolist(),
                "new_bias": bias - lr * float(grad_z[0, unit])}

    def _dense_position(self, layer: int, unit: int) -> int:
        """Where Dense layer ``layer`` sits in the network, checked, with its unit ``unit``."""
        dense = [index for index, item in enumerate(self.network.layers)
                 if isinstance(item, Dense)]
        if not 0 <= layer < len(dense):
            raise SettingsError(f"layer must be in [0, {len(dense) - 1}]; got {layer}")
        out_features = self.network.layers[dense[layer]].params["W"].shape[1]
        if not 0 <= unit < out_features:
            raise SettingsError(f"unit must be in [0, {out_features - 1}]; got {unit}")
        return dense[layer]

    def _one_point(self, row: int, position: int) -> tuple[np.ndarray, float, np.ndarray]:
        """Forward and backward through the network for one training point: the input of the
        layer at ``position``, the loss, and dL/dz at that layer's output."""
        x = self.inputs(np.array([row]))
        inputs_to_layer = x
        for index, item in enumerate(self.network.layers):
            if index == position:
                inputs_to_layer = x
            x = item.forward(x, training=False)
        assert self.network.loss is not None
        loss_value = float(self.network.loss.forward(x, self.targets(np.array([row]))))
        grad = self.network.loss.backward()
        grad_z: np.ndarray | None = None
        for index in range(len(self.network.layers) - 1, -1, -1):
            if index == position:
                grad_z = grad
            passed_back = self.network.layers[index].backward(grad)
            assert passed_back is not None  # every layer returns dL/d(its input) by default
            grad = passed_back
        assert grad_z is not None
        return inputs_to_layer[0], loss_value, grad_z


def _bytes(values: np.ndarray) -> list[int]:
    """Values in [0, 1] as whole numbers 0..255, for the page to draw."""
    return np.round(np.clip(np.nan_to_num(values), 0, 1) * 255).astype(np.uint8).tolist()


# ----------------------------------------------------------------------------------------------
# The same in code: what the page's code panel shows


def python_code(playground: Playground, epochs: int = 100) -> str:
    """A Python script that builds this network with nnscratch and trains it on the same points
    as the play button does: it runs as it stands, uses everything it builds, and after
    ``epochs`` epochs holds the weights the page shows at that epoch."""
    settings = playground.settings
    layers, optimizer = _layer_code(settings), _optimizer_code(settings)
    fields = textwrap.fill(", ".join(f"{name}={value!r}"
                                     for name, value in settings.to_dict().items()),
                           width=88, initial_indent="    ", subsequent_indent="    ")
    loss = "mse" if settings.loss == "mse" else "cross_entropy"
    test = len(playground.test_rows) > 0
    own = [] if not playground.own_points else [
        f"points = np.array({playground.points.tolist()!r})  # the page's own points",
        f"labels = np.array({playground.labels.tolist()!r})"]
    return "\n".join([
        "import nnscratch as ns",
        *(["import numpy as np"] if own else []),
        "from nnscratch.play.engine import Playground, Settings",
        "",
        "# the same points and the same split as the page",
        *own,
        f"playground = Playground(Settings(\n{fields}){', points, labels' if own else ''})",
        "X_train = playground.inputs(playground.train_rows)  # the features "
        + ", ".join(settings.features),
        "y_train = playground.targets(playground.train_rows)",
        *(["X_test = playground.inputs(playground.test_rows)",
           "y_test = playground.targets(playground.test_rows)"] if test else []),
        "",
        "# the network, built from the same seed: the same starting weights",
        "net = ns.Sequential([",
        *(f"    {layer}," for layer in layers),
        f"], seed={settings.seed}, dtype=\"float64\", loss=\"{loss}\")",
        f"history = net.fit(X_train, y_train, optimizer={optimizer},",
        f"                  epochs={epochs}, batch_size={settings.batch_size or None},"
        + (" validation_data=(X_test, y_test)," if test else ""),
        f"                  seed={settings.seed}, verbose=0)",
        "print(\"training loss\", history.history[\"loss\"][-1]"
        + (", \"test loss\", history.history[\"val_loss\"][-1])" if test else ")"),
    ])


def _layer_code(settings: Settings) -> list[str]:
    """The network's layers as Python, as Playground builds them."""
    sizes = [len(settings.features), *settings.layers,
             1 if settings.regression else settings.n_classes]
    layers = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:], strict=False)):
        layers.append(f"ns.Dense({fan_in}, {fan_out}, init=\"glorot_uniform\")")
        if index < len(settings.layers):
            layers.append(f"ns.{ACTIVATIONS[settings.activations[index]].__name__}()")
            if settings.dropout:
                layers.append(f"ns.Dropout({settings.dropout!r})")
    return layers


def _optimizer_code(settings: Settings) -> str:
    """The optimizer as Python, as Playground makes it."""
    if settings.optimizer == "adam":
        return f"ns.Adam(lr={settings.lr!r}, weight_decay={settings.l2!r})"
    momentum = 0.9 if settings.optimizer == "momentum" else 0.0
    return f"ns.SGD(lr={settings.lr!r}, momentum={momentum!r}, weight_decay={settings.l2!r})"


def command_line(settings: Settings) -> str:
    """The `nnscratch train` command for the points the page exports (playground.csv), with
    the same architecture and settings, and what it cannot take from the page."""
    activation = settings.activations[0] if settings.activations else "relu"
    batch = "full" if settings.batch_size == 0 else str(settings.batch_size)
    line = (f"nnscratch train --data playground.csv --layers "
            f"{' '.join(map(str, settings.layers)) or '(none)'} --activation {activation} "
            f"--optimizer {settings.optimizer} --lr {settings.lr:g} --batch-size {batch} "
            f"--dropout {settings.dropout:g} --test-split {settings.test_ratio:g} "
            f"--seed {settings.seed} --scale none")
    notes = []
    if any(name != activation for name in settings.activations):
        notes.append("# the command line takes one activation for every hidden layer")
    notes.append("# playground.csv (the link below): each point's features and label. The same\n"
                 "# architecture and settings; the command line draws its own split and "
                 "starting weights.")
    return "\n".join([line, *notes])
