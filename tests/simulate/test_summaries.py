"""Plain-language summaries of the uncertainty results."""

from __future__ import annotations

import warnings

from detente.analysis.compare import compare
from detente.analysis.sensitivity import sensitivity
from detente.analysis.summarize import (
    compare_lines,
    montecarlo_lines,
    sensitivity_lines,
    whatif_lines,
)
from detente.errors import NotConvergedWarning
from detente.scenario.load import load_scenario
from detente.simulate.montecarlo import montecarlo
from detente.simulate.whatif import whatif


def test_lines_name_issues_models_and_intervals():
    sc = load_scenario("ukraine-2025")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        mc = montecarlo(sc, ["compromise"], n=20, seed=0, executor="serial", agreement=True)
        lines = montecarlo_lines(mc, sc)
        assert lines[0].startswith(sc.issues[0].name) and "90% in" in lines[0]
        assert any(line.startswith("Agreement set") for line in lines)
        w = whatif(sc, [{"name": "exit", "drop": "us_interventionist"},
                        {"name": "nothing", "shift": {"actor": "cn", "issue": "arctic",
                                                      "delta": 0}}],
                   ["compromise"], n=10, seed=0, executor="serial")
        wl = whatif_lines(w, sc)
        assert wl[0].startswith("exit:") and "90%" in wl[0]
        assert wl[1] == "nothing: no forecast moves."
        s = sensitivity(sc, ["compromise"], method="morris", n=4, by="entry")
        sl = sensitivity_lines(s, sc)
        assert sl and "mu*" in sl[0]
        c = compare([sc, load_scenario("ukraine-2025-alt")], ["compromise"])
        cl = compare_lines(c, {sc.id: sc})
        assert "ukraine-2025-alt" in cl[0] and "from" in cl[0]
