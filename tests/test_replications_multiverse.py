"""The robustness multiverse: its grid, its engine, the replications' analyses, Dask and the plot.

References are independent of the engine: grid sizes counted by hand from the choices; a spec's
estimate against a direct fit with :func:`icsresearch.models.fit` on clusters built by hand from
the trust-to-ICS weights; harmonised entities against the latest codes walked by hand; the
published specification against the replications' own functions. Real-data tests use tiny
grids (one or two samples); the full grids run in the replications' reports.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from icsresearch.errors import InvalidParameterError, ReplicationError
from icsresearch.options import Convention, Footprint, HarmoniseTo, TrustIcsMethod
from icsresearch.replications import multiverse as M
from icsresearch.replications.comparison import NOT_REPRODUCED, REPRODUCED
from icsresearch.replications.multiverse import NOT_APPLICABLE, Choice

CHOICES = ["processing", "sample", "harmonise_to", "cluster", "footprint", "method", "convention"]


# --- the grid (no data) ----------------------------------------------------------------------


def test_full_grids_collapse_to_the_counts_computed_by_hand():
    specs = M.expand_grid(M.replication_grid("asaria2022"))
    # processing 2 x (sample all/balanced x codes 2 + no_mergers) x (trust + ics x 2 x 3) x 2
    assert len(specs) == 2 * (2 * 2 + 1) * (1 + 2 * 3) * 2 == 140
    assert not specs[CHOICES].astype(str).duplicated().any()
    by_trust = specs["cluster"] == "trust"
    assert (specs.loc[by_trust, ["footprint", "method"]] == NOT_APPLICABLE).all().all()
    assert (specs.loc[~by_trust, ["footprint", "method"]] != NOT_APPLICABLE).all().all()
    no_mergers = specs["sample"] == "no_mergers"
    assert (specs.loc[no_mergers, "harmonise_to"] == NOT_APPLICABLE).all()
    assert (specs.loc[~no_mergers, "harmonise_to"] != NOT_APPLICABLE).all()
    assert specs["published"].sum() == 1
    pub = specs[specs["published"]].iloc[0]
    assert pub[CHOICES].tolist() == [
        "authors", "all", "as_reported", "trust", NOT_APPLICABLE, NOT_APPLICABLE, "plm",
    ]  # fmt: skip
    g = M.expand_grid(M.replication_grid("griffiths2016"))
    assert len(g) == (1 + 2) * (1 + 2 * 3) * 2 == 42
    assert len(M.expand_grid(M.replication_grid("griffiths2016", "small"))) == 3 * 2


def test_collapse_never_multiplies_a_choice_that_cannot_matter():
    grid = [
        Choice("cluster", ("trust", "ics"), "trust"),
        Choice("footprint", (2022, 2026), 2022, option=Footprint, only_if={"cluster": ("ics",)}),
    ]
    specs = M.expand_grid(grid)
    assert specs[["cluster", "footprint"]].values.tolist() == [
        ["trust", NOT_APPLICABLE], ["ics", 2022], ["ics", 2026],
    ]  # fmt: skip
    assert M.published_spec(grid) == {"cluster": "trust", "footprint": NOT_APPLICABLE}


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: Choice("footprint", (2022, 2030), option=Footprint), ["footprint", "2030"]),
        (lambda: Choice("method", ("headquarters", "hq"), option=TrustIcsMethod), ["method"]),
        (lambda: Choice("convention", ("plm",), "stata", option=Convention), ["convention"]),
        (lambda: Choice("harmonise_to", ("as_reported", "as_reported")), ["twice"]),
        (lambda: M.replication_grid("asaria2022", "huge"), ["size", "huge"]),
        (lambda: M.replication_grid("mchugh2021"), ["mchugh2021"]),
        (
            lambda: M.expand_grid([Choice("footprint", (2022,), only_if={"cluster": ("ics",)})]),
            ["cluster", "earlier choice"],
        ),
    ],
)
def test_a_bad_choice_is_one_error_naming_it_with_a_fix(make, words):
    with pytest.raises(InvalidParameterError) as err:
        make()
    msg = str(err.value)
    assert all(w in msg for w in words), msg
    assert "\n  Fix: " in msg and "Traceback" not in msg


# --- the engine on a user's function (no data files) -----------------------------------------


@pytest.fixture(scope="module")
def toy_panel() -> pd.DataFrame:
    rng = np.random.default_rng(15)
    rows = []
    for unit in range(30):
        u = rng.normal()
        for year in range(2015, 2021):
            x = rng.normal() + 0.5 * u
            rows.append(
                {"unit": f"U{unit:02d}", "year": year, "x": x, "y": 0.3 * x + u + rng.normal()}
            )
    return pd.DataFrame(rows)


def _user_analysis(panel: pd.DataFrame, spec: dict) -> pd.DataFrame:
    from icsresearch.models import fit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = fit(
            panel, "y ~ x", entity="unit", time="year", model=spec["model"],
            vcov="CRV1", cluster="unit", convention=spec["convention"],
        )  # fmt: skip
    row = res.tidy().set_index("term").loc["x"]
    return pd.DataFrame(
        [{"claim": "x_raises_y", "estimate": row["estimate"], "ci_low": row["ci_low"],
          "ci_high": row["ci_high"]}]
    )  # fmt: skip


TOY_GRID = [
    Choice("model", ("within", "pooled", "random"), "within", label="Model"),
    Choice("convention", ("plm", "stata"), "plm", option=Convention),
]


def test_a_users_function_of_a_panel_runs_with_the_default_rule(toy_panel):
    from icsresearch.models import fit

    res = M.multiverse(_user_analysis, TOY_GRID, data=toy_panel)
    t = res.table
    assert len(t) == 6 and res.mode == "serial"
    direct = fit(
        toy_panel, "y ~ x", entity="unit", time="year", model="pooled", vcov="CRV1",
        cluster="unit", convention="stata",
    ).tidy().set_index("term").loc["x"]  # fmt: skip
    row = t[(t["model"] == "pooled") & (t["convention"] == "stata")].iloc[0]
    assert row["estimate"] == pytest.approx(direct["estimate"], abs=1e-12)
    assert row["ci_low"] == pytest.approx(direct["ci_low"], abs=1e-12)
    # the default rule: the CI excludes 0
    want = np.where((t["ci_low"] > 0) | (t["ci_high"] < 0), REPRODUCED, NOT_REPRODUCED)
    assert t["verdict"].tolist() == want.tolist()
    pub = t[t["published"]]
    assert len(pub) == 1 and pub["model"].iloc[0] == "within"
    assert (t["holds"] == (t["verdict"] == pub["verdict"].iloc[0])).all()
    s = res.summary()
    assert s.loc[0, "specs"] == 6 and s.loc[0, "holds"] == int(t["holds"].sum())


def test_summary_names_the_choice_that_flips_the_verdict():
    # choice "a" decides the verdict, "b" only nudges the estimate
    def analysis(spec):
        est = (1.0 if spec["a"] == "x" else -1.0) + (0.01 if spec["b"] == "p" else 0.0)
        return pd.DataFrame(
            [{"claim": "c", "estimate": est, "ci_low": est - 0.5, "ci_high": est + 0.5}]
        )

    grid = [Choice("b", ("p", "q")), Choice("a", ("x", "y"))]
    res = M.multiverse(analysis, grid, rule=lambda e, lo, hi: e > 0)
    s = res.summary().iloc[0]
    assert s["moved_most"] == "a" and s["share_holds"] == 0.5
    assert s["moved_how"] == "x: 100%; y: 0%"
    infl = res.influence().set_index(["choice", "value"])
    assert infl.loc[("a", "y"), "share_holds"] == 0.0
    assert infl.loc[("b", "p"), "share_spread"] == 0.0
    assert infl.loc[("b", "p"), "estimate_spread"] == pytest.approx(0.01 / 1.0)


def test_a_failing_spec_is_named_and_a_bad_answer_is_refused():
    def fails(spec):
        if spec["a"] == "y":
            raise InvalidParameterError("no data\n  Fix: none")
        return pd.DataFrame([{"claim": "c", "verdict": REPRODUCED}])

    with pytest.raises(ReplicationError, match="s002 .*a='y'.*no data"):
        M.multiverse(fails, [Choice("a", ("x", "y"))])
    with pytest.raises(InvalidParameterError, match="Fix: return a list of evaluated Claim"):
        M.multiverse(lambda spec: 1.0, [Choice("a", ("x",))])
    with pytest.raises(InvalidParameterError, match="workers"):
        M.multiverse(fails, [Choice("a", ("x",))], workers=0)


@pytest.mark.realdata
def test_dask_gives_the_serial_answer(toy_panel, mirror):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, processes=False, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = M.multiverse(_user_analysis, TOY_GRID, data=toy_panel, scheduler=client)
        assert on_dask.mode == "dask"
        asaria = M.multiverse(M.asaria2022_analysis, _ASARIA_TINY, scheduler=client)
    serial = M.multiverse(_user_analysis, TOY_GRID, data=toy_panel)
    pd.testing.assert_frame_equal(on_dask.table, serial.table)
    pd.testing.assert_frame_equal(
        asaria.table, M.multiverse(M.asaria2022_analysis, _ASARIA_TINY).table
    )


# --- the replications (real data, tiny grids) --------------------------------------------------

_ASARIA_TINY = [
    Choice("processing", ("authors",), "authors"),
    Choice("sample", ("all",), "all", data=True),
    Choice("harmonise_to", ("as_reported",), "as_reported", option=HarmoniseTo, data=True),
    Choice("cluster", ("trust",), "trust"),
    Choice("convention", ("plm", "stata"), "plm", option=Convention),
]

_ASARIA_SMALL = (
    Choice("processing", ("authors",), "authors", option=None, data=True),
    Choice("sample", ("all",), "all", data=True),
    Choice("harmonise_to", ("as_reported", "latest"), "as_reported", option=HarmoniseTo, data=True),
    Choice("cluster", ("trust", "ics"), "trust"),
    Choice("footprint", (2026,), 2026, option=Footprint, only_if={"cluster": ("ics",)}),
    Choice(
        "method", ("catchment",), "catchment", option=TrustIcsMethod, only_if={"cluster": ("ics",)}
    ),
    Choice("convention", ("plm", "stata"), "plm", option=Convention),
)


@pytest.fixture(scope="module")
def asaria(mirror):
    return M.multiverse(M.asaria2022_analysis, _ASARIA_SMALL)


@pytest.fixture(scope="module")
def asaria_published(mirror):
    from icsresearch.replications import asaria2022 as A

    sample = A.build_sample()
    est = A.estimate_all(sample)
    quality = A.quality_regressions(sample)
    return sample, est, quality, A.evaluate_claims(sample, est, quality)


@pytest.mark.realdata
def test_asaria_published_spec_reproduces_the_replication(asaria, asaria_published):
    _, est, quality, claims = asaria_published
    t = asaria.table
    assert len(asaria.specs) == 2 * 2 * 2 and len(t) == 8 * len(M.ASARIA_CLAIMS)
    pub = t[t["published"]].set_index("claim")
    want = {c.id: c.verdict for c in claims if c.id in M.ASARIA_CLAIMS}
    assert pub["verdict"].to_dict() == want
    assert (pub["published_verdict"] == pub["verdict"]).all()
    both = pd.concat([est, quality])
    for cid, (outcome, measure, model) in M.ASARIA_HEADLINE.items():
        ref = both[
            (both.outcome == outcome) & (both.measure == measure) & (both.model == model)
            & ~both.controls
        ].iloc[0]  # fmt: skip
        assert pub.at[cid, "estimate"] == ref["coef"]
        assert pub.at[cid, "ci_low"] == pytest.approx(ref["ci_low"], abs=1e-12)
        assert pub.at[cid, "ci_high"] == pytest.approx(ref["ci_high"], abs=1e-12)


@pytest.mark.realdata
def test_asaria_ics_spec_equals_a_direct_fit_on_clusters_built_by_hand(asaria):
    from icsresearch import geography
    from icsresearch.models import fit
    from icsresearch.replications import asaria2022 as A

    data = M._asaria_sample("authors", "latest", "all", M._source_key())
    w = geography.trust_ics_weights("catchment", 2026)
    main = w.loc[w.groupby("trust_code")["weight"].idxmax()].set_index("trust_code")["icb_code"]
    data = data.assign(ics=data["trust_code"].map(main))
    assert data["ics"].notna().all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        direct = fit(
            data, A.formula("shmi", "managers_fte", False, "within"), entity="trust_code",
            time="year", model="within", effects="twoways", vcov="CRV1", cluster="ics",
            convention="stata",
        )  # fmt: skip
    ref = direct.tidy().set_index("term").loc["managers_fte"]
    t = asaria.table
    row = t[
        (t.claim == "managers_vs_shmi") & (t.harmonise_to == "latest") & (t.cluster == "ics")
        & (t.convention == "stata")
    ].iloc[0]  # fmt: skip
    for ours, theirs in (("estimate", "estimate"), ("ci_low", "ci_low"), ("ci_high", "ci_high")):
        assert row[ours] == pytest.approx(ref[theirs], rel=1e-10, abs=1e-14)
    # clusters: the distinct systems of that footprint and method among the trusts fitted
    assert direct.n_groups["clusters: ics"] == data.loc[direct.sample, "ics"].nunique()
    spec = {"cluster": "ics", "method": "catchment", "footprint": 2026, "convention": "stata"}
    fits = M._asaria_fits("authors", "latest", "all", M._source_key())
    ours = M._with_inference(
        fits[("shmi", "managers_fte", False, "within")], spec, M._cluster_frame(data, spec)
    )
    assert ours.n_groups["clusters: ics"] == direct.n_groups["clusters: ics"] == 36


@pytest.mark.realdata
def test_harmonised_codes_give_one_entity_per_latest_code(asaria_published):
    from icsresearch.geography import harmonise_trust_codes, latest_codes

    base = asaria_published[0]
    latest = latest_codes()
    want = {latest.get(c, c) for c in base["trust_code"]}
    data = M._asaria_sample("authors", "latest", "all", M._source_key())
    assert set(data["trust_code"]) == want and len(want) < base["trust_code"].nunique()
    assert not data.duplicated(["trust_code", "year"]).any()
    # counts are summed, never lost: managers FTE is reported for every trust-year
    assert data["managers_fte"].sum() == pytest.approx(base["managers_fte"].sum(), rel=1e-12)
    # no_mergers leaves nothing to harmonise (so harmonise_to is n/a there)
    kept = M._asaria_sample("authors", "as_reported", "no_mergers", M._source_key())
    recoded, mapping = harmonise_trust_codes(kept, "latest")
    assert mapping.empty and (recoded["trust_code"] == kept["trust_code"]).all()
    balanced = M._asaria_sample("authors", "as_reported", "balanced", M._source_key())
    assert (balanced.groupby("trust_code")["year"].nunique() == 7).all()


@pytest.mark.realdata
def test_griffiths_published_spec_reproduces_the_replication(mirror):
    from icsresearch.replications import griffiths2016 as G

    res = M.run_replication_multiverse("griffiths2016", "small")
    staff = M._griffiths_staff(M._source_key())
    est = pd.concat(
        [G.fit_cross_section(G.build_cross_section(staff=staff)), G.fit_panel(G.build_panel(staff))]
    )
    want = {
        c.id: c.verdict
        for c in G.evaluate_claims(est)
        if c.id.startswith(("uni", "multi", "panel"))
    }
    pub = res.table[res.table["published"]].set_index("claim")
    assert pub["verdict"].to_dict() == want
    rn = est[(est.model == "univariate") & (est.term == "beds_per_rn")].iloc[0]
    assert pub.at["univariate:beds_per_rn", "estimate"] == rn["ratio"]
    assert (res.table["null"] == 1.0).all()
    # the spec curve of a key claim: one point per spec, the published one marked
    plot = res.plot("univariate:beds_per_rn")
    assert plot.summary["specs"] == len(res.specs) == 6
    assert plot.data["published"].sum() == 1 and plot.summary["log_scale"]
    assert list(plot.data["estimate"]) == sorted(plot.data["estimate"])
    assert "synthetic" not in " ".join(t.get_text() for t in plot.fig.texts).lower()
    plot.close()
