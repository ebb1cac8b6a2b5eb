"""Scenarios round-trip through canonical YAML and the wide CSV table unchanged."""

from __future__ import annotations

from hypothesis import given, settings

from detente.scenario.formats import bundled_scenarios, read_any, write_any
from detente.scenario.io_table import dump_table, read_table_text
from detente.scenario.io_yaml import dump_yaml, load_yaml_text, scenario_from_data

from .strategies import scenarios


def _from_yaml(text: str):
    data, node = load_yaml_text(text)
    return scenario_from_data(data, "<yaml>", node)


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_yaml_roundtrip(scenario) -> None:
    text = dump_yaml(scenario)
    again = _from_yaml(text)
    assert again == scenario
    assert dump_yaml(again) == text


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_table_roundtrip(scenario) -> None:
    text = dump_table(scenario)
    again = read_table_text(text, default_id=scenario.id)
    assert again == scenario
    assert dump_table(again) == text


def test_bundled_scenarios_roundtrip_and_convert(tmp_path) -> None:
    bundled = bundled_scenarios()
    assert "emission-bdm1994" in bundled
    for name in bundled:
        s = read_any(name)
        assert _from_yaml(dump_yaml(s)) == s
        out = tmp_path / f"{name}.yaml"
        write_any(s, out)
        assert read_any(out) == s
        csv_out = tmp_path / f"{name}.csv"
        write_any(s, csv_out)
        back = read_any(csv_out)
        assert back.issue_ids == s.issue_ids and back.actor_ids == s.actor_ids
        assert {(x.actor, x.issue, x.position, x.salience) for x in back.stances} == {
            (x.actor, x.issue, x.position, x.salience) for x in s.stances}


def test_json_schema_export_names_every_section() -> None:
    from detente.scenario.schema import Scenario

    schema = Scenario.model_json_schema()
    for key in ("issues", "actors", "stances", "relations", "dynamics", "sources"):
        assert key in schema["properties"]
