"""fit_glm on Parquet data: collapsed chunk by chunk (or file by file on Dask) = the in-memory fit.

References are independent of the streamed code: the cells are checked against a pandas
``groupby`` of the rows in memory, the fits against ``fit_glm`` on the data frame (itself checked
against statsmodels and pyfixest in test_models_glm.py), and the Dask fit against the
single-process one.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from icsresearch.errors import InvalidParameterError
from icsresearch.models.glm import fit_glm, stream
from test_models_glm import FE, FORMULA, simulate_logit

KEYS = ["band", "age_group", "sex", "ppn", "hospital", "period"]
RTOL = 1e-10


@pytest.fixture(scope="module")
def logit_rows():
    # sorted by hospital: hospital R11's rows (and so that level) first appear in the last chunks
    df = simulate_logit(n=12_000, seed=5).sort_values("hospital", kind="stable")
    return df.reset_index(drop=True)


@pytest.fixture(scope="module")
def logit_file(logit_rows, tmp_path_factory):
    path = tmp_path_factory.mktemp("logit") / "rows.parquet"
    logit_rows.to_parquet(path, row_group_size=2_500)
    return path


@pytest.fixture(scope="module")
def logit_folder(logit_rows, tmp_path_factory):
    """Hive-partitioned by period: five folders, several files (pandas writes one per folder)."""
    path = tmp_path_factory.mktemp("logit_hive") / "rows"
    logit_rows.to_parquet(path, partition_cols=["period"], row_group_size=1_000)
    return path


def assert_same_fit(streamed, in_memory, rtol=RTOL):
    assert list(streamed.params.index) == list(in_memory.params.index)
    np.testing.assert_allclose(streamed.params, in_memory.params, rtol=rtol, atol=1e-13)
    np.testing.assert_allclose(streamed.bse, in_memory.bse, rtol=rtol, atol=1e-13)
    assert streamed.nobs == in_memory.nobs
    assert streamed.extra["n_cells"] == in_memory.extra["n_cells"]
    assert streamed.extra["loglik"] == pytest.approx(in_memory.extra["loglik"], rel=1e-12)


# --- the cells -----------------------------------------------------------------------------------


def _streamed_cells(path, keys, batch_size, **model):
    model = {"outcome": "died", "family": "logit", "offset": None, "exposure": None, **model}
    source = stream.open_source(path)
    tasks = stream.plan(
        source,
        keys=[(k, "regressor") for k in keys],
        max_levels=50,
        batch_size=batch_size,
        **model,
    )
    return stream.collapse_source(source, tasks)


def _cell_table(collapsed, stats):
    cells = collapsed.cells
    table = cells.keys.astype(str).assign(**{s: cells.stats[s] for s in stats})
    return table.sort_values(list(cells.keys.columns)).reset_index(drop=True)


@pytest.mark.parametrize("batch_size", [7, 1_000, 1 << 20])
def test_chunked_cells_equal_a_groupby_of_the_rows(logit_rows, logit_file, batch_size):
    """Tiny batches split cells across chunks and meet levels first in late chunks: the sums
    still add up to those of the rows, exactly."""
    collapsed = _streamed_cells(logit_file, KEYS, batch_size)
    ref = (
        logit_rows.groupby(KEYS, observed=True)["died"]
        .agg(n="count", y="sum")
        .reset_index()
        .astype({k: str for k in KEYS})
        .sort_values(KEYS)
        .reset_index(drop=True)
    )
    got = _cell_table(collapsed, ["n", "y"])
    pd.testing.assert_frame_equal(got, ref.astype({"n": float, "y": float}), check_dtype=False)
    assert collapsed.summary["rows_read"] == len(logit_rows)
    assert collapsed.summary["chunks"] >= len(logit_rows) // batch_size
    # a level first seen late still has one code: R11 only occurs in the last rows
    assert list(collapsed.levels["hospital"]).index("R11") == 11


def test_poisson_cell_sums_with_exposure_equal_the_rows(tmp_path):
    df = _poisson_rows(3_000, seed=2)
    df.to_parquet(tmp_path / "p.parquet", row_group_size=400)
    keys = ["band", "hospital"]
    collapsed = _streamed_cells(
        tmp_path / "p.parquet", keys, 97, outcome="visits", family="poisson", exposure="days"
    )
    rows = df.assign(yy=df["visits"] ** 2, ty=df["days"] * df["visits"], tt=df["days"] ** 2)
    ref = (
        rows.groupby(keys, observed=True)
        .agg(
            n=("visits", "size"),
            y=("visits", "sum"),
            t=("days", "sum"),
            yy=("yy", "sum"),
            ty=("ty", "sum"),
            tt=("tt", "sum"),
        )  # fmt: skip
        .reset_index()
        .astype({k: str for k in keys})
        .sort_values(keys)
        .reset_index(drop=True)
    )
    got = _cell_table(collapsed, ["n", "y", "t", "yy", "ty", "tt"])
    # integer-valued data: every sum is exact whatever the order of addition
    pd.testing.assert_frame_equal(got, ref.astype(dict.fromkeys(ref.columns[2:], float)))


# --- the fits ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vcov", "cluster"), [("iid", None), ("hetero", None), ("CRV1", "hospital")]
)
def test_parquet_file_folder_and_dataset_equal_the_in_memory_fit(
    logit_rows, logit_file, logit_folder, vcov, cluster
):
    kw = {"fixed_effects": FE, "vcov": vcov, "cluster": cluster, "method": "collapsed"}
    in_memory = fit_glm(logit_rows, FORMULA, **kw)
    for data in (logit_file, str(logit_folder), ds.dataset(logit_file)):
        streamed = fit_glm(data, FORMULA, batch_size=997, **kw)
        assert_same_fit(streamed, in_memory)
        assert streamed.warnings == in_memory.warnings
    # the folder read back by pandas (period becomes a categorical): the same numbers
    assert_same_fit(fit_glm(pd.read_parquet(logit_folder), FORMULA, **kw), in_memory)


def test_categorical_levels_keep_their_order_and_unused_categories(logit_rows, tmp_path):
    """A categorical's first category is the reference (here not the first in sort order), and
    an unused category gives the same (collinear, dropped) column as in memory."""
    df = logit_rows.assign(
        band=logit_rows["band"].cat.reorder_categories(["poor", "good", "mid"]),
        age_group=logit_rows["age_group"].cat.add_categories(["unknown"]),
    )
    df.to_parquet(tmp_path / "c.parquet", row_group_size=3_000)
    in_memory = fit_glm(df, FORMULA, fixed_effects=FE, method="collapsed")
    streamed = fit_glm(tmp_path / "c.parquet", FORMULA, fixed_effects=FE, batch_size=500)
    assert_same_fit(streamed, in_memory)
    assert "band[T.good]" in streamed.params and "band[T.poor]" not in streamed.params
    assert streamed.extra["dropped_collinear"] == in_memory.extra["dropped_collinear"]
    assert streamed.extra["dropped_collinear"] == ["age_group[T.unknown]"]


def test_poisson_with_exposure_equals_the_in_memory_fit(tmp_path):
    df = _poisson_rows(6_000, seed=4)
    folder = tmp_path / "visits"
    df.to_parquet(folder, partition_cols=["hospital"])
    kw = {"family": "poisson", "fixed_effects": ["hospital"], "exposure": "days"}
    for vcov, cluster in [("iid", None), ("hetero", None), ("CRV1", "hospital")]:
        in_memory = fit_glm(df, "visits ~ band + sex", vcov=vcov, cluster=cluster, **kw)
        streamed = fit_glm(
            folder, "visits ~ band + sex", vcov=vcov, cluster=cluster, batch_size=333, **kw
        )
        assert_same_fit(streamed, in_memory)
        assert streamed.extra["loglik_null"] == pytest.approx(
            in_memory.extra["loglik_null"], rel=1e-12
        )
    # an offset column instead of the exposure
    with_offset = df.assign(log_days=np.log(df["days"]))
    with_offset.to_parquet(tmp_path / "o.parquet")
    kw = {"family": "poisson", "fixed_effects": ["hospital"], "offset": "log_days"}
    assert_same_fit(
        fit_glm(tmp_path / "o.parquet", "visits ~ band + sex", **kw),
        fit_glm(with_offset, "visits ~ band + sex", **kw),
    )


def _poisson_rows(n, seed):
    rng = np.random.default_rng(seed)
    band = rng.integers(0, 3, n)
    h = rng.integers(0, 8, n)
    days = rng.integers(1, 31, n).astype(float)
    rate = np.exp(-2.0 + 0.2 * band + rng.normal(0, 0.3, 8)[h])
    return pd.DataFrame(
        {
            "hospital": np.array([f"H{i}" for i in range(8)])[h],
            "band": pd.Categorical.from_codes(band, ["low", "mid", "high"]),
            "sex": rng.choice(["F", "M"], n),
            "days": days,
            "visits": rng.poisson(rate * days).astype(float),
        }
    )


def test_a_chunk_whose_rows_are_all_missing(logit_rows, tmp_path):
    """The first 600 rows (several whole chunks) have no outcome; some others no band: dropped
    and counted per column, each row under its first missing column."""
    df = logit_rows.assign(died=logit_rows["died"].astype(float))
    df["band"] = df["band"].astype(object)
    df.loc[:599, "died"] = np.nan
    df.loc[590:640, "band"] = None  # 10 of these rows already lack the outcome
    df.to_parquet(tmp_path / "m.parquet", row_group_size=2_000)
    streamed = fit_glm(tmp_path / "m.parquet", FORMULA, fixed_effects=FE, batch_size=200)
    assert streamed.extra["stream"]["rows_dropped"] == {"missing died": 600, "missing band": 41}
    assert streamed.extra["n_dropped_missing"] == 641
    in_memory = fit_glm(df, FORMULA, fixed_effects=FE, method="collapsed")
    assert_same_fit(streamed, in_memory)
    assert streamed.warnings == in_memory.warnings


def test_text_regressor_dictionary_in_one_file_plain_in_another(logit_rows, tmp_path):
    """A column categorical in one file and text in another is text: levels sorted, as
    formulaic sorts the text column of the data frame."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    half = len(logit_rows) // 2
    first = logit_rows.iloc[:half].assign(sex=lambda d: d["sex"].astype("category"))
    first.to_parquet(folder / "a.parquet")
    logit_rows.iloc[half:].to_parquet(folder / "b.parquet")
    assert_same_fit(
        fit_glm(folder, FORMULA, fixed_effects=FE),
        fit_glm(logit_rows, FORMULA, fixed_effects=FE, method="collapsed"),
    )


@pytest.mark.parametrize(
    "formula",
    ["died ~ flag + score + C(ppn) + sex", "died ~ flag + C(admitted) + band", "died ~ score:sex"],
)
def test_regressors_of_every_kind(logit_rows, tmp_path, formula):
    """Booleans, floats with a few values (NaN missing), C() of integers, dates, interactions."""
    rng = np.random.default_rng(1)
    df = logit_rows.assign(
        flag=rng.random(len(logit_rows)) < 0.3,
        score=rng.integers(0, 4, len(logit_rows)).astype(float),
        admitted=pd.Timestamp("2020-01-01")
        + pd.to_timedelta(rng.integers(0, 3, len(logit_rows)), unit="D"),
    )
    df.loc[:49, "score"] = np.nan
    df.iloc[:5_000].to_parquet(tmp_path / "a.parquet")
    df.iloc[5_000:].to_parquet(tmp_path / "b.parquet")
    streamed = fit_glm(tmp_path, formula, fixed_effects=FE, batch_size=333)
    assert_same_fit(streamed, fit_glm(df, formula, fixed_effects=FE, method="collapsed"))
    expected = {"missing score": 50} if "score" in formula else {}
    assert streamed.extra["stream"]["rows_dropped"] == expected


# --- refusals ------------------------------------------------------------------------------------


def test_a_wrong_column_type_names_the_file_and_the_column(logit_rows, tmp_path):
    bad = tmp_path / "text_outcome.parquet"
    logit_rows.assign(died=logit_rows["died"].map({0: "no", 1: "yes"})).to_parquet(bad)
    with pytest.raises(
        InvalidParameterError, match=r"outcome column 'died' in file .*text_outcome"
    ):
        fit_glm(bad, FORMULA, fixed_effects=FE)

    folder = tmp_path / "hive"
    folder.mkdir()
    half = len(logit_rows) // 2
    logit_rows.iloc[:half].to_parquet(folder / "part-0.parquet")
    logit_rows.iloc[half:].assign(ppn=lambda d: d["ppn"].astype(str)).to_parquet(
        folder / "part-1.parquet"
    )
    with pytest.raises(InvalidParameterError) as err:
        fit_glm(folder, FORMULA, fixed_effects=FE)
    message = str(err.value)
    assert "'ppn'" in message and "part-0.parquet" in message and "part-1.parquet" in message
    assert "Fix:" in message and "Traceback" not in message

    nested = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"died": [0, 1], "codes": [[1], [2, 3]]}), nested)
    with pytest.raises(InvalidParameterError, match=r"regressor column 'codes' in file .*list"):
        fit_glm(nested, "died ~ codes")


def test_an_outcome_stored_as_integers_in_one_file_and_floats_in_another(logit_rows, tmp_path):
    """The outcome (and an exposure) are read as float64, so their type may differ by file."""
    half = len(logit_rows) // 2
    logit_rows.iloc[:half].to_parquet(tmp_path / "a.parquet")
    logit_rows.iloc[half:].astype({"died": float}).to_parquet(tmp_path / "b.parquet")
    assert_same_fit(
        fit_glm(tmp_path, FORMULA, fixed_effects=FE),
        fit_glm(logit_rows, FORMULA, fixed_effects=FE, method="collapsed"),
    )


def test_bad_outcome_values_name_the_file(logit_rows, tmp_path):
    path = tmp_path / "counts.parquet"
    logit_rows.assign(died=logit_rows["died"].where(logit_rows.index != 7, 2)).to_parquet(path)
    with pytest.raises(InvalidParameterError, match=r"'died' in file .*counts.parquet.* binary"):
        fit_glm(path, FORMULA, fixed_effects=FE, batch_size=5)
    with pytest.raises(InvalidParameterError, match=r"rows 7 of the file"):
        fit_glm(path, FORMULA, fixed_effects=FE, batch_size=5)
    negative = tmp_path / "negative.parquet"
    _poisson_rows(100, 1).assign(visits=-1.0).to_parquet(negative)
    with pytest.raises(InvalidParameterError, match=r"negative.parquet' must be a non-negative"):
        fit_glm(negative, "visits ~ band", "poisson")


def test_a_continuous_regressor_is_refused_with_the_fix(logit_rows, tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "los.parquet"
    logit_rows.assign(los=rng.exponential(5.0, len(logit_rows))).to_parquet(path)
    with pytest.raises(InvalidParameterError) as err:
        fit_glm(path, FORMULA + " + los", fixed_effects=FE)
    message = str(err.value)
    assert "'los'" in message and "more than 50 distinct values" in message
    assert "pd.cut" in message and "method='rows'" in message
    # a fixed effect may have any number of levels; raising max_levels admits the regressor
    fit_glm(path, FORMULA, fixed_effects=FE, max_levels=10)


def test_options_are_checked(logit_rows, logit_file):
    with pytest.raises(InvalidParameterError, match="method='rows' needs the rows in memory"):
        fit_glm(logit_file, FORMULA, method="rows")
    with pytest.raises(InvalidParameterError, match="scheduler= applies to Parquet data"):
        fit_glm(logit_rows, FORMULA, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(InvalidParameterError, match="neither a Dask scheduler address"):
        fit_glm(logit_file, FORMULA, scheduler=8786)
    with pytest.raises(InvalidParameterError, match="not a Dask scheduler address: it has no port"):
        fit_glm(logit_file, FORMULA, scheduler="tcp://127.0.0.1")
    with pytest.raises(InvalidParameterError, match="progress='yes' must be True or False"):
        fit_glm(logit_file, FORMULA, progress="yes")
    with pytest.raises(InvalidParameterError, match="batch_size=0 must be a positive integer"):
        fit_glm(logit_file, FORMULA, batch_size=0)
    with pytest.raises(InvalidParameterError, match="does not exist"):
        fit_glm(logit_file.parent / "nowhere.parquet", FORMULA)
    with pytest.raises(InvalidParameterError, match="pyarrow dataset, not ndarray"):
        fit_glm(logit_rows.to_numpy(), FORMULA)
    with pytest.raises(InvalidParameterError, match=r"regressor column 'bnad' is not in the data"):
        fit_glm(logit_file, "died ~ bnad")
    with pytest.raises(InvalidParameterError, match="center"):
        fit_glm(logit_file, "died ~ center(ppn)")


def test_an_address_where_no_scheduler_answers_fails_at_once_with_the_fix(logit_file):
    """Before: Dask's client retried for its whole timeout, then raised its own OSError."""
    import socket
    import time

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.perf_counter()
    with pytest.raises(InvalidParameterError) as err:
        fit_glm(logit_file, FORMULA, scheduler=f"tcp://127.0.0.1:{port}")
    assert time.perf_counter() - started < 5
    message = str(err.value)
    assert f"fit_glm: scheduler= 'tcp://127.0.0.1:{port}': cannot connect" in message
    assert "Fix: start one" in message


# --- what is recorded ----------------------------------------------------------------------------


def test_summary_progress_and_provenance(logit_rows, logit_folder, capsys):
    res = fit_glm(logit_folder, FORMULA, fixed_effects=FE, progress=True, batch_size=700)
    summary = res.extra["stream"]
    files = sorted(str(p) for p in logit_folder.rglob("*.parquet"))
    assert summary["files"] == len(files) and summary["rows_read"] == len(logit_rows)
    assert summary["chunks"] >= len(logit_rows) // 700
    assert summary["cells"] == res.extra["n_cells"] and summary["rows_dropped"] == {}
    assert 0 < summary["peak_rss_bytes"] < 64 * 2**30
    assert res.sample is None and res.nobs == len(logit_rows)
    assert sorted(i.path for i in res.provenance.inputs) == files
    recorded = res.provenance.extra["input_files"]
    assert [r["size_bytes"] for r in recorded] == [Path(r["path"]).stat().st_size for r in recorded]
    assert all(len(r["footer_sha256"]) == 64 for r in recorded)
    assert sum(r["rows"] for r in recorded) == len(logit_rows)
    printed = capsys.readouterr().err
    assert f"{len(logit_rows):,} rows in {len(files)} file(s)" in printed
    # no bar when not asked for and stderr is not a terminal
    fit_glm(logit_folder, FORMULA, fixed_effects=FE)
    assert capsys.readouterr().err == ""


def test_tasks_and_results_travel_between_processes(logit_folder):
    source = stream.open_source(logit_folder)
    tasks = stream.plan(
        source,
        outcome="died",
        family="logit",
        offset=None,
        exposure=None,
        keys=[(k, "regressor") for k in ["band", "period"]],
        max_levels=50,
        batch_size=1000,
    )
    task = pickle.loads(pickle.dumps(tasks[0]))
    part = pickle.loads(pickle.dumps(stream.collapse_fragment(task)))
    assert part.rows_read == tasks[0].fragment.count_rows()
    assert set(part.levels) == {"band", "period"}


# --- Dask ----------------------------------------------------------------------------------------


def test_on_a_local_dask_cluster_equals_the_single_process_fit(logit_folder, tmp_path):
    distributed = pytest.importorskip("distributed")
    kw = {"fixed_effects": FE, "cluster": "hospital", "batch_size": 900}
    single = fit_glm(logit_folder, FORMULA, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # distributed's own start-up chatter
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
    with cluster, distributed.Client(cluster) as client:
        on_dask = fit_glm(logit_folder, FORMULA, scheduler=client, **kw)
        assert_same_fit(on_dask, single)
        assert on_dask.extra["stream"]["workers"] == 2
        assert on_dask.extra["stream"]["rows_read"] == single.extra["stream"]["rows_read"]
        by_address = fit_glm(logit_folder, FORMULA, scheduler=cluster.scheduler_address, **kw)
        assert_same_fit(by_address, single)
        # a worker's refusal reaches the client as the same error, naming the file
        bad = tmp_path / "bad"
        bad.mkdir()
        pq.write_table(pa.table({"died": [0, 3], "sex": ["F", "M"]}), bad / "x.parquet")
        with pytest.raises(InvalidParameterError, match=r"'died' in file .*x.parquet"):
            fit_glm(bad, "died ~ sex", scheduler=client)
