"""Hypothesis strategies generating valid scenarios (shared by property tests)."""

from __future__ import annotations

from hypothesis import strategies as st

from detente.scenario.schema import Actor, Anchor, Issue, Scenario, Stance

_ids = st.from_regex(r"[a-z][a-z0-9_\-]{0,11}", fullmatch=True)
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
                min_size=1, max_size=20).map(str.strip).filter(bool)
_finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def issues(draw, issue_id: str) -> Issue:
    lo = draw(st.floats(-1000, 1000, allow_nan=False))
    width = draw(st.floats(0.5, 1000, allow_nan=False))
    hi = lo + width
    anchors = draw(st.lists(st.floats(lo, hi, allow_nan=False), max_size=3, unique=True))
    sq = draw(st.none() | st.floats(lo, hi, allow_nan=False))
    return Issue(id=issue_id, name=draw(_text), scale_min=lo, scale_max=hi,
                 units=draw(st.none() | _text), status_quo=sq,
                 anchors=tuple(Anchor(value=a, label=draw(_text)) for a in anchors))


@st.composite
def scenarios(draw, max_actors: int = 6, max_issues: int = 4) -> Scenario:
    actor_ids = draw(st.lists(_ids, min_size=1, max_size=max_actors, unique=True))
    issue_ids = draw(st.lists(_ids, min_size=1, max_size=max_issues, unique=True))
    iss = [draw(issues(i)) for i in issue_ids]
    actors = [Actor(id=a, name=draw(_text), capability=draw(st.floats(0, 1e6, allow_nan=False)))
              for a in actor_ids]
    stances = []
    for a in actor_ids:
        for issue in iss:
            if draw(st.booleans()) or (a == actor_ids[0]):
                stances.append(Stance(
                    actor=a, issue=issue.id,
                    position=draw(st.floats(issue.scale_min, issue.scale_max, allow_nan=False)),
                    salience=draw(st.floats(0, 100, allow_nan=False)),
                    capability=draw(st.none() | st.floats(0, 1e6, allow_nan=False))))
    return Scenario(id=draw(_ids), name=draw(_text), issues=tuple(iss), actors=tuple(actors),
                    stances=tuple(stances))
