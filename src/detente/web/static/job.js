"use strict";
(function () {
  const box = document.getElementById("job");
  if (!box) return;
  const id = box.getAttribute("data-job");
  const bar = document.getElementById("job-progress");
  const pct = document.getElementById("job-percent");
  const status = document.getElementById("job-status");
  const error = document.getElementById("job-error");
  const cancel = document.getElementById("cancel-btn");
  const link = document.getElementById("result-link");
  let timer = null;
  function show(job) {
    bar.value = job.progress;
    pct.textContent = Math.round(job.progress * 100) + " %";
    status.innerHTML = "";
    status.append(detente.el("strong", { text: job.status }), ": " + job.message);
    if (job.error) { error.hidden = false; error.textContent = job.error; }
    cancel.hidden = job.final;
    if (job.run_id) { link.hidden = false; link.href = "/runs/" + job.run_id; }
    if (job.kind === "backtest" && job.status === "done") link.hidden = false;
    if (job.final && timer) { clearInterval(timer); timer = null; }
  }
  async function poll() {
    try { show(await detente.api("GET", "/api/jobs/" + id)); }
    catch (e) { status.textContent = "cannot read the job: " + e.message; }
  }
  cancel.addEventListener("click", async function () {
    cancel.disabled = true;
    try { show(await detente.api("POST", "/api/jobs/" + id + "/cancel")); }
    catch (e) { error.hidden = false; error.textContent = e.message; }
    cancel.disabled = false;
  });
  poll();
  timer = setInterval(poll, 400);
})();
