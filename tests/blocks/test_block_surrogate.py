"""Surrogate: block outputs equal the wrapped models' own predictions."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from numpy.polynomial import Polynomial
from sklearn.linear_model import LinearRegression

from cosim.blocks.surrogate import Surrogate
from cosim.errors import ConfigError

RNG = np.random.default_rng(7)


@pytest.fixture(scope="module")
def polynomial():
    x = np.linspace(0.0, 1.0, 50)
    y = 300.0 + 40.0 * x - 12.0 * x**2 + RNG.normal(0.0, 0.1, x.size)
    return Polynomial.fit(x, y, deg=2)


@pytest.fixture(scope="module")
def linear_data():
    X = RNG.uniform(0.0, 1.0, size=(200, 3))
    Y = np.column_stack([X @ [1.0, -2.0, 0.5] + 3.0, X @ [0.2, 0.0, 4.0] - 1.0])
    return X, Y + RNG.normal(0.0, 0.01, Y.shape)


def test_polynomial_matches_its_own_evaluation(polynomial):
    block = Surrogate(model=polynomial, inputs=["load"], outputs=["T_out"],
                      units={"load": "1", "T_out": "K"})
    block.reset(0.0)
    for load in (0.0, 0.25, 0.731, 1.0):
        out = block.step(0.0, 1.0, {"load": load})
        assert out["T_out"] == pytest.approx(float(polynomial(load)), rel=1e-14)
    assert out["T_out"] == pytest.approx(328.0, abs=0.5)  # the fitted physics, roughly
    iface = block.interface()
    assert iface["T_out"].unit == "K" and iface["load"].unit == "1"
    assert iface.direct_dependencies("T_out") == ("load",)


def test_sklearn_two_outputs_matches_predict(linear_data):
    X, Y = linear_data
    model = LinearRegression().fit(X, Y)
    block = Surrogate(model=model, inputs=["a", "b", "c"], outputs=["p", "q"])
    for row in X[:10]:
        out = block.step(0.0, 0.5, dict(zip("abc", row, strict=True)))
        expected = model.predict(row.reshape(1, -1))[0]
        assert [out["p"], out["q"]] == pytest.approx(expected.tolist(), rel=1e-13)
    assert out["p"] == pytest.approx(row @ [1.0, -2.0, 0.5] + 3.0, abs=0.05)


def test_sklearn_single_output_shape_1(linear_data):
    X, Y = linear_data
    model = LinearRegression().fit(X, Y[:, 0])  # predict -> shape (1,)
    block = Surrogate(model=model, inputs=["a", "b", "c"], outputs=["p"])
    out = block.initialize(0.0, {"a": 0.1, "b": 0.2, "c": 0.3})
    assert out["p"] == pytest.approx(model.predict([[0.1, 0.2, 0.3]])[0], rel=1e-13)


def test_feature_names_reordered_without_warnings(linear_data, recwarn):
    X, Y = linear_data
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    model = LinearRegression().fit(frame, Y[:, 0])
    block = Surrogate(model=model, inputs=["c", "a", "b"], outputs=["p"])  # other order
    out = block.step(0.0, 1.0, {"a": 0.1, "b": 0.2, "c": 0.3})
    expected = model.predict(pd.DataFrame([[0.1, 0.2, 0.3]], columns=["a", "b", "c"]))[0]
    assert out["p"] == pytest.approx(expected, rel=1e-13)
    assert not [w for w in recwarn if "feature names" in str(w.message)]
    with pytest.raises(ConfigError, match="fitted on features a, b, c but 'inputs' lists a, b, d"):
        Surrogate(model=model, inputs=["a", "b", "d"], outputs=["p"])


def test_pickled_model_loaded_relative_to_topology(tmp_path, linear_data, polynomial):
    X, Y = linear_data
    model = LinearRegression().fit(X, Y)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "lr.pkl").write_bytes(pickle.dumps(model))
    (tmp_path / "poly.pkl").write_bytes(pickle.dumps(polynomial))
    block = Surrogate(model="models/lr.pkl", inputs=["a", "b", "c"], outputs=["p", "q"],
                      base_dir=tmp_path)
    out = block.step(0.0, 1.0, {"a": 0.5, "b": 0.5, "c": 0.5})
    assert [out["p"], out["q"]] == pytest.approx(model.predict([[0.5] * 3])[0].tolist())
    poly = Surrogate(model="poly.pkl", inputs=["x"], outputs=["y"], base_dir=tmp_path)
    assert poly.step(0.0, 1.0, {"x": 0.4})["y"] == pytest.approx(float(polynomial(0.4)))


def test_callable_with_several_inputs():
    block = Surrogate(model=lambda q, t: (q * 2.0, q + t), inputs=["q", "t"],
                      outputs=["a", "b"])
    assert block.step(0.0, 1.0, {"q": 3.0, "t": 4.0}) == {"a": 6.0, "b": 7.0}


def test_wrong_output_shape(linear_data):
    X, Y = linear_data
    model = LinearRegression().fit(X, Y)  # two outputs
    block = Surrogate(model=model, inputs=["a", "b", "c"], outputs=["p"])
    with pytest.raises(ConfigError, match=r"returned shape \(1, 2\).*declares 1 \(p\)"):
        block.initialize(0.0, {"a": 0.0, "b": 0.0, "c": 0.0})
    three = Surrogate(model=lambda x: [x, x, x], inputs=["x"], outputs=["y", "z"])
    with pytest.raises(ConfigError, match=r"returned shape \(3,\)"):
        three.step(0.0, 1.0, {"x": 1.0})
    batch = Surrogate(model=lambda x: np.ones((2, 1)), inputs=["x"], outputs=["y", "z"])
    with pytest.raises(ConfigError, match=r"returned shape \(2, 1\)"):
        batch.step(0.0, 1.0, {"x": 1.0})


def test_wrong_number_of_features(linear_data):
    X, Y = linear_data
    model = LinearRegression().fit(X, Y)
    with pytest.raises(ConfigError, match="fitted on 3 features but 'inputs' lists 2"):
        Surrogate(model=model, inputs=["a", "b"], outputs=["p", "q"])


@pytest.mark.parametrize("params, pattern", [
    ({"model": 42, "inputs": ["x"], "outputs": ["y"]}, "predict"),
    ({"model": abs, "inputs": [], "outputs": ["y"]}, "'inputs' must be a non-empty"),
    ({"model": abs, "inputs": ["x", "x"], "outputs": ["y"]}, "lists x more than once"),
    ({"model": abs, "inputs": ["x"], "outputs": ["x"]}, "both an input and an output"),
    ({"model": abs, "inputs": ["model"], "outputs": ["y"]}, "parameter name model"),
    ({"model": abs, "inputs": ["x"], "outputs": ["y"], "units": {"z": "K"}}, "names z"),
    ({"model": "missing.pkl", "inputs": ["x"], "outputs": ["y"]}, "model file not found"),
])
def test_bad_parameters(tmp_path, params, pattern):
    with pytest.raises(ConfigError, match=pattern):
        Surrogate(base_dir=tmp_path, **params)


def test_corrupt_pickle(tmp_path):
    (tmp_path / "bad.pkl").write_bytes(b"not a pickle")
    with pytest.raises(ConfigError, match="cannot load the model") as info:
        Surrogate(model="bad.pkl", inputs=["x"], outputs=["y"], base_dir=tmp_path)
    assert info.value.file == str(tmp_path / "bad.pkl")


def test_state_does_not_copy_the_model(polynomial):
    block = Surrogate(model=polynomial, inputs=["x"], outputs=["y"])
    assert block.save_state() is None
