"""Scenario library API: list, read, download, upload (every bad input class), validate,
save, delete."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml

from tests.web.conftest import assert_clear_4xx

pytestmark = pytest.mark.web

BAD_INPUTS = Path(__file__).resolve().parents[1] / "scenario" / "bad_inputs"
SMALL = """\
id: tiny
name: Tiny talks
issues:
  - {id: deal, name: The deal, scale_min: 0, scale_max: 100, status_quo: 50}
actors:
  - {id: a, name: Alpha, capability: 60}
  - {id: b, name: Beta, capability: 40}
stances:
  - {actor: a, issue: deal, position: 20, salience: 80}
  - {actor: b, issue: deal, position: 90, salience: 60}
"""


def test_health_and_models(client):
    h = client.get("/api/health").json()
    assert h["status"] == "ok" and h["max_active_jobs"] >= 1
    models = {m["name"]: m for m in client.get("/api/models").json()}
    assert {"compromise", "expected_utility", "spatial"} <= set(models)
    assert "Q" in models["expected_utility"]["params"]
    assert models["expected_utility"]["params"]["Q"] == 1.0
    ens = models["ensemble"]["params"]  # defaults from the fitted record, not "undefined"
    assert ens["members"] == "('compromise', 'exchange')"
    assert ens["capability_multipliers"] == "{compromise: 30 entries, exchange: 30 entries}"


def test_list_and_get_bundled(client):
    rows = {r["id"]: r for r in client.get("/api/scenarios").json()}
    assert {"ukraine-2025", "ukraine-2025-alt", "emission-bdm1994"} <= set(rows)
    assert rows["ukraine-2025"]["origin"] == "bundled" and not rows["ukraine-2025"]["editable"]
    d = client.get("/api/scenarios/ukraine-2025").json()
    assert d["data"]["id"] == "ukraine-2025" and d["origin"] == "bundled"
    assert len(d["data"]["stances"]) == rows["ukraine-2025"]["stances"]


@pytest.mark.parametrize("sid", ["nope", "no-such-scenario.v2"])
def test_unknown_scenario_404(client, sid):
    msg = assert_clear_4xx(client.get(f"/api/scenarios/{sid}"), 404)
    assert "unknown scenario" in msg and "ukraine-2025" in msg


@pytest.mark.parametrize("sid", ["..%2F..%2Fetc%2Fpasswd", "%2E%2E", "a..b", "%2Fetc%2Fpasswd",
                                 "x%00y", "-lead", "a" * 80, "sp ace", "..%5C..%5Cwin"])
def test_bad_scenario_ids_never_touch_files(client, sid):
    for url in (f"/api/scenarios/{sid}", f"/api/scenarios/{sid}/yaml",
                f"/api/scenarios/{sid}/csv", f"/scenarios/{sid}"):
        assert_clear_4xx(client.get(url), 400, 404)
    assert_clear_4xx(client.put(f"/api/scenarios/{sid}", json=yaml.safe_load(SMALL)), 400, 404,
                     405)
    assert_clear_4xx(client.delete(f"/api/scenarios/{sid}"), 400, 404, 405)


def test_downloads(client):
    r = client.get("/api/scenarios/ukraine-2025/yaml")
    assert r.status_code == 200 and "id: ukraine-2025" in r.text
    r = client.get("/api/scenarios/emission-bdm1994/csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "#scenario" in r.text


def _upload(client, name: str, content: bytes, **form):
    return client.post("/api/scenarios/upload", files={"file": (name, content)},
                       data={k: str(v) for k, v in form.items()})


def test_upload_yaml_then_read_edit_delete(client):
    r = _upload(client, "tiny.yaml", SMALL.encode())
    assert r.status_code == 201, r.text
    assert r.json()["id"] == "tiny" and r.json()["origin"] == "user"
    assert client.get("/api/scenarios/tiny").json()["editable"]
    # same id again: refused unless overwrite
    assert "already exists" in assert_clear_4xx(_upload(client, "tiny.yaml", SMALL.encode()), 409)
    assert _upload(client, "tiny.yaml", SMALL.encode(), overwrite="true").status_code == 201
    # save under another id
    r = _upload(client, "tiny.yaml", SMALL.encode(), id="tiny-2")
    assert r.status_code == 201 and r.json()["id"] == "tiny-2"
    assert client.delete("/api/scenarios/tiny-2").status_code == 204
    assert_clear_4xx(client.delete("/api/scenarios/tiny-2"), 404)
    assert_clear_4xx(client.delete("/api/scenarios/ukraine-2025"), 409)


def test_upload_other_formats(client, shared_data):
    ktab = Path(__file__).resolve().parents[2] / "src/detente/data/ktab/dummyData_3Dim.csv"
    r = _upload(client, "dummy.csv", ktab.read_bytes(), id="ktab-dummy")
    assert r.status_code == 201, r.text
    table = client.get("/api/scenarios/emission-bdm1994/csv").content
    r = _upload(client, "emission.csv", table, id="emission-copy")
    assert r.status_code == 201, r.text
    decide = shared_data / "decide" / "sample_data.txt"
    if decide.is_file():
        r = _upload(client, "sample_data.txt", decide.read_bytes(), id="decide-sample")
        assert r.status_code in (201, 400, 413), r.text


@pytest.mark.parametrize("path", sorted(p for p in BAD_INPUTS.iterdir() if p.is_file()),
                         ids=lambda p: p.name)
def test_upload_malformed_corpus(client, path):
    """Every file of the malformed-input corpus: a 4xx naming the uploaded file, never a 500."""
    msg = assert_clear_4xx(_upload(client, path.name, path.read_bytes()), 400, 413, 415)
    assert str(client.app.state.detente.settings.data_dir) not in msg  # no server paths
    assert not list((client.app.state.detente.settings.data_dir / "tmp").iterdir())


def test_upload_bad_classes(client):
    m = assert_clear_4xx(_upload(client, "x.yaml", b"id: [\n"), 400)
    assert "x.yaml" in m and "line" in m
    assert "not allowed" in assert_clear_4xx(
        _upload(client, "evil.yaml", b"!!python/object/apply:os.system ['echo hi']\n"), 400)
    assert "binary" in assert_clear_4xx(_upload(client, "b.yaml", b"\x00\x01\x02garbage"), 400)
    assert "empty" in assert_clear_4xx(_upload(client, "e.yaml", b""), 400)
    assert "unsupported file type" in assert_clear_4xx(_upload(client, "s.exe", b"MZ"), 415)
    assert "unsupported" in assert_clear_4xx(_upload(client, "noext", SMALL.encode()), 415)
    big = b"# padding\n" * 300_000  # 3 MB
    assert "MB" in assert_clear_4xx(_upload(client, "big.yaml", big), 413)
    # a path in the client's file name is ignored; the id rule still applies to the form field
    r = _upload(client, "../../etc/passwd.yaml", SMALL.encode())
    assert r.status_code == 201 and r.json()["id"] == "tiny"
    assert_clear_4xx(_upload(client, "t.yaml", SMALL.encode(), id="../escape"), 400)
    assert "bundled" in assert_clear_4xx(
        _upload(client, "t.yaml", SMALL.encode(), id="ukraine-2025"), 409)
    # missing file field
    assert_clear_4xx(client.post("/api/scenarios/upload", data={"id": "x"}), 422)


def test_upload_size_limits(tmp_path):
    from tests.web.conftest import make_client

    with make_client(tmp_path, max_actors=1) as c:
        m = assert_clear_4xx(_upload(c, "tiny.yaml", SMALL.encode()), 413)
        assert "2 actors" in m and "at most 1" in m


def _data(client, sid="ukraine-2025"):
    return client.get(f"/api/scenarios/{sid}").json()["data"]


def test_validate_maps_errors_to_cells(client):
    data = _data(client)
    assert client.post("/api/scenarios/validate", json=data).json()["ok"]
    k = 3
    data["stances"][k]["salience"] = 150
    data["actors"][1]["capability"] = -5
    r = client.post("/api/scenarios/validate", json=data).json()
    assert not r["ok"]
    by_path = {e["path"]: e for e in r["errors"]}
    e = by_path[f"stances[{k}].salience"]
    assert e["section"] == "stances" and e["field"] == "salience"
    assert (e["actor"], e["issue"]) == (data["stances"][k]["actor"], data["stances"][k]["issue"])
    assert "100" in e["message"]
    a = by_path["actors[1].capability"]
    assert a["section"] == "actors" and a["index"] == 1 and a["id"] == data["actors"][1]["id"]


def test_validate_cross_field_errors(client):
    data = _data(client)
    data["stances"][0]["position"] = 1000  # outside the scale: a cross-field rule
    data["stances"][1]["actor"] = "ghost"
    r = client.post("/api/scenarios/validate", json=data).json()
    paths = {e["path"]: e for e in r["errors"]}
    assert "stances[0].position" in paths and paths["stances[0].position"]["field"] == "position"
    assert "stances[1].actor" in paths and "ghost" in paths["stances[1].actor"]["message"]
    r = client.post("/api/scenarios/validate", json={"id": "x"}).json()
    assert not r["ok"] and {e["path"] for e in r["errors"]} >= {"name", "issues", "actors"}


def test_validate_bad_bodies(client):
    assert_clear_4xx(client.post("/api/scenarios/validate", content=b"{not json",
                                 headers={"content-type": "application/json"}), 422)
    assert_clear_4xx(client.post("/api/scenarios/validate", json=[1, 2]), 422)
    data = _data(client)
    data["stances"] = data["stances"] * 30  # 4080 stances > 2500
    assert_clear_4xx(client.post("/api/scenarios/validate", json=data), 413)


def test_put_saves_and_reports_cells(client):
    data = _data(client)
    assert "bundled" in assert_clear_4xx(client.put("/api/scenarios/ukraine-2025", json=data), 409)
    data["stances"][0]["salience"] = 12.5
    r = client.put("/api/scenarios/ukr-edit", json=data)
    assert r.status_code == 200, r.text
    saved = _data(client, "ukr-edit")
    assert saved["id"] == "ukr-edit" and saved["stances"][0]["salience"] == 12.5
    data["stances"][2]["salience"] = -1
    r = client.put("/api/scenarios/ukr-edit", json=data)
    assert r.status_code == 422
    body = r.json()
    assert "stances[2].salience" in body["detail"]
    assert body["errors"][0]["actor"] == data["stances"][2]["actor"]


def test_csv_export_is_spreadsheet_safe(client):
    data = yaml.safe_load(SMALL)
    data["name"] = "=HYPERLINK(\"x\")"
    data["actors"][0]["name"] = "+cmd|' /C calc'!A0"
    data["actors"][1]["name"] = "@SUM(1)"
    assert client.put("/api/scenarios/formula", json=data).status_code == 200
    text = client.get("/api/scenarios/formula/csv").text
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert not any(c[:1] in ("=", "+", "@") for c in cells), cells
    assert "'=HYPERLINK(\"x\")" in cells and "'+cmd|' /C calc'!A0" in cells
