"""Your own data: reading .csv/.npz/.npy tables, every error named, the split, the scaling; and
the CLI training, evaluating and predicting on them."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nnscratch import tabular
from nnscratch.cli import main
from nnscratch.datasets import DataError
from nnscratch.input_stats import InputStats
from nnscratch.network import load

CLASSES = np.array(["circle", "square", "triangle"])


def blobs(n_per_class: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well separated classes in 3 features, with string labels."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 10.0], [6.0, 0.0, 20.0], [0.0, 6.0, 30.0]])
    X = np.concatenate([centre + rng.standard_normal((n_per_class, 3)) for centre in centres])
    return X, np.repeat(CLASSES, n_per_class)


def write_csv(path: Path, rows: list[list[object]], header: list[str] | None = None,
              delimiter: str = ",") -> Path:
    lines = [] if header is None else [delimiter.join(header)]
    lines += [delimiter.join(str(cell) for cell in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def shapes_csv(tmp_path) -> Path:
    X, y = blobs()
    return write_csv(tmp_path / "shapes.csv", np.column_stack([X, y]).tolist(),
                     ["width", "height", "depth", "shape"], delimiter=";")


# -- reading ---------------------------------------------------------------------------------

def test_csv_with_header_sniffed_delimiter_and_string_labels(shapes_csv):
    table = tabular.read_table(shapes_csv)
    X, y = blobs()
    np.testing.assert_allclose(table.X, X)
    assert table.y.tolist() == y.tolist()
    assert table.feature_names == ["width", "height", "depth"] and table.target_name == "shape"


@pytest.mark.parametrize("target, expected_column", [("height", 1), ("1", 1), (0, 0),
                                                     ("-1", 3), (None, 3)])
def test_the_target_by_name_index_or_last(tmp_path, target, expected_column):
    names = ["width", "height", "depth", "shape"]
    rows = [[1, 2, 3, 0], [4, 5, 6, 1]]
    path = write_csv(tmp_path / "numbers.csv", rows, names)
    table = tabular.read_table(path, target=target)
    assert table.target_name == names[expected_column]
    assert table.feature_names == [name for name in names if name != names[expected_column]]
    assert table.y.tolist() == [row[expected_column] for row in rows]


def test_a_text_column_left_among_the_features_is_named(shapes_csv):
    with pytest.raises(DataError, match=r"line 2, column 'shape': 'circle' is not a number"):
        tabular.read_table(shapes_csv, target="height")


def test_csv_without_header_names_columns_by_index(tmp_path):
    path = write_csv(tmp_path / "plain.csv", [[1, 2, 0], [3, 4, 1], [5, 6, 0]])
    table = tabular.read_table(path, target=0)
    assert table.feature_names == ["column 1", "column 2"] and table.y.tolist() == [1, 3, 5]


@pytest.mark.parametrize("content, message", [
    ("a,b,y\n1,2,x\n3,oops,y\n", r"line 3, column 'b': 'oops' is not a number"),
    ("a,b,y\n1,2,x\n3,,y\n", r"line 3, column 'b': missing value"),
    ("a,b,y\n1,2,x\n3,NA,y\n", r"line 3, column 'b': missing value"),
    ("a,b,y\n1,2,x\n3,4\n", r"line 3: 2 cells where the header has 3"),
    ("a,b,y\n1,2,x\n3,4,\n", r"line 3: the target \(y\) is missing"),
    ("a,b,y\n1,inf,x\n", r"line 2, column 'b': 'inf' is not finite"),
    ("y\n1\n2\n", "has one column"),
    ("\n\n", "holds no rows"),
    ("a,b,y\n", "has a header and no data rows"),
])
def test_bad_csv_cells_are_named_by_file_line_and_column(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message) as caught:
        tabular.read_table(path)
    assert str(path) in str(caught.value)


def test_a_target_that_does_not_exist(shapes_csv):
    with pytest.raises(DataError, match=r"no target column 'shap' .*Did you mean 'shape'\?"):
        tabular.read_table(shapes_csv, target="shap")
    with pytest.raises(DataError, match=r"target column 7 does not exist; the file has 4"):
        tabular.read_table(shapes_csv, target=7)


def test_files_that_are_not_tables(tmp_path):
    (tmp_path / "latin1.csv").write_bytes("a,b\n\xe9,1\n".encode("latin-1"))
    with pytest.raises(DataError, match="is not UTF-8 text"):
        tabular.read_table(tmp_path / "latin1.csv")
    with pytest.raises(DataError, match="expected a .csv, .npz or .npy file"):
        tabular.read_table(tmp_path / "data.xlsx")
    with pytest.raises(FileNotFoundError, match="No data file"):
        tabular.read_table(tmp_path / "absent.csv")
    big = write_csv(tmp_path / "big.csv", [[1, 2, 3]] * 100)
    with pytest.raises(DataError, match="above the limit of 100 bytes"):
        tabular.read_table(big, max_bytes=100)


def test_npz_with_default_and_named_arrays(tmp_path):
    X, y = blobs()
    np.savez(tmp_path / "d.npz", X=X, y=y)
    np.savez(tmp_path / "named.npz", features=X, labels=y)
    table = tabular.read_table(tmp_path / "d.npz")
    np.testing.assert_array_equal(table.X, X)
    assert table.y.tolist() == y.tolist()
    named = tabular.read_table(tmp_path / "named.npz", x_key="features", y_key="labels")
    np.testing.assert_array_equal(named.X, X)
    with pytest.raises(DataError, match=r"has no array 'X' \(it has features, labels\)"):
        tabular.read_table(tmp_path / "named.npz")


def test_hostile_npz_files_are_refused_before_loading(tmp_path):
    np.savez(tmp_path / "objects.npz", X=np.array([[1, 2]], dtype=object), y=np.array([0]))
    with pytest.raises(DataError, match="not a readable .npz"):
        tabular.read_table(tmp_path / "objects.npz")
    np.savez_compressed(tmp_path / "bomb.npz", X=np.zeros((2000, 1000)), y=np.zeros(2000))
    assert (tmp_path / "bomb.npz").stat().st_size < 100_000
    with pytest.raises(DataError, match="X would take 16,000,000 bytes, above the limit"):
        tabular.read_table(tmp_path / "bomb.npz", max_bytes=1_000_000)
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match="not a readable .npz"):
        tabular.read_table(tmp_path / "junk.npz")
    with zipfile.ZipFile(tmp_path / "text.npz", "w") as archive:
        archive.writestr("X.npy", "hello")
        archive.writestr("y.npy", "hello")
    with pytest.raises(DataError, match="X is not a NumPy array"):
        tabular.read_table(tmp_path / "text.npz")


def test_npy_with_a_target_column_or_a_labels_file(tmp_path):
    X, y = blobs()
    codes = np.unique(y, return_inverse=True)[1]
    np.save(tmp_path / "all.npy", np.column_stack([X, codes]))
    table = tabular.read_table(tmp_path / "all.npy")
    np.testing.assert_array_equal(table.X, X)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    pair = tabular.read_table(tmp_path / "X.npy", target=str(tmp_path / "y.npy"))
    assert pair.y.tolist() == y.tolist()
    np.save(tmp_path / "short.npy", y[:5])
    with pytest.raises(DataError, match=r"one value per row \(120\); got shape \(5,\)"):
        tabular.read_table(tmp_path / "X.npy", target=str(tmp_path / "short.npy"))
    bad = X.copy()
    bad[7, 2] = np.nan
    np.save(tmp_path / "nan.npy", np.column_stack([bad, codes]))
    with pytest.raises(DataError, match="row 7, column 2: nan is not finite"):
        tabular.read_table(tmp_path / "nan.npy")


# -- preparing -------------------------------------------------------------------------------

def test_task_is_inferred_from_the_target():
    assert tabular.infer_task(np.array(["a", "b"])) == "classification"
    assert tabular.infer_task(np.array([0.0, 1.0, 2.0, 1.0])) == "classification"
    assert tabular.infer_task(np.array([0.5, 1.25, 3.0])) == "regression"
    assert tabular.infer_task(np.arange(500.0)) == "regression"  # too many whole numbers


def test_split_is_seeded_complete_and_keeps_class_shares():
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    train, test = tabular.split_rows(100, 0.2, seed=3, labels=labels)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(100))
    assert np.bincount(labels[test]).tolist() == [10, 6, 4]
    again = tabular.split_rows(100, 0.2, seed=3, labels=labels)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])
    other = tabular.split_rows(100, 0.2, seed=4, labels=labels)
    assert not np.array_equal(test, other[1])


@pytest.mark.parametrize("method", ["standard", "minmax", "none"])
def test_scaling_is_learned_on_the_training_rows_only(shapes_csv, method):
    table = tabular.read_table(shapes_csv)
    prepared = tabular.prepare(table, scale=method, test_split=0.25, seed=0)
    train, test = tabular.split_rows(len(table.y), 0.25, 0, tabular.encode_labels(table.y)[0])
    raw_train = table.X[train]
    if method == "standard":
        np.testing.assert_allclose(prepared.X_train.mean(axis=0), 0, atol=1e-12)
        np.testing.assert_allclose(prepared.X_train.std(axis=0), 1, rtol=1e-12)
        np.testing.assert_allclose(prepared.scaling.shift, raw_train.mean(axis=0))
    elif method == "minmax":
        np.testing.assert_allclose(prepared.X_train.min(axis=0), 0, atol=1e-12)
        np.testing.assert_allclose(prepared.X_train.max(axis=0), 1, rtol=1e-12)
    else:
        np.testing.assert_array_equal(prepared.X_train, raw_train)
    np.testing.assert_allclose(prepared.X_test, prepared.scaling.apply(table.X[test]))
    assert prepared.class_names == CLASSES.tolist()
    assert [CLASSES[index] for index in prepared.y_test] == table.y[test].tolist()


def test_a_constant_column_is_shifted_not_divided_by_zero():
    scaling = tabular.Scaling.fit(np.array([[1.0, 5.0], [3.0, 5.0]]), "standard")
    np.testing.assert_array_equal(scaling.apply(np.array([[2.0, 5.0]])), [[0.0, 0.0]])


def test_a_saved_scaling_is_checked_when_read():
    good = tabular.Scaling.fit(np.array([[1.0], [3.0]])).to_dict()
    assert tabular.Scaling.from_dict(good, 1).method == "standard"
    for record in ({**good, "scale": [0.0]}, {**good, "shift": [1.0, 2.0]},
                   {**good, "method": "log"}, {"method": "standard"}, "standard"):
        with pytest.raises(DataError, match="saved scaling"):
            tabular.Scaling.from_dict(record, 1)


def test_regression_targets_are_standardised_and_mapped_back(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 2))
    y = 1000 + 50 * X[:, 0]
    path = write_csv(tmp_path / "prices.csv", np.column_stack([X, y]).tolist(),
                     ["a", "b", "price"])
    prepared = tabular.prepare(tabular.read_table(path), test_split=0.2)
    assert prepared.task == "regression" and prepared.class_names is None
    assert abs(prepared.y_train.mean()) < 1e-9 and abs(prepared.y_train.std() - 1) < 1e-9
    np.testing.assert_allclose(prepared.unscale_targets(prepared.y_train),
                               y[tabular.split_rows(50, 0.2, 0)[0]])
    assert prepared.y_test.mean() > 900  # test targets stay in their own units


def test_prepare_refuses_what_cannot_be_learned(tmp_path):
    one_class = write_csv(tmp_path / "one.csv", [[1, 2, "cat"], [3, 4, "cat"]], ["a", "b", "y"])
    with pytest.raises(DataError, match="has only one class \\('cat'\\)"):
        tabular.prepare(tabular.read_table(one_class))
    words = write_csv(tmp_path / "w.csv", [[1, 2, "cat"], [3, 4, "dog"]], ["a", "b", "y"])
    with pytest.raises(DataError, match="regression needs a numeric target"):
        tabular.prepare(tabular.read_table(words), task="regression")
    with pytest.raises(DataError, match="too few to split"):
        tabular.prepare(tabular.read_table(words), test_split=0.9)


def test_feature_rows_are_found_by_name_in_any_order(tmp_path):
    path = write_csv(tmp_path / "new.csv", [["square", 3.0, 1.0, 2.0]],
                     ["shape", "depth", "width", "height"])
    X = tabular.read_feature_rows(path, ["width", "height", "depth"])
    np.testing.assert_array_equal(X, [[1.0, 2.0, 3.0]])
    plain = write_csv(tmp_path / "plain.csv", [[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(tabular.read_feature_rows(plain, ["w", "h", "d"]),
                                  [[1.0, 2.0, 3.0]])
    with pytest.raises(DataError, match="expected the model's 2 feature columns"):
        tabular.read_feature_rows(plain, ["w", "h"])


# -- the command line on your own data -------------------------------------------------------

def test_train_evaluate_predict_on_a_csv_with_string_labels(shapes_csv, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--data", str(shapes_csv), "--target", "shape", "--epochs", "40",
                 "--layers", "16", "--dropout", "0", "--verbose", "0", "--no-plots",
                 "--out", str(run)]) == 0
    trained = capsys.readouterr().out
    accuracy = float(trained.split("test accuracy: ")[1].split()[0])
    assert accuracy >= 0.9
    config = json.loads((run / "config.json").read_text())
    assert config["data"] == str(shapes_csv.resolve()) and config["task"] == "classification"
    net = load(run / "model.npz")
    assert net.metadata["class_names"] == CLASSES.tolist()
    assert net.metadata["feature_names"] == ["width", "height", "depth"]
    assert main(["evaluate", str(run)]) == 0
    evaluated = capsys.readouterr().out
    assert f"test accuracy: {accuracy:.4f}" in evaluated and "24 samples" in evaluated
    assert "triangle" in evaluated  # the report names the classes
    new = write_csv(tmp_path / "new.csv", [[6.0, 0.0, 20.0], [0.0, 6.0, 30.0]],
                    ["width", "height", "depth"])
    assert main(["predict", str(run), str(new)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"{new}[0]: square") and "triangle" in printed[1]


def test_train_a_regression_and_predict_in_the_targets_units(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 3))
    y = 500 + 40 * X[:, 0] - 20 * X[:, 1]
    path = write_csv(tmp_path / "house.csv", np.column_stack([X, y]).tolist(),
                     ["rooms", "age", "noise", "price"])
    run = tmp_path / "run"
    assert main(["train", "--data", str(path), "--epochs", "60", "--layers", "16",
                 "--dropout", "0", "--verbose", "0", "--no-plots", "--out", str(run)]) == 0
    out = capsys.readouterr().out
    assert float(out.split("test r2: ")[1].split()[0]) > 0.9
    row = write_csv(tmp_path / "one.csv", [[1.0, 0.0, 0.0]], ["rooms", "age", "noise"])
    assert main(["predict", str(run), str(row)]) == 0
    assert abs(float(capsys.readouterr().out.split(": ")[1]) - 540) < 15


def test_bad_data_and_vanished_data_are_one_line_errors(tmp_path, shapes_csv, capsys):
    broken = tmp_path / "broken.csv"
    broken.write_text("a,b,y\n1,2,x\n3,four,y\n")
    assert main(["train", "--data", str(broken), "--verbose", "0", "--out",
                 str(tmp_path / "r1")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "broken.csv, line 3, column 'b'" in err
    assert not (tmp_path / "r1").exists()
    assert main(["train", "--data", str(shapes_csv), "--target", "colour", "--verbose", "0",
                 "--out", str(tmp_path / "r2")]) == 1
    assert "no target column 'colour'" in capsys.readouterr().err
    moved = tmp_path / "moved.csv"
    moved.write_bytes(shapes_csv.read_bytes())
    assert main(["train", "--data", str(moved), "--epochs", "1", "--verbose", "0",
                 "--no-plots", "--out", str(tmp_path / "r3")]) == 0
    moved.unlink()
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "r3")]) == 2
    assert "which is not there any more. Pass --data FILE" in capsys.readouterr().err


def test_resume_reads_the_runs_own_file_with_its_options(shapes_csv, tmp_path, capsys):
    first, second = tmp_path / "first", tmp_path / "second"
    assert main(["train", "--data", str(shapes_csv), "--target", "shape", "--scale", "minmax",
                 "--test-split", "0.25", "--epochs", "3", "--verbose", "0", "--no-plots",
                 "--out", str(first)]) == 0
    assert main(["train", "--resume", str(first), "--epochs", "5", "--verbose", "0",
                 "--no-plots", "--out", str(second)]) == 0
    assert "trained 2 epochs (epochs 4-5)" in capsys.readouterr().out
    config = json.loads((second / "config.json").read_text())
    assert (config["data"], config["target"], config["scale"], config["test_split"]) == (
        str(shapes_csv.resolve()), "shape", "minmax", 0.25)
    assert load(second / "model.npz").metadata["class_names"] == CLASSES.tolist()


def test_input_distance_is_the_rms_z_score_with_a_floor():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(5, 2, 1000), rng.normal(-1, 0.5, 1000), np.zeros(1000)])
    stats = InputStats.fit(X)
    floor = 0.1 * X.std(axis=0).mean()
    np.testing.assert_allclose(stats.spread, [X[:, 0].std(), X[:, 1].std(), floor])
    row = np.array([[5 + 2 * 3.0, -1.0, 0.0]])  # three standard deviations in one feature
    z = (row[0] - X.mean(axis=0)) / np.array([X[:, 0].std(), X[:, 1].std(), floor])
    np.testing.assert_allclose(stats.distance(row), [np.sqrt(np.mean(z ** 2))], rtol=1e-12)
    assert np.mean(stats.distance(X) <= stats.typical) == pytest.approx(0.99, abs=0.002)
    saved = InputStats.from_dict(stats.to_dict(), 3)
    assert saved is not None and saved.typical == stats.typical
    assert InputStats.from_dict({"mean": [0.0]}, 3) is None
    assert InputStats.from_dict({**stats.to_dict(), "spread": [0, 1, 1]}, 3) is None


def test_own_data_options_with_a_built_in_data_set_are_refused(capsys):
    assert main(["train", "--target", "x", "--verbose", "0"]) == 2
    assert "--target applies to your own data (--data FILE), not to the built-in digits" in \
        capsys.readouterr().err
    assert main(["train", "--data", "xor", "--scale", "minmax", "--test-split", "0.5",
                 "--verbose", "0"]) == 2
    assert "--scale, --test-split apply to your own data" in capsys.readouterr().err


def test_quoted_cells_a_bom_and_windows_line_ends(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_bytes(b'\xef\xbb\xbf"name, with comma",b,label\r\n1,2,"x, y"\r\n3,4,z\r\n'
                     b'5,6,"x, y"\r\n')
    table = tabular.read_table(path)
    assert table.feature_names == ["name, with comma", "b"] and table.target_name == "label"
    assert table.y.tolist() == ["x, y", "z", "x, y"]
    np.testing.assert_array_equal(table.X, [[1, 2], [3, 4], [5, 6]])


# -- hostile files: any bytes give a table or a DataError, never another exception ------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

VALID_CSV = b"a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, len(VALID_CSV)), st.binary(max_size=4)),
                      max_size=6),
       target=st.sampled_from([None, "label", "b", "0", "-1", "9", "nope"]))
def test_promise_a_mangled_csv_is_read_or_refused_clearly(tmp_path, edits, target):
    data = bytearray(VALID_CSV)
    for position, inserted in edits:
        data[position:position + len(inserted)] = inserted
    path = tmp_path / "mangled.csv"
    path.write_bytes(bytes(data))
    try:
        table = tabular.read_table(path, target=target)
    except DataError as error:
        assert str(path) in str(error)
        return
    assert table.X.ndim == 2 and len(table.X) == len(table.y) > 0
    assert np.isfinite(table.X).all()
    try:
        prepared = tabular.prepare(table, test_split=0.25)
    except DataError:
        return
    assert np.isfinite(prepared.X_train).all()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 400), flips=st.lists(st.tuples(st.integers(0, 399),
                                                         st.integers(0, 255)), max_size=4))
def test_promise_a_damaged_npz_is_read_or_refused_clearly(tmp_path, cut, flips):
    source = tmp_path / "source.npz"
    np.savez(source, X=np.arange(12.0).reshape(6, 2), y=np.array([0, 1, 0, 1, 0, 1]))
    data = bytearray(source.read_bytes())
    for position, value in flips:
        data[position % len(data)] = value
    path = tmp_path / "damaged.npz"
    path.write_bytes(bytes(data[: len(data) - cut]))
    try:
        table = tabular.read_table(path)
    except DataError as error:
        assert str(path) in str(error)
        return
    assert table.X.shape[0] == len(table.y)
