"use strict";
(function () {
  const form = document.getElementById("backtest-form");
  const status = document.getElementById("bt-status");
  const error = document.getElementById("bt-error");
  const box = document.getElementById("bt-job");
  const bar = document.getElementById("bt-progress");
  const pct = document.getElementById("bt-percent");
  const message = document.getElementById("bt-message");
  const cancel = document.getElementById("bt-cancel");
  const result = document.getElementById("bt-result");
  let timer = null;
  let jobId = null;

  function showError(text) { error.hidden = !text; error.textContent = text || ""; }

  function setFormat() {
    const cases = form.querySelector("input[name=format]:checked").value === "cases";
    document.getElementById("bt-actors-box").hidden = !cases;
    document.getElementById("bt-by-box").hidden = cases;
  }
  form.addEventListener("change", function (ev) { if (ev.target.name === "format") setFormat(); });
  setFormat();

  function pctText(v) { return v === null || v === undefined ? "–" : Math.round(v * 100) + " %"; }

  function diffText(m) {
    const d = m.diff_vs_compromise;
    if (!d || !d.n || d.mean === null || (m.model === "compromise" && d.mean === 0)) return "–";
    const s = function (v) { return (v > 0 ? "+" : "") + detente.fmt(v, 2); };
    return s(d.mean) + " [" + s(d.ci_low) + ", " + s(d.ci_high) + "]";
  }

  function renderCalibration(cal) {
    const box = document.getElementById("bt-calibration");
    box.hidden = !cal;
    if (!cal) return;
    const body = document.querySelector("#bt-calibration-table tbody");
    body.innerHTML = "";
    for (const [model, e] of Object.entries(cal)) {
      e.conformal.forEach(function (c, i) {
        const mc = e.montecarlo ? e.montecarlo[i] : null;
        body.append(detente.el("tr", { "data-model": model }, [
          detente.el("td", { text: model, title: e.montecarlo_error || null }),
          detente.el("td", { class: "num", text: pctText(c.nominal) }),
          detente.el("td", { class: "num", text: mc ? pctText(mc.coverage) : "–" }),
          detente.el("td", { class: "num", text: mc ? detente.fmt(mc.mean_width, 1) : "–" }),
          detente.el("td", { class: "num", text: pctText(c.coverage) }),
          detente.el("td", { class: "num", text: detente.fmt(c.mean_width, 1) }),
        ]));
      });
    }
  }

  function renderResult(r) {
    document.getElementById("bt-summary").textContent = r.source + ": " + r.n_scored_issues +
      " scored issues (" + r.n_unscoreable + " without an outcome or with fewer than 3 actors left out); " +
      "errors in points on 0–100.";
    const rows = r.models.slice().sort(function (a, b) {
      return (a.mae === null) - (b.mae === null) || (a.mae || 0) - (b.mae || 0);
    });
    const top = Math.max.apply(null, rows.map(function (m) { return m.mae || 0; }).concat([1e-9]));
    const body = document.querySelector("#backtest-table tbody");
    body.innerHTML = "";
    for (const m of rows) {
      const d = m.diff_vs_compromise;
      const fill = detente.el("span", { class: "bt-bar" });
      fill.style.width = (100 * (m.mae || 0) / top).toFixed(1) + "%";
      let cls = "num";
      if (d && d.n && m.model !== "compromise" && d.ci_high !== null && d.ci_low !== null) {
        if (d.ci_high < 0) cls += " yes"; else if (d.ci_low > 0) cls += " no";
      }
      let skipped = m.skipped ? String(m.skipped) : "";
      if (m.not_converged) skipped += (skipped ? " " : "") + "(" + m.not_converged + " not converged)";
      const reasons = Object.entries(m.skipped_reasons || {}).map(function (kv) {
        return kv[1] + ": " + kv[0];
      }).join("; ");
      body.append(detente.el("tr", { "data-model": m.model }, [
        detente.el("td", { text: m.model, title: m.note || null },
                   m.note ? [detente.el("br"), detente.el("small", { class: "muted", text: m.note })]
                          : []),
        detente.el("td", { class: "num", text: String(m.n) }),
        detente.el("td", { class: "num mae", text: detente.fmt(m.mae, 2) }),
        detente.el("td", { class: "bt-bar-cell" }, [fill]),
        detente.el("td", { class: "num", text: detente.fmt(m.median_ae, 2) }),
        detente.el("td", { class: "num", text: pctText(m.within_10) }),
        detente.el("td", { class: "num", text: pctText(m.within_20) }),
        detente.el("td", { class: cls, text: diffText(m) }),
        detente.el("td", { class: "muted", text: skipped, title: reasons || null }),
      ]));
    }
    renderCalibration(r.calibration);
    document.getElementById("bt-csv").href = "/api/backtest/" + jobId + "/scores.csv";
    document.getElementById("bt-json").href = "/api/backtest/" + jobId;
    const fig = document.getElementById("bt-figure");
    const img = document.getElementById("bt-figure-img");
    img.addEventListener("load", function () { fig.hidden = false; }, { once: true });
    img.addEventListener("error", function () { fig.hidden = true; }, { once: true });
    img.src = "/api/backtest/" + jobId + "/figure.png";
    result.hidden = false;
  }

  function show(job) {
    box.hidden = false;
    const req = job.request || {};
    document.getElementById("bt-title").textContent = "Backtest of " + (req.file || "the upload") +
      " (" + ((req.models || []).join(", ") || "every model") + ")";
    bar.value = job.progress;
    pct.textContent = Math.round(job.progress * 100) + " %";
    message.innerHTML = "";
    message.append(detente.el("strong", { text: job.status }), ": " + job.message);
    showError(job.error);
    cancel.hidden = job.final;
    if (job.final && timer) { clearInterval(timer); timer = null; }
    if (job.result && result.hidden) renderResult(job.result);
  }

  async function poll() {
    try { show(await detente.api("GET", "/api/jobs/" + jobId)); }
    catch (e) { message.textContent = "cannot read the job: " + e.message; }
  }

  function follow(job) {
    jobId = job.id;
    result.hidden = true;
    show(job);
    if (!job.final && !timer) timer = setInterval(poll, 400);
  }

  cancel.addEventListener("click", async function () {
    cancel.disabled = true;
    try { show(await detente.api("POST", "/api/jobs/" + jobId + "/cancel")); }
    catch (e) { showError(e.message); }
    cancel.disabled = false;
  });

  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    const fd = new FormData(form);
    const actors = fd.get("actors");
    if (fd.get("format") !== "cases" || !actors || !actors.name) fd.delete("actors");
    if (fd.get("format") === "cases") fd.delete("by");
    if (!fd.getAll("models").length) { status.textContent = "tick at least one model"; return; }
    status.textContent = "uploading and reading the file…";
    showError("");
    try {
      const resp = await fetch("/api/backtest", { method: "POST", body: fd, credentials: "same-origin",
        headers: { "Accept": "application/json" } });
      const text = await resp.text();
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
      if (!resp.ok) throw new Error((data && data.detail) || ("HTTP " + resp.status));
      status.textContent = "";
      window.history.replaceState(null, "", "/backtest?job=" + encodeURIComponent(data.id));
      follow(data);
    } catch (e) { status.textContent = ""; showError(e.message); }
  });

  const initial = detente.json("backtest-job");
  if (initial) follow(initial);
})();
