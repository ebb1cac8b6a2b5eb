"""Structural edits of user scenarios: add and remove issues and actors, set and remove one
stance. Every change goes through the scenario schema; a problem comes back with its editor
cell (and the added row as target), nothing is saved, and bundled scenarios stay read-only."""

from __future__ import annotations

import pytest
import yaml

from tests.web.conftest import assert_clear_4xx, make_client, run_job
from tests.web.test_scenarios_api import SMALL

pytestmark = pytest.mark.web


@pytest.fixture
def tiny(client):
    """The small two-actor scenario saved as the user scenario 'tiny'."""
    assert client.put("/api/scenarios/tiny", json=yaml.safe_load(SMALL)).status_code == 200
    return client


@pytest.fixture
def ukr(client):
    """A user copy of ukraine-2025 (factions, relations, a conflict)."""
    data = client.get("/api/scenarios/ukraine-2025").json()["data"]
    assert client.put("/api/scenarios/ukr", json=data).status_code == 200
    return client


def _data(client, sid):
    return client.get(f"/api/scenarios/{sid}").json()["data"]


def test_add_issue_actor_and_stances_then_forecast(tiny):
    c = tiny
    r = c.post("/api/scenarios/tiny/issues", json={
        "id": "water", "name": "Water rights", "scale_min": 0, "scale_max": 10,
        "status_quo": 4})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["added"] == {"issues": 1} and body["editable"]
    assert body["data"]["issues"][1] == {"id": "water", "name": "Water rights",
                                         "scale_min": 0.0, "scale_max": 10.0,
                                         "status_quo": 4.0}
    r = c.post("/api/scenarios/tiny/actors", json={"id": "c", "name": "Gamma",
                                                   "capability": 20})
    assert r.status_code == 201, r.text
    assert r.json()["added"] == {"actors": 2}
    # a faction of the new actor
    r = c.post("/api/scenarios/tiny/actors", json={"id": "c_hawks", "name": "Gamma hawks",
                                                   "capability": 5, "parent": "c",
                                                   "kind": "faction"})
    assert r.status_code == 201, r.text
    # stance cells for the new actor x issue pairs: added (201), then replaced (200)
    for actor, issue, pos in (("a", "water", 2), ("b", "water", 9), ("c", "water", 5),
                              ("c", "deal", 40)):
        r = c.put(f"/api/scenarios/tiny/stances/{actor}/{issue}",
                  json={"position": pos, "salience": 50})
        assert r.status_code == 201, r.text
    r = c.put("/api/scenarios/tiny/stances/c/water", json={"position": 6, "salience": 70,
                                                            "capability": 10})
    assert r.status_code == 200, r.text
    d = _data(c, "tiny")
    st = {(s["actor"], s["issue"]): s for s in d["stances"]}
    assert st[("c", "water")] == {"actor": "c", "issue": "water", "position": 6.0,
                                  "salience": 70.0, "capability": 10.0}
    assert [a["id"] for a in d["actors"]] == ["a", "b", "c", "c_hawks"]
    # the edited scenario runs
    j = run_job(c, scenario="tiny", models=["compromise", "weighted_median"])
    assert j["status"] == "done", j
    run = c.get(f"/api/runs/{j['run_id']}").json()
    assert set(run["forecasts"][0]["outcome"]) == {"deal", "water"}
    # the editor page shows the new row, column and cells
    page = c.get("/scenarios/tiny").text
    assert 'data-actor="c_hawks"' in page and 'data-issue="water"' in page
    assert 'id="add-issue-form"' in page and 'id="add-actor-form"' in page


def test_add_errors_name_their_field(tiny):
    c = tiny
    before = _data(c, "tiny")
    post = lambda what, **b: c.post(f"/api/scenarios/tiny/{what}", json=b)  # noqa: E731
    r = post("issues", id="water", name="Water", scale_min=0, scale_max=10, status_quo=50)
    assert r.status_code == 422
    body = r.json()
    assert body["target"] == {"section": "issues", "index": 1}
    e = body["errors"][0]
    assert (e["section"], e["index"], e["field"]) == ("issues", 1, "status_quo")
    assert "outside the scale" in e["message"] and "status_quo" in body["detail"]
    e = post("issues", id="w", name="W", scale_min=10, scale_max=0).json()["errors"][0]
    assert e["field"] == "scale_max"
    e = post("issues", id="deal", name="Again").json()["errors"][0]
    assert (e["path"], e["field"]) == ("issues[1].id", "id") and "duplicate" in e["message"]
    e = post("issues", id="bad id!", name="x").json()["errors"][0]
    assert e["field"] == "id"
    r = post("actors", id="x", name="", kind="faction")
    fields = {e["field"] for e in r.json()["errors"]}
    assert r.status_code == 422 and {"name", "capability"} <= fields
    e = post("actors", id="y", name="Y", capability=1, kind="faction").json()["errors"][0]
    assert e["field"] == "parent" and "faction needs a parent" in e["message"]
    e = post("actors", id="y", name="Y", capability=1, parent="ghost").json()["errors"][0]
    assert e["path"] == "actors[2].parent" and "ghost" in e["message"]
    e = post("actors", id="y", name="Y", capability=1, kind="emperor").json()["errors"][0]
    assert e["field"] == "kind"
    # a faction worth more than its parent: the error is at the parent's capability
    r = post("actors", id="a_big", name="Big", capability=500, parent="a", kind="faction")
    e = r.json()["errors"][0]
    assert r.json()["target"]["index"] == 2
    assert e["path"] == "actors[0].capability" and e["id"] == "a"
    e = c.put("/api/scenarios/tiny/stances/a/deal", json={"position": 500, "salience": 10}
              ).json()["errors"][0]
    assert (e["field"], e["actor"], e["issue"]) == ("position", "a", "deal")
    e = c.put("/api/scenarios/tiny/stances/b/deal", json={"position": 5}).json()["errors"][0]
    assert e["field"] == "salience"
    # wrong types in the body: FastAPI's 422 with a message
    assert_clear_4xx(post("actors", id="z", name="Z", capability="lots"), 422)
    assert_clear_4xx(post("issues", id="z", name="Z", colour="red"), 422)
    assert _data(c, "tiny") == before  # nothing was saved


def test_remove_actor_with_its_inputs(ukr):
    c = ukr
    d = _data(c, "ukr")
    n_cn = sum(1 for s in d["stances"] if s["actor"] == "cn")
    r = c.delete("/api/scenarios/ukr/actors/cn")
    assert r.status_code == 200, r.text
    assert r.json()["removed"]["actors"] == 1 and r.json()["removed"]["stances"] == n_cn
    after = _data(c, "ukr")
    assert "cn" not in {a["id"] for a in after["actors"]}
    assert not any(s["actor"] == "cn" for s in after["stances"])
    assert not any("cn" in (x["source"], x["target"]) for x in after.get("relations", []))
    # a parent of factions and a side of the war cannot go silently: 422 beside those cells
    r = c.delete("/api/scenarios/ukr/actors/ru")
    assert r.status_code == 422
    errs = r.json()["errors"]
    parents = [e for e in errs if e["path"].endswith(".parent")]
    assert parents and all(e["section"] == "actors" and e["field"] == "parent" for e in parents)
    assert {e["id"] for e in parents} >= {"ru_kremlin"}
    assert any(e["path"].startswith("conflict.sides") for e in errs)
    assert "ru" in {a["id"] for a in _data(c, "ukr")["actors"]}  # unchanged
    # a faction itself can go; then its stances are gone too
    r = c.delete("/api/scenarios/ukr/actors/ru_public")
    assert r.status_code == 200 and "ru_public" not in {
        a["id"] for a in r.json()["data"]["actors"]}
    assert "unknown actor" in assert_clear_4xx(c.delete("/api/scenarios/ukr/actors/ghost"), 404)


def test_remove_issue_with_its_stances(ukr):
    c = ukr
    d = _data(c, "ukr")
    n = sum(1 for s in d["stances"] if s["issue"] == "arctic")
    r = c.delete("/api/scenarios/ukr/issues/arctic")
    assert r.status_code == 200, r.text
    assert r.json()["removed"]["stances"] == n
    after = r.json()["data"]
    assert "arctic" not in {i["id"] for i in after["issues"]}
    assert not any(s["issue"] == "arctic" for s in after["stances"])
    for block in after.get("ratification", []):
        assert "arctic" not in block.get("commitments", {})
        for rat in block.get("ratifiers", []):
            assert all("arctic" not in rat.get(k, {}) for k in ("ideal", "reversion",
                                                               "salience"))
    # the issue the fighting decides stays until the conflict is changed
    r = c.delete("/api/scenarios/ukr/issues/donbas")
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "conflict.issue"
    assert "unknown issue" in assert_clear_4xx(c.delete("/api/scenarios/ukr/issues/mars"), 404)
    j = run_job(c, scenario="ukr", models=["compromise"])
    assert j["status"] == "done", j


def test_remove_stance_and_last_issue(tiny):
    c = tiny
    assert c.delete("/api/scenarios/tiny/stances/a/deal").status_code == 200
    assert "no stance" in assert_clear_4xx(c.delete("/api/scenarios/tiny/stances/a/deal"), 404)
    r = c.delete("/api/scenarios/tiny/stances/b/deal")  # the last stance: the schema says no
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "stances"
    r = c.delete("/api/scenarios/tiny/issues/deal")
    assert r.status_code == 422
    assert {e["path"] for e in r.json()["errors"]} >= {"issues"}
    assert_clear_4xx(c.put("/api/scenarios/tiny/stances/ghost/deal",
                           json={"position": 1, "salience": 1}), 404)
    assert_clear_4xx(c.put("/api/scenarios/tiny/stances/a/mars",
                           json={"position": 1, "salience": 1}), 404)


def test_bundled_unknown_and_hostile_ids(client):
    a = {"id": "tr", "name": "Turkey", "capability": 10}
    i = {"id": "w", "name": "W"}
    s = {"position": 1, "salience": 1}
    for r in (client.post("/api/scenarios/ukraine-2025/actors", json=a),
              client.post("/api/scenarios/ukraine-2025/issues", json=i),
              client.delete("/api/scenarios/ukraine-2025/actors/ru"),
              client.delete("/api/scenarios/ukraine-2025/issues/arctic"),
              client.put("/api/scenarios/ukraine-2025/stances/ru/arctic", json=s),
              client.delete("/api/scenarios/ukraine-2025/stances/ru/arctic")):
        assert "save a copy" in assert_clear_4xx(r, 409)
    assert "unknown scenario" in assert_clear_4xx(
        client.post("/api/scenarios/ghost/actors", json=a), 404)
    for sid in ("..%2F..%2Fetc", "a..b", "-x"):
        assert_clear_4xx(client.post(f"/api/scenarios/{sid}/issues", json=i), 400, 404)
    assert client.put("/api/scenarios/tiny", json=yaml.safe_load(SMALL)).status_code == 200
    for bad in ("..%2Fx", "-x", "a%00b", "x" * 80):
        assert_clear_4xx(client.delete(f"/api/scenarios/tiny/actors/{bad}"), 400, 404, 422)
        assert_clear_4xx(client.delete(f"/api/scenarios/tiny/issues/{bad}"), 400, 404, 422)
        assert_clear_4xx(client.put(f"/api/scenarios/tiny/stances/{bad}/deal", json=s),
                         400, 404, 422)
    assert_clear_4xx(client.post("/api/scenarios/tiny/actors", content=b"[",
                                 headers={"content-type": "application/json"}), 422)
    # cross-site writes are refused like every other write
    assert_clear_4xx(client.post("/api/scenarios/tiny/actors", json=a,
                                 headers={"origin": "http://evil.example"}), 403)


def test_size_limits_apply_to_additions(tmp_path):
    with make_client(tmp_path, max_actors=2, max_issues=1) as c:
        assert c.put("/api/scenarios/tiny", json=yaml.safe_load(SMALL)).status_code == 200
        m = assert_clear_4xx(c.post("/api/scenarios/tiny/actors",
                                    json={"id": "c", "name": "C", "capability": 1}), 413)
        assert "at most 2" in m
        assert_clear_4xx(c.post("/api/scenarios/tiny/issues", json={"id": "w", "name": "W"}),
                         413)
