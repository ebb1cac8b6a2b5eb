"""Time `detente report` on ukraine-2025 with a 1,000-draw Monte Carlo (target: < 30 s).

Run: .venv/bin/python benchmarks/bench_report.py [--draws 1000] [--repeat 1]

Times the whole command in a fresh interpreter (imports included, as a user sees it) and,
in-process, the phases: build (models, Monte Carlo, sensitivity, conflict, proposal),
figures and HTML.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--scenario", default="ukraine-2025")
    args = ap.parse_args()
    exe = Path(sys.executable).with_name("detente")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DETENTE_STORE": str(Path(tmp) / "runs.sqlite")}
        for k in range(args.repeat):
            out = Path(tmp) / f"report{k}.html"
            t0 = time.perf_counter()
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([str(exe), "report", args.scenario, "-o", str(out),
                            "--montecarlo", str(args.draws)], check=True, env=env,
                           capture_output=True)
            wall = time.perf_counter() - t0
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
            size = out.stat().st_size / 1e6
            print(f"detente report {args.scenario} --montecarlo {args.draws}: {wall:.1f} s "
                  f"wall, {cpu:.1f} s CPU (all processes), {size:.1f} MB HTML "
                  f"({'OK' if wall < 30 else 'OVER'} the 30 s target; load average "
                  f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")

    from detente import load_scenario
    from detente.report.build import build_report
    from detente.report.html import figure_views, render_html

    sc = load_scenario(args.scenario)
    t0 = time.perf_counter()
    rep = build_report(sc, montecarlo=args.draws)
    t1 = time.perf_counter()
    figs = figure_views(rep)
    t2 = time.perf_counter()
    render_html(rep, figures=figs)
    t3 = time.perf_counter()
    mc_s = rep.provenance.montecarlo.get("seconds")
    print(f"phases (load average {os.getloadavg()[0]:.1f}): build {t1 - t0:.1f} s "
          f"(Monte Carlo {mc_s} s), {len(figs)} figures {t2 - t1:.1f} s, "
          f"HTML {t3 - t2:.2f} s; cpus "
          f"{os.cpu_count()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
