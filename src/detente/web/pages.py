"""Server-rendered pages. Templates extend the report's ``base.html`` and include its section
partials, so a run looks the same in the dashboard as in a stand-alone report."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from detente.web.security import check_id, login_cookie

__all__ = ["router"]

router = APIRouter(tags=["pages"])


def _state(request: Request) -> Any:
    return request.app.state.detente


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    from detente import __version__

    st = _state(request)
    html = st.env.get_template(template).render(
        request_path=request.url.path, version=__version__, settings=st.settings, **ctx)
    return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})


def _models() -> list[dict[str, Any]]:
    from detente.web.api import models

    return models()


@router.get("/", response_class=HTMLResponse, summary="Scenario library")
def library_page(request: Request) -> HTMLResponse:
    st = _state(request)
    return render(request, "library.html", entries=st.library.entries(), error=None,
                  max_mb=st.settings.max_upload_bytes / 1e6)


@router.post("/scenarios/upload", response_class=HTMLResponse,
             summary="Upload a scenario from the library page's form")
async def upload_page(request: Request,
                      file: Annotated[UploadFile, File()],
                      id: Annotated[str | None, Form()] = None,
                      overwrite: Annotated[bool, Form()] = False) -> Response:
    from detente.web.api import read_upload

    st = _state(request)
    try:
        content = await read_upload(request, file)
        sc = st.library.parse_upload(content, file.filename or "upload.yaml")
        if id:
            check_id(id)
            sc = sc.model_copy(update={"id": id})
        st.library.save(sc, overwrite=overwrite)
    except HTTPException as exc:
        return render(request, "library.html", status=exc.status_code,
                      entries=st.library.entries(), error=str(exc.detail),
                      max_mb=st.settings.max_upload_bytes / 1e6)
    return RedirectResponse(f"/scenarios/{sc.id}?uploaded=1", status_code=303)


@router.get("/scenarios/{sid}", response_class=HTMLResponse, summary="Scenario editor")
def editor_page(request: Request, sid: Annotated[str, Path(max_length=200)]) -> HTMLResponse:
    from detente.scenario.io_yaml import scenario_to_data

    st = _state(request)
    sc = st.library.get(sid)
    bundled = st.library.is_bundled(sid)
    return render(request, "editor.html", scenario=sc, data=scenario_to_data(sc),
                  bundled=bundled, save_id=f"{sid}-edit" if bundled else sid,
                  uploaded=request.query_params.get("uploaded") == "1")


@router.get("/run", response_class=HTMLResponse, summary="Start a forecast or Monte Carlo job")
def run_page(request: Request,
             scenario: Annotated[str | None, Query(max_length=200)] = None) -> HTMLResponse:
    st = _state(request)
    if scenario is not None:
        st.library.get(scenario)  # 404 for unknown ids, before the page renders
    return render(request, "run.html", entries=st.library.entries(), models=_models(),
                  chosen=scenario or "ukraine-2025", max_draws=st.settings.max_draws)


@router.get("/jobs/{jid}", response_class=HTMLResponse, summary="A job's progress")
def job_page(request: Request, jid: Annotated[str, Path(max_length=64)]) -> HTMLResponse:
    job = _state(request).jobs.get(jid)
    return render(request, "job.html", job=job.to_dict())


@router.get("/runs", response_class=HTMLResponse, summary="Stored runs")
def runs_page(request: Request) -> HTMLResponse:
    st = _state(request)
    return render(request, "runs.html", runs=st.runs.list_runs(), jobs=[
        j.to_dict() for j in st.jobs.all_jobs()[:20]])


@router.get("/runs/{rid}", response_class=HTMLResponse, summary="A run's results")
def result_page(request: Request, rid: Annotated[int, Path(ge=1, le=2**62)]) -> HTMLResponse:
    from detente.report.html import FigureView, quantile_levels, report_sections

    st = _state(request)
    payload = st.runs.payload(rid)
    report = st.runs.report(rid)
    figs = [FigureView(f.key, f.section, f.title, f.caption,
                       f"/api/runs/{rid}/figures/{f.key}.png", list(f.details), lazy=True)
            for f in st.runs.figure_index(rid)]
    return render(request, "result.html", run=payload, report=report, figures=figs,
                  sections=report_sections(report, figs),
                  quantile_levels=quantile_levels(report),
                  has_draws=st.jobs.draws_path(rid).is_file())


@router.get("/compare", response_class=HTMLResponse, summary="Compare two runs")
def compare_page(request: Request,
                 a: Annotated[int | None, Query(ge=1, le=2**62)] = None,
                 b: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> HTMLResponse:
    st = _state(request)
    diff = st.runs.compare(a, b) if a is not None and b is not None else None
    return render(request, "compare.html", runs=st.runs.list_runs(), diff=diff, a=a, b=b)


@router.get("/proposals", response_class=HTMLResponse, summary="Proposal tester")
def proposals_page(request: Request,
                   scenario: Annotated[str | None, Query(max_length=200)] = None,
                   proposal: Annotated[str | None, Query(max_length=200)] = None
                   ) -> HTMLResponse:
    from detente.scenario.io_yaml import scenario_to_data
    from detente.web.api import get_proposal, list_proposals

    st = _state(request)
    props = list_proposals()
    chosen = None
    if proposal:
        chosen = get_proposal(proposal)
    sid = scenario or (chosen or {}).get("scenario") or "ukraine-2025"
    sc = st.library.get(sid)
    return render(request, "proposals.html", entries=st.library.entries(), scenario=sc,
                  data=scenario_to_data(sc), proposals=props, chosen=chosen)


@router.get("/backtest", response_class=HTMLResponse,
            summary="Backtest models on uploaded outcome data; a job's progress and scores")
def backtest_page(request: Request,
                  job: Annotated[str | None, Query(max_length=64)] = None) -> HTMLResponse:
    st = _state(request)
    shown = None
    if job is not None:
        found = st.jobs.get(job)
        if found.kind != "backtest":
            raise HTTPException(404, f"job {job} is a {found.kind} job, not a backtest; see "
                                f"/jobs/{job}")
        shown = found.to_dict()
    return render(request, "backtest.html", job=shown, models=_models(),
                  max_mb=st.settings.max_upload_bytes / 1e6)


@router.get("/login", response_class=HTMLResponse, summary="Sign in with the access token")
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html", error=None)


@router.post("/login", response_class=HTMLResponse, summary="Check the token, set the cookie")
def login(request: Request, token: Annotated[str, Form(max_length=512)]) -> Response:
    st = _state(request)
    expected = st.settings.token
    if expected is None:
        return RedirectResponse("/", status_code=303)
    if not hmac.compare_digest(token.encode(), expected.encode()):
        return render(request, "login.html", status=401,
                      error="wrong access token; use the one printed when the server started "
                            "(or DETENTE_TOKEN)")
    resp = RedirectResponse("/", status_code=303)
    resp.headers["set-cookie"] = login_cookie(token)
    return resp
