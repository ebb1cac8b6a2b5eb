"""A fixed, hand-written report with every section filled: for tests, docs and dashboard
prototyping. The numbers are illustrative, not model output."""

from __future__ import annotations

from detente.report.model import (
    ActorInfo,
    AgreementSet,
    AnchorInfo,
    AttritionTimeline,
    BacktestRow,
    BacktestScores,
    BargainEdge,
    BargainNetwork,
    EvidenceRow,
    Fan,
    IssueInfo,
    IssuePower,
    ModelForecast,
    ModelRun,
    MonteCarloSummary,
    Move,
    PowerBar,
    ProposalEvaluation,
    ProposalVote,
    QuadMap,
    QuadPoint,
    Report,
    ReportProvenance,
    ScenarioInfo,
    SensitivityFactor,
    SensitivityResult,
    StanceInfo,
    WinSet,
)

__all__ = ["sample_report"]


def sample_report() -> Report:
    """Every section of a report from fixed numbers (no model runs)."""
    territory = IssueInfo(
        id="territory", name="Territory", units="share returned",
        anchors=[AnchorInfo(value=0, label="Russia keeps all occupied land"),
                 AnchorInfo(value=50, label="Line of contact frozen"),
                 AnchorInfo(value=100, label="1991 borders restored")],
        status_quo=20)
    guarantees = IssueInfo(
        id="guarantees", name="Security guarantees",
        anchors=[AnchorInfo(value=0, label="None"),
                 AnchorInfo(value=60, label="Coalition of the willing"),
                 AnchorInfo(value=100, label="Article 5-like")])
    actors = ["ru", "ua", "us", "eu"]
    names = {"ru": "Russia", "ua": "Ukraine", "us": "United States", "eu": "European Union"}
    caps = {"ru": 90.0, "ua": 40.0, "us": 100.0, "eu": 60.0}
    pos0 = {"territory": {"ru": 0.0, "ua": 100.0, "us": 40.0, "eu": 80.0},
            "guarantees": {"ru": 0.0, "ua": 100.0, "us": 50.0, "eu": 80.0}}
    sal = {"territory": {"ru": 90.0, "ua": 95.0, "us": 50.0, "eu": 60.0},
           "guarantees": {"ru": 70.0, "ua": 90.0, "us": 40.0, "eu": 70.0}}
    stances = [StanceInfo(actor=a, issue=i, position=pos0[i][a], salience=sal[i][a],
                          capability=caps[a]) for i in pos0 for a in actors]
    scenario = ScenarioInfo(
        id="sample", name="Sample talks", view="illustrative numbers", hash="0" * 64,
        issues=[territory, guarantees],
        actors=[ActorInfo(id=a, name=names[a], capability=caps[a]) for a in actors],
        stances=stances)
    paths = {
        "territory": [[0, 100, 40, 80], [10, 85, 40, 70], [18, 70, 38, 60], [22, 62, 36, 55]],
        "guarantees": [[0, 100, 50, 80], [10, 90, 50, 75], [15, 80, 52, 70], [18, 76, 52, 68]],
    }
    eu = ModelForecast(
        model="expected_utility", params={"Q": 1.0}, seed=0,
        outcome={"territory": 33.5, "guarantees": 47.0},
        rounds={"territory": 3, "guarantees": 3},
        converged={"territory": True, "guarantees": False},
        actor_ids=actors, positions={k: [[float(v) for v in r] for r in p]
                                     for k, p in paths.items()},
        moves=[Move(round=1, issue="territory", actor="ua", **{"from": 100.0}, to=85.0,
                    kind="compromise", counterpart="ru",
                    reason="Russia expected to win a challenge, so Ukraine met it part way")],
        explanations={"territory": [
            "round 1, territory: moved 100 -> 85 (compromise with ru): Russia expected to win",
            "round 2, territory: moved 85 -> 70 (compromise with us): US pressure",
            "round 1, territory: moved 0 -> 10 (compromise with us): sanctions relief offered"]},
        round_based=True)
    comp = ModelForecast(model="compromise", outcome={"territory": 41.2, "guarantees": 52.9},
                         rounds={"territory": 0, "guarantees": 0},
                         converged={"territory": True, "guarantees": True}, actor_ids=actors,
                         positions={k: [[float(v) for v in p[0]]] for k, p in paths.items()})
    nash = ModelForecast(model="nash", outcome={"territory": 28.0, "guarantees": 44.0},
                         actor_ids=actors)
    power = [IssuePower(issue=i, bars=[PowerBar(actor=a, position=pos0[i][a], capability=caps[a],
                                                salience=sal[i][a] / 100,
                                                power=caps[a] * sal[i][a] / 100)
                                       for a in actors]) for i in pos0]
    quad = QuadMap(actor="us", issue="territory", round=0, points=[
        QuadPoint(other="ru", eu_self=-0.12, eu_other=0.31, quadrant="compromise"),
        QuadPoint(other="ua", eu_self=0.25, eu_other=-0.05, quadrant="compromise"),
        QuadPoint(other="eu", eu_self=0.08, eu_other=0.10, quadrant="conflict")])
    bargains = BargainNetwork(round=1, issue="territory", positions=pos0["territory"], edges=[
        BargainEdge(initiator="us", receiver="ru", weight=0.4, chosen=True),
        BargainEdge(initiator="eu", receiver="ru", weight=0.2),
        BargainEdge(initiator="ru", receiver="ua", weight=0.6, chosen=True),
        BargainEdge(initiator="us", receiver="ua", weight=0.3)])
    mc = [MonteCarloSummary(model="expected_utility", issue="territory", n=1000, mean=34.0,
                            sd=9.5, quantiles={"0.05": 19.0, "0.25": 27.5, "0.5": 33.8,
                                               "0.75": 40.1, "0.95": 50.2},
                            bin_edges=[float(x) for x in range(0, 101, 10)],
                            counts=[5, 40, 180, 310, 280, 130, 45, 8, 2, 0], point=33.5,
                            p_nonconverged=0.04),
          MonteCarloSummary(model="compromise", issue="territory", n=1000, mean=41.0, sd=3.1,
                            quantiles={"0.05": 36.0, "0.5": 41.1, "0.95": 46.0},
                            bin_edges=[30.0, 35.0, 40.0, 45.0, 50.0], counts=[30, 420, 500, 50],
                            point=41.2)]
    fans = [Fan(issue="territory", model="expected_utility", x=[0, 1, 2, 3],
                quantiles={"0.05": [30, 24, 20, 19], "0.25": [38, 31, 29, 27.5],
                           "0.5": [41, 37, 35, 33.8], "0.75": [44, 42, 41, 40.1],
                           "0.95": [50, 50, 50, 50.2]},
                point=[41.2, 36.0, 34.0, 33.5])]
    sens = [SensitivityResult(model="compromise", issue="territory", method="one-at-a-time",
                              base=41.2, factors=[
                                  SensitivityFactor(factor="capability ru", low=45.0, high=37.5),
                                  SensitivityFactor(factor="salience ua", low=39.0, high=43.0),
                                  SensitivityFactor(factor="position us", low=40.0, high=42.5)]),
            SensitivityResult(model="expected_utility", issue="territory", method="sobol",
                              factors=[SensitivityFactor(factor="salience ru", s1=0.09, st=0.86),
                                       SensitivityFactor(factor="capability ru", s1=0.05,
                                                         st=0.68)]),
            SensitivityResult(model="compromise", issue="territory", method="morris",
                              runs=80, factors=[
                                  SensitivityFactor(factor="capability:ru", mu_star=6.1,
                                                    mu_star_conf=0.8, sigma=1.2,
                                                    description="capability of ru"),
                                  SensitivityFactor(factor="salience:ua", mu_star=3.4,
                                                    mu_star_conf=0.5, sigma=0.4)])]
    att = AttritionTimeline(issue="territory", sides=("ru", "ua"),
                            months=[float(m) for m in range(13)],
                            lower=[10 + 0.5 * m for m in range(13)],
                            upper=[8 + 1.5 * m for m in range(13)],
                            front=[12 + 0.2 * m for m in range(13)],
                            events=[(6.0, "aid surge")], first_open=1.0)
    agreement = AgreementSet(issue="territory", winsets=[
        WinSet(principal="ua", intervals=[(15.0, 100.0)]),
        WinSet(principal="ru", intervals=[(0.0, 31.7)])], agreement=[(15.0, 31.7)],
        forecasts={"expected_utility": 33.5, "compromise": 41.2})
    proposal = ProposalEvaluation(id="draft", name="Draft framework",
                                  terms={"territory": 20.0, "guarantees": 55.0},
                                  votes=[ProposalVote(actor="ru", utility_deal=0.4,
                                                      utility_no_deal=0.5, accepts=False,
                                                      veto=True, reason="guarantees too strong"),
                                         ProposalVote(actor="ua", utility_deal=0.3,
                                                      utility_no_deal=0.25, accepts=True),
                                         ProposalVote(actor="us", utility_deal=0.7,
                                                      utility_no_deal=0.4, accepts=True),
                                         ProposalVote(actor="eu", utility_deal=0.5,
                                                      utility_no_deal=0.45, accepts=True)],
                                  verdict="vetoed by Russia")
    backtest = BacktestScores(dataset="DEU (sample)", rows=[
        BacktestRow(model="compromise", n=204, mae=23.9, rmse=30.1,
                    errors=[5.0, 12.0, 20.0, 31.0, 48.0]),
        BacktestRow(model="expected_utility", n=204, mae=27.2, rmse=34.0,
                    errors=[2.0, 15.0, 25.0, 40.0, 66.0])])
    prov = ReportProvenance(
        scenario_id="sample", scenario_hash="0" * 64, version="0.0.0",
        created="2025-01-01T00:00:00+00:00", seeds=[0],
        runs=[ModelRun(model="expected_utility", params={"Q": 1.0}, seed=0),
              ModelRun(model="compromise")],
        montecarlo={"draws": 1000, "seed": 0},
        evidence=[EvidenceRow(input="stance ru / territory", value="position 0, salience 90",
                              source="src1", source_title="Press briefing",
                              source_url="https://example.org/briefing", locator="para 2",
                              paraphrase="Moscow restated its claim to all four regions")],
        unsupported_inputs=["stance us / guarantees"])
    return Report(
        title="Sample talks: forecast report", scenario=scenario,
        summary=["Territory: the compromise benchmark lands at 41.2 (~ Line of contact frozen)."],
        forecasts=[eu, comp, nash], position_model="expected_utility", power=power,
        quad_map=quad, bargains=bargains, montecarlo=mc, fans=fans, sensitivity=sens,
        attrition=att, agreement=agreement, proposal=proposal, backtest=backtest,
        notes=["Illustrative numbers only."], provenance=prov)
