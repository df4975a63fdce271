"""scale_views and ViewScaler: hand-worked answers for each method, fitted statistics applied to new samples, float32
copies, inputs untouched, clear errors."""

import numpy as np
import pytest

from mmc_core.preprocessing import SCALING_METHODS, ViewScaler, scale_views

X_A = np.array([[1.0, 10.0, 5.0], [3.0, 20.0, 5.0], [2.0, 30.0, 5.0]])  # last column constant
X_B = np.array([[3.0, 4.0], [0.0, 0.0], [-1.0, 0.0]])  # a zero row


def test_minmax_per_feature_constant_column_is_zero():
    (out,) = scale_views([X_A], "minmax")
    np.testing.assert_allclose(out, [[0.0, 0.0, 0.0], [1.0, 0.5, 0.0], [0.5, 1.0, 0.0]])


def test_zscore_per_feature_constant_column_is_zero():
    # column 0: mean 2, population std sqrt(2/3); column 1: mean 20, std sqrt(200/3)
    (out,) = scale_views([X_A], "zscore")
    s = np.sqrt(1.5)
    np.testing.assert_allclose(out, [[-s, -s, 0.0], [s, 0.0, 0.0], [0.0, s, 0.0]], rtol=1e-6)


def test_l2_rows_unit_norm_zero_row_stays_zero():
    (out,) = scale_views([X_B], "l2")
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0], [-1.0, 0.0]])


def test_none_keeps_values():
    out = scale_views([X_A, X_B], "none")
    np.testing.assert_array_equal(out[0], X_A)
    np.testing.assert_array_equal(out[1], X_B)


def test_each_view_scaled_on_its_own():
    out = scale_views([X_A, X_B], "minmax")
    np.testing.assert_allclose(out[1], [[1.0, 1.0], [0.25, 0.0], [0.0, 0.0]])
    assert [o.shape for o in out] == [X_A.shape, X_B.shape]


@pytest.mark.parametrize("method", SCALING_METHODS)
def test_float32_copies_and_inputs_untouched(method):
    a, b = X_A.copy(), X_B.astype(np.float32)
    out = scale_views([a, b], method)
    assert all(o.dtype == np.float32 for o in out)
    assert not any(np.shares_memory(o, x) for o in out for x in (a, b))
    out[0][:] = -7.0
    out[1][:] = -7.0
    np.testing.assert_array_equal(a, X_A)
    np.testing.assert_array_equal(b, X_B.astype(np.float32))


def test_integer_input_is_accepted():
    (out,) = scale_views([np.array([[0, 2], [4, 2]])], "minmax")
    np.testing.assert_array_equal(out, [[0.0, 0.0], [1.0, 0.0]])


def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(ValueError, match="minmax.*zscore.*l2"):
        scale_views([X_A], "standard")


def test_bad_views_rejected():
    with pytest.raises(TypeError, match="list of per-view arrays"):
        scale_views(X_A, "minmax")
    with pytest.raises(ValueError, match="NaN"):
        scale_views([np.array([[1.0, np.nan]])], "minmax")


def test_fitted_statistics_scale_new_samples():
    """Min-max with the fit's per-feature minimum and range (not the new samples' own): X_A's column 1 spans 10..30."""
    scaler = ViewScaler("minmax").fit([X_A])
    (out,) = scaler.transform([np.array([[2.0, 40.0, 5.0]])])
    np.testing.assert_allclose(out, [[0.5, 1.5, 0.0]])
    (z,) = ViewScaler("zscore").fit([X_A]).transform([X_A[:1]])
    np.testing.assert_allclose(z, scale_views([X_A], "zscore")[0][:1])


@pytest.mark.parametrize("method", SCALING_METHODS)
def test_scale_views_is_the_fitted_scaler_applied_to_its_own_data(method):
    a = [X_A, X_B]
    for got, expected in zip(ViewScaler(method).fit(a).transform(a), scale_views(a, method)):
        np.testing.assert_array_equal(got, expected)


def test_scaler_refuses_other_views_and_an_unfitted_use():
    scaler = ViewScaler("minmax").fit([X_A])
    with pytest.raises(ValueError, match=r"Views have \[2\] features; the scaler was fitted on \[3\]"):
        scaler.transform([X_B])
    with pytest.raises(RuntimeError, match="not fitted yet"):
        ViewScaler("l2").transform([X_B])
