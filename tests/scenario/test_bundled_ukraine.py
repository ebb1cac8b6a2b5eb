"""The bundled Ukraine scenarios and the US-draft proposal: valid, evidenced, paraphrased.

ukraine-2025 encodes one commentator's contested reading (seed text in the shared seed folder);
ukraine-2025-alt a mainstream Western reading on the same ids and scales. These tests guard the
provenance rules: every number carries evidence citing a declared source, locators point to real
paragraphs of the seed, and no run of 8 consecutive words from the seed text is copied.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml

from detente.deals.proposal import load_proposal
from detente.scenario.schema import Scenario
from tests.conftest import SHARED_DATA

DATA = Path(__file__).resolve().parents[2] / "src" / "detente" / "data"
SCENARIOS = {name: DATA / "scenarios" / f"{name}.yaml"
             for name in ("ukraine-2025", "ukraine-2025-alt")}
PROPOSAL = DATA / "proposals" / "us-draft-2025.yaml"
README = DATA / "scenarios" / "README.md"
OWN_FILES = [*SCENARIOS.values(), PROPOSAL, README]
SEED = SHARED_DATA.parent / "seed" / "radun-russia-between-carrot-and-stick.txt"
SHINGLE = 8


def _raw(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def scenarios() -> dict[str, Scenario]:
    return {name: Scenario.model_validate(_raw(p)) for name, p in SCENARIOS.items()}


@pytest.fixture(scope="module")
def seed_lines() -> list[str]:
    if not SEED.is_file():
        raise RuntimeError(f"seed text not found at {SEED}; set DETENTE_SHARED_DATA so that "
                           f"<shared>/../seed holds it")
    return SEED.read_text(encoding="utf-8").splitlines()


# -- text helpers ------------------------------------------------------------------------
def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return re.findall(r"[a-z0-9]+", text)


def _shingles(words: list[str], n: int = SHINGLE) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def _strings_tree(obj: Any) -> list[str]:
    # walk with knowledge of the enclosing key so that only sources[*].title is skipped
    out: list[str] = []

    def walk(node: Any, parent_key: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if parent_key == "sources" and k == "title":
                    continue
                walk(v, k if isinstance(v, list) else parent_key)
        elif isinstance(node, list):
            for v in node:
                walk(v, parent_key)
        elif isinstance(node, str):
            out.append(node)

    walk(obj, "")
    return out


def _all_evidence(raw: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(where, evidence) for every evidence entry anywhere in a parsed scenario/proposal."""
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for e in node.get("evidence", []) or []:
                found.append((where, e))
            for k, v in node.items():
                if k != "evidence":
                    walk(v, f"{where}.{k}")
        elif isinstance(node, list):
            for n, v in enumerate(node):
                walk(v, f"{where}[{n}]")

    walk(raw, "")
    return found


# -- validity ----------------------------------------------------------------------------
def test_both_variants_validate_and_have_sensible_size(scenarios: dict[str, Scenario]) -> None:
    for s in scenarios.values():
        assert 12 <= len(s.actors) <= 16
        assert len(s.issues) == 11
        assert s.conflict is not None and s.conflict.issue == "donbas"
        assert s.conflict.sides == ("ru", "ua")
        assert s.view and "not detente" in (s.description or "")


def test_top_level_key_order() -> None:
    order = ["schema_version", "id", "name", "description", "view", "sources", "issues", "actors",
             "stances", "relations", "dynamics", "conflict", "events", "ratification", "meta"]
    for p in SCENARIOS.values():
        assert list(_raw(p)) == order, p.name


def test_same_ids_and_scales_in_both_variants(scenarios: dict[str, Scenario]) -> None:
    a, b = scenarios["ukraine-2025"], scenarios["ukraine-2025-alt"]
    assert a.issue_ids == b.issue_ids
    assert set(a.actor_ids) == set(b.actor_ids)
    for i in a.issues:
        j = b.issue(i.id)
        assert (i.scale_min, i.scale_max, i.status_quo, i.anchors) == \
               (j.scale_min, j.scale_max, j.status_quo, j.anchors)


def test_variants_differ_on_inputs(scenarios: dict[str, Scenario]) -> None:
    a, b = scenarios["ukraine-2025"], scenarios["ukraine-2025-alt"]
    caps = [x for x in a.actor_ids if a.actor(x).capability != b.actor(x).capability]
    moved = [(s.actor, s.issue) for s in a.stances
             if (t := b.stance(s.actor, s.issue)) is not None
             and (t.position, t.salience) != (s.position, s.salience)]
    assert len(caps) >= 5 and len(moved) >= 30
    da = {d.actor: d for d in a.dynamics}
    db = {d.actor: d for d in b.dynamics}
    assert (da["ru"].monthly_cost, da["ru"].drift) != (db["ru"].monthly_cost, db["ru"].drift)
    ties_a = {(r.source, r.target) for r in a.relations}
    assert ties_a != {(r.source, r.target) for r in b.relations}


def test_main_parties_cover_main_issues(scenarios: dict[str, Scenario]) -> None:
    main_issues = ["donbas", "strategic_directions", "znpp", "nato_membership",
                   "security_guarantees", "sanctions", "frozen_assets", "reconstruction"]
    parties = ["ru", "ua", "us", "us_pragmatic", "us_interventionist", "uk", "eu",
               "eu_mainstream", "eu_orban_fico", "ru_kremlin"]
    for s in scenarios.values():
        for a in parties:
            for i in main_issues:
                assert s.stance(a, i) is not None, f"{s.id}: {a} has no stance on {i}"


def test_factions_and_red_lines(scenarios: dict[str, Scenario]) -> None:
    for s in scenarios.values():
        factions = {a.id: a.parent for a in s.actors if a.kind == "faction"}
        assert {"us", "eu", "ru"} == set(factions.values())
        # territory and guarantees are red lines for both belligerents
        for actor in ("ru", "ua"):
            for issue in ("donbas", "security_guarantees"):
                st = s.stance(actor, issue)
                assert st is not None and st.red_line is not None
        # the low end favours Russia on every issue
        for iss in s.issues:
            ru = s.stance("ru", iss.id)
            assert ru is not None and ru.position <= 45
        assert {r.principal for r in s.ratification} >= {"ru", "ua", "us"}


def test_war_costs_follow_the_documented_conversion(scenarios: dict[str, Scenario]) -> None:
    lam = {"ukraine-2025": {"ru": 0.0004, "ua": 0.0008},
           "ukraine-2025-alt": {"ru": 0.00027, "ua": 0.0008}}
    for name, s in scenarios.items():
        assert s.meta["lambda_per_thousand_casualties"] == lam[name]
        for d in s.dynamics:
            if d.actor in ("ru", "ua"):
                assert d.casualties_per_month is not None
                k = lam[name][d.actor] * d.casualties_per_month / 1000
                assert d.monthly_cost == pytest.approx(k, abs=5e-4)
    # the seed's figure: 25-30 thousand a month on each side
    for d in scenarios["ukraine-2025"].dynamics:
        if d.actor in ("ru", "ua"):
            assert 25000 <= (d.casualties_per_month or 0) <= 30000


# -- evidence ----------------------------------------------------------------------------
def test_every_input_carries_evidence(scenarios: dict[str, Scenario]) -> None:
    for s in scenarios.values():
        groups = [("actor", s.actors), ("stance", s.stances), ("relation", s.relations),
                  ("dynamics", s.dynamics), ("issue", s.issues), ("event", s.events),
                  ("ratification", s.ratification)]
        for kind, items in groups:
            for item in items:
                assert item.evidence, f"{s.id}: {kind} {item!r:.80} has no evidence"
        for r in s.ratification:
            for k in r.ratifiers:
                assert k.evidence, f"{s.id}: ratifier {k.id} of {r.principal} has no evidence"
        assert s.conflict is not None and s.conflict.evidence


def test_every_evidence_cites_a_declared_source() -> None:
    for p in [*SCENARIOS.values(), PROPOSAL]:
        raw = _raw(p)
        declared = {src["id"] for src in raw.get("sources", [])}
        evidence = _all_evidence(raw)
        assert evidence, p.name
        for where, e in evidence:
            assert e["source"] in declared, f"{p.name}{where}: unknown source {e['source']!r}"
            assert e.get("paraphrase"), f"{p.name}{where}: empty paraphrase"


def test_seed_locators_point_to_real_paragraphs(seed_lines: list[str]) -> None:
    n_paras = sum(1 for line in seed_lines if line.strip())
    for p in (SCENARIOS["ukraine-2025"], PROPOSAL):
        for where, e in _all_evidence(_raw(p)):
            if e["source"] != "radun-2025":
                continue
            m = re.fullmatch(r"para (\d+)", str(e.get("locator", "")))
            assert m, f"{p.name}{where}: locator {e.get('locator')!r} is not 'para N'"
            n = int(m.group(1))
            # para 1 is the title line and the last line is the byline: cite the body (2..n-1)
            assert 2 <= n <= n_paras - 1, f"{p.name}{where}: para {n} is not a body paragraph"


def test_no_quotation_marks_in_paraphrases() -> None:
    for p in [*SCENARIOS.values(), PROPOSAL]:
        for where, e in _all_evidence(_raw(p)):
            assert not re.search(r"[\"\u201c\u201d\u00ab\u00bb]", e["paraphrase"]), \
                f"{p.name}{where}: paraphrases must not quote"


def test_nothing_copied_from_the_seed(seed_lines: list[str]) -> None:
    body = "\n".join(seed_lines[1:])        # para 2 onwards (the title is checked separately)
    body_shingles = _shingles(_words(body))
    all_shingles = body_shingles | _shingles(_words(seed_lines[0]))
    assert len(body_shingles) > 1000
    for p in OWN_FILES:
        text = p.read_text(encoding="utf-8")
        # the raw file (comments included) against the body
        hits = _shingles(_words(text)) & body_shingles
        assert not hits, f"{p.name} copies seed wording: {' '.join(sorted(hits)[0])!r}"
        # parsed values, minus the bibliographic title in sources, against body and title
        if p.suffix == ".yaml":
            for s in _strings_tree(_raw(p)):
                hits = _shingles(_words(s)) & all_shingles
                assert not hits, f"{p.name} copies seed wording: {' '.join(sorted(hits)[0])!r}"


def test_shingle_check_catches_a_copied_sentence(seed_lines: list[str]) -> None:
    shingles = _shingles(_words("\n".join(seed_lines[1:])))
    copied = " ".join(seed_lines[3].split()[:10])
    assert _shingles(_words(f"prefix {copied} suffix")) & shingles
    assert not _shingles(_words("Moscow needs gains it can sell at home as a win.")) & shingles


# -- the US draft proposal ---------------------------------------------------------------
def test_proposal_covers_every_issue(scenarios: dict[str, Scenario]) -> None:
    prop = load_proposal(PROPOSAL)
    assert prop.scenario == "ukraine-2025"
    assert 0 < prop.guarantee <= 1
    for s in scenarios.values():
        assert set(prop.terms) == set(s.issue_ids)
        point = prop.resolve(s)
        assert prop.unchanged(s) == []
        for iss in s.issues:
            assert iss.scale_min <= point[iss.id] <= iss.scale_max


def test_proposal_matches_the_described_draft(scenarios: dict[str, Scenario]) -> None:
    t = load_proposal(PROPOSAL).terms
    s = scenarios["ukraine-2025"]
    sq = {i.id: i.status_quo for i in s.issues}
    assert t["donbas"] < sq["donbas"]                               # Russia gets the rest of Donbas
    assert t["strategic_directions"] > sq["strategic_directions"]   # ...but leaves Kharkiv etc.
    assert t["nato_membership"] < sq["nato_membership"]             # no membership
    assert t["security_guarantees"] > sq["security_guarantees"]     # strong US guarantees
    assert t["sanctions"] < sq["sanctions"]                         # gradual easing
    for energy in ("us_energy_stakes", "pipelines", "arctic"):
        assert t[energy] > sq[energy]
    assert t["frozen_assets"] > sq["frozen_assets"]
