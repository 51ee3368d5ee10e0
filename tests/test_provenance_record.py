"""The typed provenance record: three-valued synthetic flag, round trips, combination."""

from __future__ import annotations

from icsresearch.provenance import InputFile, Provenance

RTT = {"source": "hm_rtt", "path": "/x/RTT.csv", "sha256": "a" * 64, "verified": True}


def test_a_record_round_trips_through_its_dict():
    p = Provenance.record(synthetic=False, inputs=[RTT], parameters={"footprint": 2022})
    assert Provenance.from_dict(p.to_dict()) == p
    assert p.to_dict()["synthetic"] is False and p.inputs == (InputFile.from_mapping(RTT),)


def test_unknown_provenance_never_claims_an_nhs_source():
    note = Provenance.unknown().source_note
    assert "unknown" in note and "NHS" not in note
    # an old manifest dict without the flag is unknown, not real
    assert Provenance.from_dict({"inputs": [RTT]}).synthetic is None


def test_combining_is_synthetic_if_any_part_is_and_real_only_if_all_are():
    real = Provenance.record(synthetic=False, inputs=[RTT])
    demo = Provenance.record(synthetic=True)
    assert real.combine(demo).synthetic is True
    assert real.combine(Provenance.unknown()).synthetic is None
    both = real.combine(Provenance.record(synthetic=False, inputs=[RTT]))
    assert both.synthetic is False and len(both.inputs) == 1  # the same file once


def test_unverified_inputs_are_named_in_the_note():
    mine = dict(RTT, verified=False)
    p = Provenance.record(synthetic=False, inputs=[mine])
    assert p.unverified and "not matching the registry" in p.source_note
    assert "synthetic demo data" in Provenance.record(synthetic=True).source_note


def test_of_reads_every_shape_the_package_makes():
    import pandas as pd

    from icsresearch.provenance import of

    reader = pd.DataFrame({"x": [1]})
    reader.attrs = dict(RTT)
    assert of(reader).synthetic is False and of(reader).inputs[0].source == "hm_rtt"
    demo = pd.DataFrame({"x": [1]})
    demo.attrs = {"synthetic": True, "provenance": {"inputs": []}}
    assert of(demo).synthetic is True
    bare = pd.DataFrame({"x": [1]})
    assert of(bare).synthetic is None and "unknown" in of(bare).source_note
    assert of({"inputs": [RTT], "synthetic": False}).synthetic is False
