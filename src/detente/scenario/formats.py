"""Read and write scenarios in every supported format, chosen by extension and content.

Formats: canonical YAML (``.yaml``/``.yml``/``.json``), the wide actor x issue table
(``.csv``), KTAB SMP CSV and XML, Decide tagged files, DEU rows (``FILE.csv#<isnr>`` picks an
issue, ``FILE.csv#<prnr>`` a whole proposal with all its issues), and the documented cases
(``cases.csv#<case_id>``). A bare name such as
``ukraine-2025`` loads a bundled scenario.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from detente.errors import InputFileError
from detente.scenario.schema import Scenario

__all__ = ["bundled_scenarios", "read_any", "write_any", "WRITE_FORMATS"]

WRITE_FORMATS = (".yaml", ".yml", ".json", ".csv")


def bundled_scenarios() -> dict[str, Path]:
    """Bundled scenario names and their files."""
    root = resources.files("detente") / "data" / "scenarios"
    found: dict[str, Path] = {}
    try:
        entries = list(root.iterdir())
    except FileNotFoundError:
        return found
    for entry in sorted(entries, key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            found[entry.name.rsplit(".", 1)[0]] = Path(str(entry))
    return found


def _sniff(path: Path, text: str) -> str:
    from detente.scenario.io_table import looks_like_table

    head = "\n".join(text.splitlines()[:5])
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if looks_like_table(text):
        return "table"
    low = first.lower()
    if "prnr" in low and "isnr" in low:
        return "deu"
    if low.startswith("case_id,") and "scale_min" in low:
        return "cases"
    from detente.scenario.importers.decide import looks_like_decide

    if looks_like_decide(path):  # tags may be quoted ('#A') as Decide writes them
        return "decide"
    if any(ln.lstrip().startswith(("#A", "#P", "#M", "#D")) for ln in head.splitlines()) or \
            any(ln.lstrip().startswith(("#A", "#P", "#M", "#D")) for ln in text.splitlines()[:200]):
        return "decide"
    return "ktab"


def read_any(source: str | Path) -> Scenario:
    """Load a scenario from a file path (any supported format) or a bundled name."""
    raw = str(source)
    selector = None
    if "#" in raw and not Path(raw).exists():
        raw, selector = raw.split("#", 1)
    path = Path(raw)
    if not path.exists():
        bundled = bundled_scenarios()
        if raw in bundled:
            from detente.scenario.io_yaml import read_yaml

            return read_yaml(bundled[raw])
        names = ", ".join(bundled) or "(none)"
        raise InputFileError(raw, "no such file or bundled scenario",
                             fix=f"give a path to a scenario file, or one of: {names}")
    ext = path.suffix.lower()
    if ext in (".yaml", ".yml", ".json"):
        from detente.scenario.io_yaml import read_yaml

        return read_yaml(path)
    if ext == ".xml":
        from detente.scenario.importers.ktab import read_ktab_xml

        return read_ktab_xml(path)
    if ext in (".csv", ".txt", ".tsv"):
        from detente.scenario.io_yaml import read_text_checked

        kind = _sniff(path, read_text_checked(path))
        if kind == "table":
            from detente.scenario.io_table import read_table

            return read_table(path)
        if kind == "deu":
            return _select_deu(path, selector)
        if kind == "cases":
            from detente.scenario.importers.cases import read_cases

            return _select(read_cases(path), selector, path, "case_id")
        if kind == "decide":
            from detente.scenario.importers.decide import read_decide

            return read_decide(path)
        from detente.scenario.importers.ktab import read_ktab_csv

        return read_ktab_csv(path)
    raise InputFileError(str(path), f"unknown file type {ext or '(none)'}",
                         fix="use .yaml, .json, .csv (table, KTAB, Decide, DEU), .txt "
                             "(Decide) or .xml (KTAB)")


def _select(scenarios: list[Scenario], selector: str | None, path: Path, what: str
            ) -> Scenario:
    if selector is None:
        if len(scenarios) == 1:
            return scenarios[0]
        ids = ", ".join(s.id for s in scenarios[:5])
        raise InputFileError(str(path), f"holds {len(scenarios)} scenarios; pick one by "
                             f"{what}", fix=f"write {path}#<id>, e.g. {path}#{scenarios[0].id} "
                             f"(first ids: {ids}); `detente backtest` scores them all")
    for s in scenarios:
        if s.id == selector or s.meta.get("isnr") == selector or s.meta.get("case_id") == selector:
            return s
    raise InputFileError(str(path), f"no {what} {selector!r} in the file",
                         fix=f"use one of: {', '.join(s.id for s in scenarios[:10])} ...")


def _select_deu(path: Path, selector: str | None) -> Scenario:
    """``FILE.csv#<isnr>``: one issue; else ``FILE.csv#<prnr>``: the proposal, all issues."""
    from detente.scenario.importers.deu import read_deu

    issues = read_deu(path)
    if len(issues) == 1 and selector is None:
        return issues[0]
    if selector is not None:
        for s in issues:
            if s.id == selector or s.meta.get("isnr") == selector:
                return s
    proposals = read_deu(path, by="proposal")
    if selector is not None:
        for s in proposals:
            if s.id == selector or s.meta.get("prnr") == selector:
                return s
    first_issue = issues[0].id if issues else "<isnr>"
    first_prop = proposals[0].id if proposals else "<prnr>"
    fix = (f"write {path}#<isnr> for one issue (e.g. {path}#{first_issue}) or {path}#<prnr> "
           f"for a whole proposal (e.g. {path}#{first_prop}); issues: "
           f"{', '.join(s.id for s in issues[:5])} ...; proposals: "
           f"{', '.join(s.id for s in proposals[:5])} ...")
    if selector is None:
        raise InputFileError(str(path), f"holds {len(issues)} issues of {len(proposals)} "
                             "proposals; pick an issue (isnr) or a proposal (prnr)",
                             fix=f"{fix}; `detente backtest` scores them all")
    raise InputFileError(str(path), f"no issue (isnr) or proposal (prnr) {selector!r} in the "
                         "file", field="isnr", fix=fix)


def write_any(scenario: Scenario, path: str | Path) -> None:
    """Write ``scenario`` in the format of ``path``'s extension, atomically."""
    ext = Path(path).suffix.lower()
    if ext in (".yaml", ".yml", ".json"):
        from detente.scenario.io_yaml import write_yaml

        write_yaml(scenario, path)
    elif ext == ".csv":
        from detente.scenario.io_table import write_table

        write_table(scenario, path)
    else:
        raise InputFileError(str(path), f"cannot write {ext or 'files without extension'}",
                             fix=f"use one of {', '.join(WRITE_FORMATS)}")
