"use strict";
(function () {
  const form = document.getElementById("run-form");
  const status = document.getElementById("run-status");
  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    const fd = new FormData(form);
    const models = fd.getAll("models");
    const params = {};
    for (const m of models) {
      const preset = fd.get("preset-" + m);
      if (preset) params[m] = { preset: preset };
    }
    const lines = (fd.get("params") || "").split(/\n/).map(function (s) { return s.trim(); }).filter(Boolean);
    for (const line of lines) {
      const m = line.match(/^([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\s*=\s*(.+)$/);
      if (!m) { status.textContent = "cannot read '" + line + "': write model.parameter=value"; return; }
      let v = m[3];
      if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v)) v = Number(v);
      else if (v === "true" || v === "false") v = (v === "true");
      (params[m[1]] = params[m[1]] || {})[m[2]] = v;
    }
    const body = {
      scenario: fd.get("scenario"), kind: fd.get("kind"), models: models, params: params,
      seed: Number(fd.get("seed") || 0), draws: Number(fd.get("draws") || 200),
    };
    if (fd.get("note")) body.note = fd.get("note");
    status.textContent = "starting…";
    try {
      const job = await detente.api("POST", "/api/jobs", body);
      window.location.href = "/jobs/" + job.id;
    } catch (e) { status.textContent = e.message; status.classList.add("error"); }
  });
})();
