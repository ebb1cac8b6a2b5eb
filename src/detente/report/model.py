"""The report as plain data: everything a renderer needs, nothing it has to compute.

A :class:`Report` is assembled by :mod:`detente.report.build` (where every computation lives)
and read by the renderers (HTML, Markdown, terminal) and the figure functions in
:mod:`detente.report.plots`, which only format. Every part is a frozen pydantic model of plain
numbers and strings, so a report round-trips through JSON (``Report.model_dump_json`` /
``Report.model_validate_json``) and tests can build one by hand from fixed numbers.

Sections that a run did not produce are ``None`` (or empty lists); ``notes`` says why, so a
reader sees "Monte Carlo: not run (use --montecarlo N)" rather than a silent gap.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ActorInfo",
    "AgreementSet",
    "AnchorInfo",
    "AttritionTimeline",
    "BacktestScores",
    "BacktestRow",
    "BargainEdge",
    "BargainNetwork",
    "EvidenceRow",
    "Fan",
    "IssueInfo",
    "IssuePower",
    "ModelForecast",
    "ModelRun",
    "MonteCarloSummary",
    "Move",
    "PowerBar",
    "ProposalEvaluation",
    "ProposalVote",
    "QuadMap",
    "QuadPoint",
    "Report",
    "ReportProvenance",
    "ScenarioInfo",
    "SensitivityFactor",
    "SensitivityResult",
    "StanceInfo",
    "WinSet",
]


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ---------------------------------------------------------------------------------------
# the scenario as the reader needs it


class AnchorInfo(_Data):
    value: float
    label: str


class IssueInfo(_Data):
    id: str
    name: str
    scale_min: float = 0.0
    scale_max: float = 100.0
    units: str | None = None
    anchors: list[AnchorInfo] = []
    status_quo: float | None = None
    description: str | None = None

    @property
    def width(self) -> float:
        return self.scale_max - self.scale_min

    def label_for(self, value: float) -> str:
        """Nearest anchor's label (``~ label`` when not exactly on it); '' without anchors."""
        if not self.anchors or value != value:  # NaN
            return ""
        nearest = min(self.anchors, key=lambda a: abs(a.value - value))
        if abs(nearest.value - value) <= 1e-9 * max(1.0, self.width):
            return nearest.label
        return f"~ {nearest.label}"


class ActorInfo(_Data):
    id: str
    name: str
    kind: str = "state"
    capability: float = 0.0
    parent: str | None = None


class StanceInfo(_Data):
    actor: str
    issue: str
    position: float
    salience: float  # 0-100 as written in the scenario
    capability: float  # effective: the stance's own, else the actor's
    red_line: float | None = None
    acceptable: tuple[float, float] | None = None


class ScenarioInfo(_Data):
    id: str
    name: str
    description: str | None = None
    view: str | None = None
    hash: str
    issues: list[IssueInfo]
    actors: list[ActorInfo]
    stances: list[StanceInfo] = []

    def issue(self, issue_id: str) -> IssueInfo:
        for i in self.issues:
            if i.id == issue_id:
                return i
        raise KeyError(f"unknown issue {issue_id!r}")

    def actor_name(self, actor_id: str) -> str:
        for a in self.actors:
            if a.id == actor_id:
                return a.name
        return actor_id


# ---------------------------------------------------------------------------------------
# forecasts


class Move(_Data):
    """One recorded move (models' ``details`` ``moves`` entries, normalised)."""

    round: int
    issue: str | None = None
    actor: str
    from_: float | None = Field(default=None, alias="from")
    to: float | None = None
    kind: str = "move"
    counterpart: str | None = None
    reason: str | None = None

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class ModelForecast(_Data):
    """One model's forecast on every issue, with its position history.

    ``positions[issue][round][k]`` is the position of ``actor_ids[k]`` (``None`` where the
    actor has no stance). ``explanations[issue]`` holds the plain-language lines saying why
    actors moved (from :func:`detente.models.explain.explain_lines`).
    """

    model: str
    params: dict[str, Any] = {}
    seed: int | None = None
    outcome: dict[str, float]
    rounds: dict[str, int] = {}
    converged: dict[str, bool] = {}
    actor_ids: list[str] = []
    positions: dict[str, list[list[float | None]]] = {}
    moves: list[Move] = []
    explanations: dict[str, list[str]] = {}
    round_based: bool = False

    def n_rounds(self, issue: str) -> int:
        return max(0, len(self.positions.get(issue, [])) - 1)


class ModelRun(_Data):
    """Provenance of one model run: which model, with what parameters and seed."""

    model: str
    params: dict[str, Any] = {}
    seed: int | None = None
    created: str | None = None


# ---------------------------------------------------------------------------------------
# figures' data


class PowerBar(_Data):
    actor: str
    position: float
    capability: float
    salience: float  # 0-1
    power: float  # capability x salience


class IssuePower(_Data):
    """The effective-power landscape of one issue: who pushes where, how hard."""

    issue: str
    bars: list[PowerBar]


class QuadPoint(_Data):
    """One rival ``other`` of the focal actor in the expected-utility quad map.

    ``eu_self``: the focal actor's expected utility of challenging ``other`` (its own view);
    ``eu_other``: ``other``'s expected utility of challenging the focal actor (as the focal
    actor perceives it). The quadrant names the predicted relation (conflict, compromise, ...).
    """

    other: str
    eu_self: float
    eu_other: float
    quadrant: str | None = None


class QuadMap(_Data):
    actor: str
    issue: str
    model: str = "expected_utility"
    round: int | None = None
    points: list[QuadPoint]


class BargainEdge(_Data):
    initiator: str
    receiver: str
    weight: float | None = None  # e.g. the initiator's expected gain or the win probability
    chosen: bool = False  # the bargain that won the round for the receiver
    label: str | None = None


class BargainNetwork(_Data):
    """KTAB-style bargains proposed in one round (turn) of the spatial model."""

    model: str = "spatial"
    round: int
    issue: str | None = None  # the issue whose positions place the nodes
    positions: dict[str, float] = {}
    edges: list[BargainEdge]


class Fan(_Data):
    """Quantile bands over an axis (rounds, months or models) for a fan chart.

    ``quantiles`` maps a level such as ``"0.05"`` to one value per ``x``.
    """

    issue: str
    model: str
    x: list[float]
    x_label: str = "round"
    quantiles: dict[str, list[float]]
    point: list[float] | None = None  # the point forecast (no uncertainty) per x


class MonteCarloSummary(_Data):
    """A model's outcome distribution on one issue over ``n`` draws."""

    model: str
    issue: str
    n: int
    mean: float
    sd: float
    quantiles: dict[str, float]  # "0.05", "0.5", ...
    bin_edges: list[float] = []
    counts: list[int] = []
    point: float | None = None  # the forecast without uncertainty
    p_nonconverged: float | None = None
    p_no_agreement: float | None = None


class SensitivityFactor(_Data):
    """One uncertain input: its effect on one outcome.

    Tornado entries carry ``low``/``high`` (outcome with the input at its low and high
    value); variance-based ones carry first- and total-order indices.
    """

    factor: str
    low: float | None = None
    high: float | None = None
    low_input: float | None = None
    high_input: float | None = None
    s1: float | None = None
    st: float | None = None
    s1_conf: float | None = None
    st_conf: float | None = None
    mu_star: float | None = None
    mu_star_conf: float | None = None
    sigma: float | None = None  # Morris: spread of the elementary effects (interactions)
    description: str | None = None  # e.g. "salience of ru_kremlin"


class SensitivityResult(_Data):
    """Factors ranked by their effect on one model's forecast of one issue: one-at-a-time
    swings (``low``/``high`` around ``base``), Morris ``mu_star``/``sigma`` or Sobol
    ``s1``/``st`` (``method``)."""

    model: str
    issue: str
    method: str  # "one-at-a-time", "sobol", "morris"
    base: float | None = None
    factors: list[SensitivityFactor]
    runs: int | None = None  # model evaluations behind the indices
    variance: float | None = None  # the forecast's variance over the design (global methods)

    @property
    def key(self) -> str:
        """The ranking index: ``st`` (Sobol), ``mu_star`` (Morris) or ``swing`` (OAT)."""
        return {"sobol": "st", "morris": "mu_star"}.get(self.method, "swing")


class AttritionTimeline(_Data):
    """The bargaining range month by month on the contested issue (scale units)."""

    issue: str
    sides: tuple[str, str]
    months: list[float]
    lower: list[float]  # what the high side accepts at least (L_t)
    upper: list[float]  # what the low side accepts at most (U_t)
    front: list[float]
    events: list[tuple[float, str]] = []  # (month, label)
    first_open: float | None = None


class WinSet(_Data):
    principal: str
    intervals: list[tuple[float, float]]


class AgreementSet(_Data):
    """Ratification win-sets of each principal on one issue and their intersection."""

    issue: str
    winsets: list[WinSet]
    agreement: list[tuple[float, float]]  # empty: no deal can be ratified
    forecasts: dict[str, float] = {}  # model -> point forecast to place on the chart


class ProposalVote(_Data):
    actor: str
    utility_deal: float
    utility_no_deal: float
    accepts: bool
    veto: bool = False
    reason: str | None = None

    @property
    def margin(self) -> float:
        return self.utility_deal - self.utility_no_deal


class ProposalEvaluation(_Data):
    id: str
    name: str
    terms: dict[str, float]
    votes: list[ProposalVote]
    verdict: str | None = None  # e.g. "vetoed by ru-kremlin"


class BacktestRow(_Data):
    model: str
    n: int
    mae: float
    rmse: float | None = None
    errors: list[float] = []  # absolute error per case, for the distribution
    note: str | None = None  # e.g. fitted on this file: in-sample, with its CV MAE


class BacktestScores(_Data):
    dataset: str
    rows: list[BacktestRow]


# ---------------------------------------------------------------------------------------
# provenance and the whole report


class EvidenceRow(_Data):
    """One input with the evidence behind it: what, source, locator, paraphrase."""

    input: str  # e.g. "stance ru-kremlin / territory"
    value: str | None = None
    source: str
    source_title: str | None = None
    source_date: str | None = None
    source_url: str | None = None  # kept as text; renderers never link out
    locator: str | None = None
    paraphrase: str


class ReportProvenance(_Data):
    scenario_id: str
    scenario_hash: str
    version: str
    created: str
    seeds: list[int | None] = []
    runs: list[ModelRun] = []
    montecarlo: dict[str, Any] = {}  # draws, seed, executor, ...
    command: str | None = None
    run_id: int | None = None  # when built from a stored run
    evidence: list[EvidenceRow] = []
    unsupported_inputs: list[str] = []  # inputs with no evidence at all


class Report(_Data):
    """A full report. Renderers read it; they compute nothing."""

    kind: Literal["detente-report"] = "detente-report"
    title: str
    scenario: ScenarioInfo
    summary: list[str] = []
    forecasts: list[ModelForecast] = []
    skipped: list[tuple[str, str]] = []
    position_model: str | None = None  # the round-based model drawn in "positions by round"
    power: list[IssuePower] = []
    quad_map: QuadMap | None = None
    bargains: BargainNetwork | None = None
    montecarlo: list[MonteCarloSummary] = []
    fans: list[Fan] = []
    sensitivity: list[SensitivityResult] = []
    attrition: AttritionTimeline | None = None
    agreement: AgreementSet | None = None
    proposal: ProposalEvaluation | None = None
    backtest: BacktestScores | None = None
    notes: list[str] = []
    provenance: ReportProvenance

    def forecast(self, model: str) -> ModelForecast | None:
        return next((f for f in self.forecasts if f.model == model), None)
