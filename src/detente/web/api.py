"""The JSON API (``/api/...``); its OpenAPI schema is served at ``/openapi.json`` and browsable
at ``/docs`` (self-hosted: no CDN, see :mod:`detente.web.app`)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from detente.errors import DetenteError
from detente.web.jobs import BacktestRequest, JobRequest
from detente.web.library import ScenarioInvalid
from detente.web.security import ID_PATTERN, ITEM_ID_PATTERN, JOB_ID_PATTERN, check_id

__all__ = ["router", "read_upload"]

router = APIRouter(prefix="/api")

ScenarioId = Annotated[str, Path(description="scenario id (bundled name or user id)",
                                 max_length=200)]
RunId = Annotated[int, Path(ge=1, le=2**62, description="run id from GET /api/runs")]
JobId = Annotated[str, Path(max_length=64, description="job id from POST /api/jobs")]
ActorId = Annotated[str, Path(max_length=200, description="actor id of the scenario")]
IssueId = Annotated[str, Path(max_length=200, description="issue id of the scenario")]


def _state(request: Request) -> Any:
    return request.app.state.detente


class Problem(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "bad input (the message says what and how to fix)"},
    401: {"model": Problem, "description": "access token missing or wrong"},
    404: {"model": Problem, "description": "unknown id"},
}


async def read_upload(request: Request, file: UploadFile) -> bytes:
    """The uploaded bytes, refusing more than the configured size while reading."""
    cap = _state(request).settings.max_upload_bytes
    data = bytearray()
    while True:
        chunk = await file.read(64 * 1024)
        if not chunk:
            break
        data.extend(chunk)
        if len(data) > cap:
            raise HTTPException(413, f"upload is larger than {cap / 1e6:.2f} MB, the most this "
                                "server accepts; remove unused content or split the scenario")
    return bytes(data)


# ---------------------------------------------------------------------------------------
# basics


@router.get("/health", tags=["meta"], summary="Server status and version")
async def health(request: Request) -> dict[str, Any]:
    from detente import __version__

    st = _state(request)
    return {"status": "ok", "version": __version__, "active_jobs": st.jobs.active(),
            "max_active_jobs": st.settings.max_active_jobs, "executor": st.settings.executor}


@router.get("/models", tags=["models"], summary="Every registered model with its parameters")
def models() -> list[dict[str, Any]]:
    from detente.models.registry import available_models, get_model_class, param_defaults

    out = []
    for name in available_models():
        try:
            cls = get_model_class(name)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not hide the others
            out.append({"name": name, "error": str(exc), "summary": "", "params": {},
                        "presets": [], "round_based": False, "stochastic": False})
            continue
        params = param_defaults(cls)
        out.append({"name": name, "summary": cls.summary or (cls.__doc__ or "").strip()
                    .split("\n")[0], "params": params, "presets": list(cls.presets),
                    "round_based": cls.tags.round_based, "stochastic": cls.tags.stochastic,
                    "error": None})
    return out


# ---------------------------------------------------------------------------------------
# scenarios


@router.get("/scenarios", tags=["scenarios"], summary="The scenario library")
def list_scenarios(request: Request) -> list[dict[str, Any]]:
    return _state(request).library.entries()


class ValidationReport(BaseModel):
    ok: bool
    errors: list[dict[str, Any]] = []
    scenario: dict[str, Any] | None = None


@router.post("/scenarios/validate", tags=["scenarios"], responses=ERRORS,
             summary="Validate scenario data; every error names its editor cell")
def validate_scenario(request: Request, data: dict[str, Any]) -> ValidationReport:
    sc, errors = _state(request).library.validate(data)
    if sc is None:
        return ValidationReport(ok=False, errors=errors)
    return ValidationReport(ok=True, scenario={"id": sc.id, "actors": len(sc.actors),
                                               "issues": len(sc.issues),
                                               "hash": sc.content_hash()})


@router.post("/scenarios/upload", tags=["scenarios"], status_code=201,
             responses={**ERRORS, 409: {"model": Problem}, 413: {"model": Problem},
                        415: {"model": Problem}},
             summary="Upload a scenario file (YAML, JSON, CSV table, KTAB CSV/XML, Decide)")
async def upload_scenario(
    request: Request,
    file: Annotated[UploadFile, File(description="the scenario file")],
    id: Annotated[str | None, Form(description="save under this id instead of the file's")
                  ] = None,
    overwrite: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    st = _state(request)
    content = await read_upload(request, file)
    sc = st.library.parse_upload(content, file.filename or "upload.yaml")
    if id:
        check_id(id)
        sc = sc.model_copy(update={"id": id})
    st.library.save(sc, overwrite=overwrite)
    return st.library._entry(sc.id, "user")


@router.get("/scenarios/{sid}", tags=["scenarios"], responses=ERRORS,
            summary="One scenario as JSON (the canonical data)")
def get_scenario(request: Request, sid: ScenarioId) -> dict[str, Any]:
    from detente.scenario.io_yaml import scenario_to_data

    lib = _state(request).library
    sc = lib.get(sid)
    return {"id": sid, "origin": "bundled" if lib.is_bundled(sid) else "user",
            "editable": not lib.is_bundled(sid), "hash": sc.content_hash(),
            "data": scenario_to_data(sc)}


@router.put("/scenarios/{sid}", tags=["scenarios"],
            responses={**ERRORS, 409: {"model": Problem}, 413: {"model": Problem},
                       422: {"description": "validation errors, each with its editor cell"}},
            summary="Save edited scenario data as a user scenario")
def put_scenario(request: Request, sid: ScenarioId, data: dict[str, Any]) -> Any:
    check_id(sid)
    lib = _state(request).library
    data = {**data, "id": sid}
    sc, errors = lib.validate(data)
    if sc is None:
        return _invalid(ScenarioInvalid(errors))
    lib.save(sc, overwrite=True)
    return lib._entry(sc.id, "user")


def _invalid(exc: ScenarioInvalid) -> JSONResponse:
    """422 with every schema problem and its editor cell (and the row an add form made)."""
    content: dict[str, Any] = {"detail": str(exc), "errors": exc.errors}
    if exc.target is not None:
        content["target"] = exc.target
    return JSONResponse(status_code=422, content=content)


@router.delete("/scenarios/{sid}", tags=["scenarios"], status_code=204,
               responses={**ERRORS, 409: {"model": Problem}},
               summary="Delete a user scenario (bundled ones are read-only)")
def delete_scenario(request: Request, sid: ScenarioId) -> Response:
    _state(request).library.delete(sid)
    return Response(status_code=204)


# ---------------------------------------------------------------------------------------
# structural edits of a user scenario (bundled ones are read-only: 409)

EDIT_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS, 409: {"model": Problem, "description": "a bundled scenario (save a copy first)"},
    413: {"model": Problem},
    422: {"description": "the change breaks the scenario schema: {detail, errors: [{path, "
                         "message, section, index, field, ...}], target: the added row}"}}


class IssueIn(BaseModel):
    """A new issue; the scenario schema checks it (a problem comes back with its field)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(max_length=200, description="new issue id: letters, digits, '_', '.', '-'")
    name: str = Field(max_length=1000)
    scale_min: float | None = Field(default=None, description="lower end of the scale (0)")
    scale_max: float | None = Field(default=None, description="upper end of the scale (100)")
    status_quo: float | None = Field(default=None, description="what happens with no deal")
    units: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=5000)


class ActorIn(BaseModel):
    """A new actor; a faction names its parent (whose capability must cover its factions')."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(max_length=200, description="new actor id: letters, digits, '_', '.', '-'")
    name: str = Field(max_length=1000)
    capability: float | None = Field(default=None, description="clout (required, >= 0)")
    kind: str | None = Field(default=None, description="state (default), faction or "
                             "organisation")
    parent: str | None = Field(default=None, max_length=200,
                               description="the actor this one is a faction of")
    description: str | None = Field(default=None, max_length=5000)


class StanceIn(BaseModel):
    """An actor's stance on an issue: position on the issue's scale, salience 0-100 and an
    optional issue-specific capability."""

    model_config = ConfigDict(extra="forbid")

    position: float | None = Field(default=None, description="required")
    salience: float | None = Field(default=None, description="required, 0-100")
    capability: float | None = Field(default=None, description="optional, >= 0")


def _edited(sc: Any, status: int = 200, **extra: Any) -> JSONResponse:
    """The changed scenario, as ``GET /api/scenarios/{sid}`` gives it, plus ``extra``."""
    from detente.scenario.io_yaml import scenario_to_data

    return JSONResponse({"id": sc.id, "origin": "user", "editable": True,
                         "hash": sc.content_hash(), "data": scenario_to_data(sc), **extra},
                        status_code=status)


@router.post("/scenarios/{sid}/issues", tags=["scenarios"], status_code=201,
             responses=EDIT_ERRORS, summary="Add an issue to a user scenario")
def add_issue(request: Request, sid: ScenarioId, issue: IssueIn) -> Any:
    from detente.web.editing import add_issue as add

    lib = _state(request).library
    try:
        sc, index = lib.edit(sid, lambda d: {"section": "issues",
                                             "index": add(d, issue.model_dump())},
                             f"adding issue {issue.id!r}")
    except ScenarioInvalid as exc:
        return _invalid(exc)
    return _edited(sc, 201, added={"issues": index["index"]})


@router.delete("/scenarios/{sid}/issues/{iid}", tags=["scenarios"], responses=EDIT_ERRORS,
               summary="Remove an issue with its stances from a user scenario")
def remove_issue(request: Request, sid: ScenarioId, iid: IssueId) -> Any:
    from detente.web.editing import remove_issue as remove

    check_id(iid, "issue id", ITEM_ID_PATTERN)
    try:
        sc, removed = _state(request).library.edit(
            sid, lambda d: remove(d, iid), f"the scenario without issue {iid!r}")
    except ScenarioInvalid as exc:
        return _invalid(exc)
    return _edited(sc, removed=removed)


@router.post("/scenarios/{sid}/actors", tags=["scenarios"], status_code=201,
             responses=EDIT_ERRORS, summary="Add an actor (or a faction) to a user scenario")
def add_actor(request: Request, sid: ScenarioId, actor: ActorIn) -> Any:
    from detente.web.editing import add_actor as add

    lib = _state(request).library
    try:
        sc, index = lib.edit(sid, lambda d: {"section": "actors",
                                             "index": add(d, actor.model_dump())},
                             f"adding actor {actor.id!r}")
    except ScenarioInvalid as exc:
        return _invalid(exc)
    return _edited(sc, 201, added={"actors": index["index"]})


@router.delete("/scenarios/{sid}/actors/{aid}", tags=["scenarios"], responses=EDIT_ERRORS,
               summary="Remove an actor with its stances and relations from a user scenario")
def remove_actor(request: Request, sid: ScenarioId, aid: ActorId) -> Any:
    from detente.web.editing import remove_actor as remove

    check_id(aid, "actor id", ITEM_ID_PATTERN)
    try:
        sc, removed = _state(request).library.edit(
            sid, lambda d: remove(d, aid), f"the scenario without actor {aid!r}")
    except ScenarioInvalid as exc:
        return _invalid(exc)
    return _edited(sc, removed=removed)


@router.put("/scenarios/{sid}/stances/{aid}/{iid}", tags=["scenarios"], responses=EDIT_ERRORS,
            summary="Set (or add) the stance of an actor on an issue in a user scenario")
def put_stance(request: Request, sid: ScenarioId, aid: ActorId, iid: IssueId,
               stance: StanceIn) -> Any:
    from detente.web.editing import set_stance

    check_id(aid, "actor id", ITEM_ID_PATTERN)
    check_id(iid, "issue id", ITEM_ID_PATTERN)

    def change(d: dict[str, Any]) -> dict[str, Any]:
        k, fresh = set_stance(d, aid, iid, stance.model_dump())
        return {"section": "stances", "index": k, "added": fresh}

    try:
        sc, info = _state(request).library.edit(sid, change, f"the stance of {aid!r} on "
                                                f"{iid!r}")
    except ScenarioInvalid as exc:
        return _invalid(exc)
    return _edited(sc, 201 if info["added"] else 200,
                   stance=info["index"])


@router.delete("/scenarios/{sid}/stances/{aid}/{iid}", tags=["scenarios"],
               responses=EDIT_ERRORS,
               summary="Remove the stance of an actor on an issue from a user scenario")
def delete_stance(request: Request, sid: ScenarioId, aid: ActorId, iid: IssueId) -> Any:
    from detente.web.editing import remove_stance

    check_id(aid, "actor id", ITEM_ID_PATTERN)
    check_id(iid, "issue id", ITEM_ID_PATTERN)
    try:
        sc, _ = _state(request).library.edit(sid, lambda d: remove_stance(d, aid, iid),
                                             f"the scenario without the stance of {aid!r} "
                                             f"on {iid!r}")
    except ScenarioInvalid as exc:
        return _invalid(exc)
    return _edited(sc)


@router.get("/scenarios/{sid}/yaml", tags=["scenarios"], responses=ERRORS,
            response_class=PlainTextResponse, summary="Download a scenario as canonical YAML")
def scenario_yaml(request: Request, sid: ScenarioId) -> Response:
    from detente.scenario.io_yaml import dump_yaml

    sc = _state(request).library.get(sid)
    return PlainTextResponse(dump_yaml(sc), media_type="application/yaml", headers={
        "content-disposition": f'attachment; filename="{sc.id}.yaml"'})


@router.get("/scenarios/{sid}/csv", tags=["scenarios"], responses=ERRORS,
            response_class=PlainTextResponse,
            summary="Download a scenario as the wide actor x issue CSV (spreadsheet-safe)")
def scenario_csv(request: Request, sid: ScenarioId) -> Response:
    from detente.scenario.io_table import dump_table

    sc = _state(request).library.get(sid)
    return _csv(dump_table(sc), f"{sc.id}.csv")


def _csv(text: str, name: str) -> Response:
    return PlainTextResponse(text, media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="{name}"',
        "x-content-type-options": "nosniff"})


# ---------------------------------------------------------------------------------------
# proposals


def _bundled_proposals() -> dict[str, Any]:
    from importlib import resources
    from pathlib import Path as _P

    root = resources.files("detente") / "data" / "proposals"
    out = {}
    try:
        for e in root.iterdir():
            if e.name.endswith((".yaml", ".yml")):
                out[e.name.rsplit(".", 1)[0]] = _P(str(e))
    except FileNotFoundError:
        pass
    return dict(sorted(out.items()))


@router.get("/proposals", tags=["proposals"], summary="Bundled proposals")
def list_proposals() -> list[dict[str, Any]]:
    from detente.deals.proposal import load_proposal

    rows = []
    for pid, path in _bundled_proposals().items():
        p = load_proposal(path)
        rows.append({"id": pid, "name": p.name, "scenario": p.scenario, "terms": p.terms,
                     "guarantee": p.guarantee})
    return rows


@router.get("/proposals/{pid}", tags=["proposals"], responses=ERRORS,
            summary="One bundled proposal")
def get_proposal(pid: Annotated[str, Path(max_length=200)]) -> dict[str, Any]:
    from detente.deals.proposal import load_proposal

    check_id(pid, "proposal id")
    found = _bundled_proposals()
    if pid not in found:
        raise HTTPException(404, f"unknown proposal {pid!r}; known: "
                            f"{', '.join(found) or '(none)'}")
    return load_proposal(found[pid]).model_dump(mode="json")


class EvaluateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(description="scenario id", max_length=200)
    terms: dict[str, float] = Field(description="issue id -> value on the issue's scale; "
                                    "issues left out keep their status quo",
                                    max_length=200)
    guarantee: float = Field(default=0.0, ge=0, le=1)
    month: int = Field(default=0, ge=0, le=240)
    flip_grid: int = Field(default=201, ge=2, le=401,
                           description="grid points per issue when searching what flips a "
                           "veto (smaller is faster, for live sliders)")
    name: str = Field(default="proposal from the dashboard", max_length=200)


@router.post("/proposals/evaluate", tags=["proposals"], responses=ERRORS,
             summary="Who accepts, who vetoes, and what would flip each veto")
def evaluate_proposal(request: Request, req: EvaluateRequest) -> dict[str, Any]:
    from detente.deals.evaluate import evaluate
    from detente.deals.proposal import proposal_from_terms

    st = _state(request)
    sc = st.library.get(req.scenario)
    if not req.terms:
        raise HTTPException(400, "terms is empty; give at least one issue: value, e.g. "
                            f"{{\"{sc.issue_ids[0]}\": 50}}")
    try:
        prop = proposal_from_terms(req.terms, id="dashboard", name=req.name,
                                   guarantee=req.guarantee)
        ev = evaluate(sc, prop, month=req.month, where="proposal", flip_grid=req.flip_grid)
    except DetenteError as exc:
        raise HTTPException(400, str(exc)) from None
    d = ev.to_dict()
    names = {a.id: a.name for a in sc.actors}
    for row in d["actors"]:
        row["name"] = names.get(row["actor"], row["actor"])
    d["issues"] = [{"id": i.id, "name": i.name, "label": i.label_for(d["proposal"]["terms"][i.id])}
                   for i in sc.issues]
    return d


# ---------------------------------------------------------------------------------------
# jobs


@router.post("/jobs", tags=["jobs"], status_code=202,
             responses={**ERRORS, 413: {"model": Problem}, 429: {"model": Problem}},
             summary="Start a forecast or Monte Carlo job in the background")
def start_job(request: Request, req: JobRequest) -> dict[str, Any]:
    job = _state(request).jobs.submit(req)
    return job.to_dict()


@router.get("/jobs", tags=["jobs"], summary="The jobs this server knows (newest first)")
async def list_jobs(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100
                    ) -> list[dict[str, Any]]:
    return [j.to_dict() for j in _state(request).jobs.all_jobs()[:limit]]


@router.get("/jobs/{jid}", tags=["jobs"], responses=ERRORS,
            summary="A job's state and progress (poll this)")
async def get_job(request: Request, jid: JobId) -> dict[str, Any]:
    return _state(request).jobs.get(jid).to_dict()


@router.post("/jobs/{jid}/cancel", tags=["jobs"], responses={**ERRORS, 409: {"model": Problem}},
             summary="Cancel a queued or running job")
def cancel_job(request: Request, jid: JobId) -> dict[str, Any]:
    return _state(request).jobs.cancel(jid).to_dict()


# ---------------------------------------------------------------------------------------
# backtests


@router.post("/backtest", tags=["backtest"], status_code=202,
             responses={**ERRORS, 413: {"model": Problem}, 415: {"model": Problem},
                        429: {"model": Problem}},
             summary="Backtest models on uploaded outcome data (DEU or cases CSV) as a job")
async def start_backtest(
    request: Request,
    file: Annotated[UploadFile, File(description="a DEU CSV (one row per issue) or, with "
                                     "format 'cases', the cases CSV")],
    actors: Annotated[UploadFile | None, File(description="format 'cases' only: the "
                                              "case_actors.csv of the cases")] = None,
    format: Annotated[Literal["deu", "cases"], Form(description="deu or cases")] = "deu",
    models: Annotated[list[str] | None, Form(description="a model to score (repeat the "
                                             "field); none = every registered model")
                      ] = None,
    by: Annotated[Literal["proposal", "issue"], Form(
        description="DEU only: each proposal as one scenario (so the exchange model trades "
        "across its issues) or each issue alone")] = "proposal",
    seed: Annotated[int, Form(ge=0, le=2**32 - 1)] = 0,
    n_boot: Annotated[int, Form(ge=100, le=20_000, description="bootstrap draws of the "
                                "comparison with compromise")] = 2000,
    coverage: Annotated[int, Form(ge=0, le=2000, description="Monte Carlo draws per "
                                  "proposal to score interval forecasts (Monte Carlo and "
                                  "cross-conformal coverage); 0 = do not")] = 0,
) -> dict[str, Any]:
    from starlette.concurrency import run_in_threadpool

    from detente.web.backtests import load_uploaded_cases

    st = _state(request)
    content = await read_upload(request, file)
    if actors is not None and not actors.filename and not actors.size:
        actors = None  # an empty file box of a form
    side = await read_upload(request, actors) if actors is not None else None
    names = [m.strip() for m in models or [] if m.strip()]
    req = BacktestRequest(file=(file.filename or "upload.csv")[-100:],
                          actors_file=actors.filename if actors is not None else None,
                          format=format, models=names, by=by, seed=seed, n_boot=n_boot,
                          sha256=hashlib.sha256(content).hexdigest(), coverage=coverage)
    st.jobs.build_models(req.models)  # unknown or repeated names: 400 before parsing
    cases, n_left_out, shown = await run_in_threadpool(
        load_uploaded_cases, st.library.tmp, content, file.filename, format, by, side,
        actors.filename if actors is not None else None)
    req = req.model_copy(update={"file": shown})
    return st.jobs.submit_backtest(req, cases, n_left_out).to_dict()


@router.get("/backtest/{jid}", tags=["backtest"], responses={**ERRORS, 409: {"model": Problem}},
            summary="A finished backtest's scores (BacktestResult.to_dict())")
async def backtest_result(request: Request, jid: JobId) -> dict[str, Any]:
    return _state(request).jobs.backtest_result(jid)


@router.get("/backtest/{jid}/scores.csv", tags=["backtest"],
            responses={**ERRORS, 409: {"model": Problem}}, response_class=PlainTextResponse,
            summary="A finished backtest's table as CSV (spreadsheet-safe)")
def backtest_csv(request: Request, jid: JobId) -> Response:
    from detente.web.backtests import scores_csv

    result = _state(request).jobs.backtest_result(jid)
    return _csv(scores_csv(result), f"backtest-{jid[:8]}.csv")


@router.get("/backtest/{jid}/figure.png", tags=["backtest"],
            responses={**ERRORS, 409: {"model": Problem}}, response_class=Response,
            summary="A finished backtest's figure: MAE per model and the spread of errors")
def backtest_figure(request: Request, jid: JobId) -> Response:
    from detente.web.backtests import scores_figure_png

    st = _state(request)
    result = st.jobs.backtest_result(jid)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise HTTPException(404, "figures need matplotlib, which this server does not have "
                            "(pip install 'detente[plots]'); the table has every number") from None
    with st.runs._plot_lock:
        png = scores_figure_png(result, st.jobs.backtest_errors(jid))
    return Response(png, media_type="image/png", headers={"cache-control": "private, max-age=3600"})


# ---------------------------------------------------------------------------------------
# runs


@router.get("/runs", tags=["runs"], summary="Stored runs (newest first)")
async def list_runs(request: Request,
                    scenario: Annotated[str | None, Query(max_length=200)] = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    if scenario is not None:
        check_id(scenario)
    runs = _state(request).runs
    hit = runs.cached_list(limit, scenario)
    if hit is not None:
        return hit
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(runs.list_runs, limit, scenario)


@router.get("/runs/{rid}", tags=["runs"], responses=ERRORS,
            summary="A run: forecasts, positions by round, Monte Carlo summary")
async def get_run(request: Request, rid: RunId) -> Response:
    # answered on the event loop when cached (runs never change), else read in a thread
    runs = _state(request).runs
    data = runs.cached_json(rid)
    if data is None:
        from starlette.concurrency import run_in_threadpool

        data = await run_in_threadpool(runs.payload_json, rid)
    return Response(data, media_type="application/json")


@router.get("/runs/{rid}/forecasts.csv", tags=["runs"], responses=ERRORS,
            response_class=PlainTextResponse, summary="Forecasts as CSV (spreadsheet-safe)")
def run_forecasts_csv(request: Request, rid: RunId) -> Response:
    return _csv(_state(request).runs.forecasts_csv(rid), f"run-{rid}-forecasts.csv")


@router.get("/runs/{rid}/positions.csv", tags=["runs"], responses=ERRORS,
            response_class=PlainTextResponse,
            summary="Positions by round as CSV (spreadsheet-safe)")
def run_positions_csv(request: Request, rid: RunId) -> Response:
    return _csv(_state(request).runs.positions_csv(rid), f"run-{rid}-positions.csv")


@router.get("/runs/{rid}/draws.csv", tags=["runs"], responses=ERRORS,
            response_class=PlainTextResponse,
            summary="Monte Carlo draws as CSV (spreadsheet-safe)")
def run_draws_csv(request: Request, rid: RunId) -> Response:
    return _csv(_state(request).runs.draws_csv(rid), f"run-{rid}-draws.csv")


@router.get("/runs/{rid}/figures", tags=["runs"], responses=ERRORS,
            summary="The report figures available for a run")
def run_figures(request: Request, rid: RunId) -> list[dict[str, Any]]:
    st = _state(request)
    st.runs.payload(rid)
    return [{"key": f.key, "section": f.section, "title": f.title, "caption": f.caption,
             "url": f"/api/runs/{rid}/figures/{f.key}.png"}
            for f in st.runs.figure_index(rid)]


@router.get("/runs/{rid}/figures/{key}.png", tags=["runs"], responses=ERRORS,
            response_class=Response, summary="One report figure as PNG")
def run_figure(request: Request, rid: RunId,
               key: Annotated[str, Path(max_length=200)]) -> Response:
    check_id(key, "figure key")
    png = _state(request).runs.figure_png(rid, key)
    return Response(png, media_type="image/png",
                    headers={"cache-control": "private, max-age=3600"})


@router.get("/compare", tags=["runs"], responses=ERRORS,
            summary="Compare two runs: changed inputs, parameters and forecasts")
def compare(request: Request, a: Annotated[int, Query(ge=1, le=2**62)],
            b: Annotated[int, Query(ge=1, le=2**62)]) -> dict[str, Any]:
    return _state(request).runs.compare(a, b)


# silence "imported but unused" for the patterns re-exported for tests
_ = (ID_PATTERN, JOB_ID_PATTERN)
