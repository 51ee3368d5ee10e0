"""The fast paths of the panel estimators against straightforward references (issue 16).

Each shortcut taken for speed is checked here against the plain computation it replaces: least
squares by Householder QR over contiguous rows (``panel.linalg``) against numpy's LAPACK QR, the
aliased-column check against least-squares residuals, counting codes against ``np.unique`` and
pandas, demeaning with ``take`` against ``groupby``, and the design's reuse of its codes against
factorizing the sample again. The last test checks what the row-wise arithmetic is for: a fit
leaves OpenBLAS's worker threads idle.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from icsresearch.models.panel import covariance as cv
from icsresearch.models.panel import linalg
from icsresearch.models.panel import transform as tf
from icsresearch.models.panel.design import build_design


def reference_ols(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and (X'X)^-1 from numpy's QR with an explicit Q (what fit used before)."""
    Q, R = np.linalg.qr(X)
    Rinv = np.linalg.inv(R)
    return Rinv @ (Q.T @ y), Rinv @ Rinv.T


def design_with_condition(n: int, k: int, condition: float, seed: int) -> np.ndarray:
    """An n x k design with singular values spread log-evenly from 1 to 1/condition."""
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.normal(size=(n, k)))
    V, _ = np.linalg.qr(rng.normal(size=(k, k)))
    return (U * np.logspace(0, -np.log10(condition), k)) @ V.T * 10


@pytest.mark.parametrize(
    ("n", "k", "condition"),
    [(50, 1, 1.0), (2_000, 2, 10.0), (40_000, 3, 1e3), (500, 8, 1e6), (300, 16, 1e4)],
)
@pytest.mark.parametrize("layout", ["C", "F"])
def test_householder_least_squares_matches_lapack_qr(n, k, condition, layout):
    X = np.asarray(design_with_condition(n, k, condition, seed=k), order=layout)
    rng = np.random.default_rng(n)
    y = X @ rng.normal(size=k) + rng.normal(size=n)
    X_before, y_before = X.copy(), y.copy()

    params, bread, fitted, resid = linalg.least_squares(X, y)

    want_params, want_bread = reference_ols(X, y)
    tol = 1e-13 * condition**2  # forward error of least squares: up to cond^2 * eps
    np.testing.assert_allclose(params, want_params, rtol=tol, atol=tol * np.abs(want_params).max())
    np.testing.assert_allclose(bread, want_bread, rtol=tol, atol=tol * np.abs(want_bread).max())
    scale = (np.abs(X) @ np.abs(params)).max()  # of the terms summed: cancellation is allowed
    np.testing.assert_allclose(fitted, X @ params, rtol=0, atol=1e-13 * scale)
    np.testing.assert_array_equal(resid, y - fitted)
    # the factorization works on a copy: a design whose columns are contiguous is not a view
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_wide_designs_use_lapack_bit_for_bit():
    """Above MAX_UNBLOCKED_COLUMNS the numbers are numpy's QR's exactly (scipy's is faster)."""
    k = linalg.MAX_UNBLOCKED_COLUMNS + 4
    X = design_with_condition(3_000, k, 100.0, seed=1)
    y = np.random.default_rng(2).normal(size=3_000)
    params, bread = linalg.ols(X, y)
    want_params, want_bread = reference_ols(X, y)
    np.testing.assert_array_equal(params, want_params)
    np.testing.assert_array_equal(bread, want_bread)


def test_householder_declines_a_zero_column_to_lapack():
    X = np.column_stack([np.ones(20), np.zeros(20)])
    with pytest.raises(np.linalg.LinAlgError):  # as numpy's QR: R is singular
        linalg.ols(X, np.arange(20.0))


def test_squared_correlation_matches_corrcoef():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=1_000), rng.normal(size=1_000)
    b = b + 0.3 * a
    assert linalg.squared_correlation(a, b) == pytest.approx(
        np.corrcoef(a, b)[0, 1] ** 2, rel=1e-13
    )
    assert linalg.squared_correlation(a, 2 * a + 1) == pytest.approx(1.0, rel=1e-15)
    assert linalg.squared_correlation(a, -a) <= 1.0
    assert np.isnan(linalg.squared_correlation(a, np.full(1_000, 4.0)))
    assert np.isnan(linalg.squared_correlation(np.zeros(1_000), b))
    assert np.isnan(linalg.squared_correlation(a[:1], b[:1]))


@pytest.mark.parametrize("layout", ["C", "F"])
def test_matvec_matches_matmul(layout):
    X = np.asarray(np.random.default_rng(4).normal(size=(5_000, 5)), order=layout)
    b = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(linalg.matvec(X, b, [0, 2, 4]), X[:, [0, 2, 4]] @ b, rtol=1e-13)
    np.testing.assert_allclose(linalg.matvec(X[:, :3], b), X[:, :3] @ b, rtol=1e-13)
    assert linalg.dot(X[:, 0], X[:, 1]) == pytest.approx(X[:, 0] @ X[:, 1], rel=1e-12)


def aliased_by_least_squares(X: np.ndarray, protect: set[int], tol: float = 1e-9) -> list[int]:
    """Columns kept: nonzero, and not explained by the kept columns before them (lstsq)."""
    norms = np.linalg.norm(X, axis=0)
    big = max(norms.max(), 1.0)
    kept: list[int] = []
    for j in range(X.shape[1]):
        if j not in protect and norms[j] <= tol * big:
            continue
        if kept and j not in protect:
            coef = np.linalg.lstsq(X[:, kept], X[:, j], rcond=None)[0]
            if np.linalg.norm(X[:, j] - X[:, kept] @ coef) <= tol * norms[j]:
                continue
        kept.append(j)
    return kept


def test_drop_aliased_matches_least_squares_residuals():
    rng = np.random.default_rng(5)
    n = 3_000
    a, b, c = rng.normal(size=(3, n))
    columns = {
        "a": a,
        "zero": np.zeros(n),
        "b": b,
        "a_plus_b": a + b,  # exactly collinear
        "c": c,
        "c_twice": 2 * c,  # collinear with one column
        "nearly_a": a + 1e-6 * rng.normal(size=n),  # far above the 1e-9 threshold: kept
        "tiny": 1e-12 * rng.normal(size=n),  # below it: dropped
        "intercept_like": np.zeros(n),  # protected: kept though zero
    }
    names = list(columns)
    X = np.column_stack(list(columns.values()))
    protect = ("intercept_like",)
    with np.errstate(divide="ignore", invalid="ignore"):  # the protected zero column
        X_kept, kept, dropped = tf.drop_aliased(X, names, protect=protect)
    want = aliased_by_least_squares(X, {names.index("intercept_like")})
    assert kept == [names[j] for j in want]
    assert dropped == [n for n in names if n not in kept]
    assert kept == ["a", "b", "c", "nearly_a", "intercept_like"]
    np.testing.assert_array_equal(X_kept, X[:, want])


@pytest.mark.parametrize(
    "codes",
    [
        np.array([0, 1, 1, 3, 3, 3], dtype=np.intp),  # gaps: 3 distinct of 4 possible
        np.random.default_rng(6).integers(0, 50, 1_000),
        np.random.default_rng(7).integers(0, 10**12, 1_000),  # sparse: sorted, not counted
        np.array([5, -1, 5, 2]),  # negative: sorted
        np.array([1.0, 2.0, 2.0]),  # not integers: sorted
    ],
)
def test_n_groups_matches_unique(codes):
    assert cv.n_groups(codes) == len(np.unique(codes))


@pytest.mark.parametrize("seed", range(4))
def test_is_nested_matches_pandas(seed):
    rng = np.random.default_rng(seed)
    inner = rng.integers(0, 40, 500)
    outer = inner // 4 if seed % 2 else rng.integers(0, 10, 500)  # nested, or not
    want = bool((pd.DataFrame({"i": inner, "o": outer}).groupby("i")["o"].nunique() == 1).all())
    assert cv.is_nested(inner, outer) is want
    assert want is bool(seed % 2)


@pytest.mark.parametrize("weighted", [False, True])
def test_demean_matches_groupby_and_the_fancy_indexing_formula(weighted):
    rng = np.random.default_rng(8)
    n, groups = 5_000, 70
    codes = rng.integers(0, groups, n)
    M = rng.normal(size=(n, 3))
    sw = np.sqrt(rng.uniform(0.5, 2.0, n)) if weighted else None

    got = tf.demean(M * (1 if sw is None else sw[:, None]), codes, groups, sw)

    frame = pd.DataFrame(M).assign(g=codes, w=1.0 if sw is None else sw**2)
    weighted_sums = frame[[0, 1, 2]].mul(frame["w"], axis=0).groupby(frame["g"]).transform("sum")
    wmeans = weighted_sums.div(frame.groupby("g")["w"].transform("sum"), axis=0)
    want = (M - wmeans.to_numpy()) * (1 if sw is None else sw[:, None])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # and bit for bit the formula it replaces, means[codes] by fancy indexing
    scaled = M * (1 if sw is None else sw[:, None])
    means = tf.group_means(scaled, codes, groups, sw)[codes]
    np.testing.assert_array_equal(got, scaled - (means if sw is None else means * sw[:, None]))


@pytest.mark.parametrize("drop_rows", [False, True])
def test_design_codes_equal_factorizing_the_sample(drop_rows):
    """Codes computed once for the whole frame are the sample's when no row is dropped."""
    rng = np.random.default_rng(9)
    entities = np.array([f"T{i:03d}" for i in rng.permutation(60)])
    df = pd.DataFrame(
        {
            "entity": np.repeat(entities, 5),
            "year": np.tile([2014, 2012, 2013, 2016, 2015], 60),
            "x": rng.normal(size=300),
            "y": rng.normal(size=300),
        }
    )
    if drop_rows:
        df.loc[df["entity"].isin(entities[:3]), "x"] = np.nan  # three whole entities dropped
    d = build_design(df, "y ~ x", entity="entity", time="year", model="within", cluster=["year"])
    sample = df.dropna()
    for codes, labels, column in (
        (d.entity, d.entity_labels, "entity"),
        (d.time, d.time_labels, "year"),
    ):
        want_codes, want_labels = pd.factorize(sample[column], sort=True)
        np.testing.assert_array_equal(codes, want_codes)
        np.testing.assert_array_equal(labels, np.asarray(want_labels))
    np.testing.assert_array_equal(d.clusters["year"], d.time)
    np.testing.assert_array_equal(d.X[:, 1], sample["x"].to_numpy())
    assert d.n_entities == (57 if drop_rows else 60)


IDLE_THREADS_SCRIPT = """
import json, os, time, warnings
import numpy as np, pandas as pd
from icsresearch.models import fit

warnings.simplefilter("ignore")

def other_threads_cpu():
    total = 0
    for tid in os.listdir("/proc/self/task"):
        if int(tid) != os.getpid():
            fields = open(f"/proc/self/task/{tid}/stat").read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")

rng = np.random.default_rng(0)
n_e, n_t = 5000, 10
e, t = np.repeat(np.arange(n_e), n_t), np.tile(np.arange(n_t), n_e)
df = pd.DataFrame({"entity": e, "period": t, "x1": rng.normal(size=e.size),
                   "x2": rng.normal(size=e.size)})
df["y"] = df["x1"] + rng.normal(size=e.size)
kw = dict(entity="entity", time="period", vcov="CRV1", cluster="entity")
fits = [
    lambda: fit(df, "y ~ x1 + x2", model="within", effects="twoways", **kw),
    lambda: fit(df, "y ~ x1 + x2", model="within", **kw),
    lambda: fit(df, "y ~ x1 + x2", model="pooled", **kw),
    lambda: fit(df, "y ~ x1 + x2", entity="entity", time="period", model="within"),
]
for f in fits:
    f()
time.sleep(1.0)  # any worker woken by the imports stops spinning
before = other_threads_cpu()
for _ in range(5):
    for f in fits:
        f()
fits_cpu = other_threads_cpu() - before
X = rng.normal(size=(400_000, 2))
before = other_threads_cpu()
for _ in range(300):
    X @ np.ones(2)  # a BLAS call that OpenBLAS threads: the detector must see it
time.sleep(0.2)
blas_cpu = other_threads_cpu() - before
print(json.dumps({"fits": fits_cpu, "blas": blas_cpu}))
"""


def test_panel_fits_leave_blas_worker_threads_idle():
    """A fit on 50,000 rows makes no call that wakes OpenBLAS's workers (they would then spin)."""
    # the library defaults, whatever an earlier test left in os.environ (distributed's
    # LocalCluster sets OPENBLAS_NUM_THREADS=1 there for its workers and leaves it)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run(
        [sys.executable, "-c", IDLE_THREADS_SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    cpu = json.loads(out.stdout.strip().splitlines()[-1])
    if cpu["blas"] < 0.02:
        pytest.skip("OpenBLAS runs one thread here (one core): nothing to see")
    assert cpu["fits"] < 0.03, f"BLAS worker threads ran {cpu['fits']:.2f} s during the fits"
