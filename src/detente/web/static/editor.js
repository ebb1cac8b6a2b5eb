"use strict";
(function () {
  const original = detente.json("scenario-data");
  const status = document.getElementById("editor-status");
  const general = document.getElementById("general-errors");
  const relTable = document.getElementById("relations-table");

  function num(input) {
    const v = input.value.trim();
    if (v === "") return null;
    const n = Number(v);
    return Number.isFinite(n) ? n : v;  // a non-number goes to the server, which names it
  }

  // Build the scenario from the original data and the edited inputs. Stances keep their
  // original order (so error paths such as stances[3] map back to cells); new ones follow.
  function collect() {
    const data = JSON.parse(JSON.stringify(original));
    const actorRows = document.querySelectorAll("#actors-table tr[data-actor]");
    data.actors = Array.from(actorRows).map(function (row, k) {
      const a = Object.assign({}, original.actors[k]);
      a.name = row.querySelector("[data-field=name]").value;
      a.kind = row.querySelector("[data-field=kind]").value;
      const parent = row.querySelector("[data-field=parent]").value;
      if (parent) a.parent = parent; else delete a.parent;
      a.capability = num(row.querySelector("[data-field=capability]"));
      return a;
    });
    const cells = {};
    document.querySelectorAll("#stance-grid td.cell").forEach(function (td) {
      cells[td.dataset.actor + "\u0000" + td.dataset.issue] = td;
    });
    const seen = new Set();
    const stances = [];
    function fromCell(td, base) {
      const pos = num(td.querySelector("[data-field=position]"));
      if (pos === null) return null;
      const s = Object.assign({}, base || { actor: td.dataset.actor, issue: td.dataset.issue });
      s.position = pos;
      s.salience = num(td.querySelector("[data-field=salience]"));
      if (s.salience === null) delete s.salience;
      const cap = num(td.querySelector("[data-field=capability]"));
      if (cap === null) delete s.capability; else s.capability = cap;
      return s;
    }
    for (const st of original.stances) {
      const key = st.actor + "\u0000" + st.issue;
      seen.add(key);
      const td = cells[key];
      if (!td) { stances.push(st); continue; }
      const s = fromCell(td, st);
      if (s) stances.push(s);
    }
    for (const [key, td] of Object.entries(cells)) {
      if (seen.has(key)) continue;
      const s = fromCell(td, null);
      if (s) stances.push(s);
    }
    data.stances = stances;
    const rels = [];
    relTable.querySelectorAll("tr.relation").forEach(function (row) {
      const k = row.dataset.index !== undefined ? Number(row.dataset.index) : -1;
      const r = Object.assign({}, k >= 0 && original.relations ? original.relations[k] : {});
      r.kind = row.querySelector("[data-field=kind]").value;
      r.source = row.querySelector("[data-field=source]").value;
      r.target = row.querySelector("[data-field=target]").value;
      r.weight = num(row.querySelector("[data-field=weight]"));
      rels.push(r);
    });
    if (rels.length) data.relations = rels; else delete data.relations;
    data.id = document.getElementById("save-id").value.trim();
    return data;
  }

  function clearErrors() {
    document.querySelectorAll(".invalid").forEach(function (n) { n.classList.remove("invalid"); });
    document.querySelectorAll(".cell-error").forEach(function (n) { n.textContent = ""; });
    general.textContent = "";
  }

  function place(err) {
    let target = null;
    let input = null;
    if (err.section === "stances" && err.actor && err.issue) {
      target = document.querySelector('#stance-grid td.cell[data-actor="' + CSS.escape(err.actor) +
        '"][data-issue="' + CSS.escape(err.issue) + '"]');
      if (target && err.field) input = target.querySelector('[data-field="' + CSS.escape(err.field) + '"]');
    } else if (err.section === "actors" && err.index !== null) {
      const row = document.querySelectorAll("#actors-table tr[data-actor]")[err.index];
      if (row) {
        input = err.field ? row.querySelector('[data-field="' + CSS.escape(err.field) + '"]') : null;
        target = input ? input.parentElement : row.querySelector("td:last-child");
      }
    } else if (err.section === "relations" && err.index !== null) {
      const row = relTable.querySelectorAll("tr.relation")[err.index];
      if (row) {
        input = err.field ? row.querySelector('[data-field="' + CSS.escape(err.field) + '"]') : null;
        target = input ? input.parentElement : row.querySelector("td");
      }
    }
    if (!target) {
      general.append(detente.el("div", { text: err.path + ": " + err.message }));
      return;
    }
    if (input) input.classList.add("invalid"); else target.classList.add("invalid");
    const box = target.querySelector(".cell-error");
    if (box) box.textContent = (box.textContent ? box.textContent + " " : "") + err.message;
  }

  function show(errors) {
    clearErrors();
    for (const e of errors) place(e);
    status.textContent = errors.length ? errors.length + " problem(s): see the messages beside the cells" : "";
  }

  async function check() {
    status.textContent = "checking…";
    try {
      const r = await detente.api("POST", "/api/scenarios/validate", collect());
      if (r.ok) { clearErrors(); status.textContent = "valid"; } else show(r.errors);
      return r.ok;
    } catch (e) { clearErrors(); general.textContent = e.message; status.textContent = ""; return false; }
  }

  async function save() {
    const data = collect();
    if (!data.id) { status.textContent = "give an id to save under"; return; }
    status.textContent = "saving…";
    try {
      await detente.api("PUT", "/api/scenarios/" + encodeURIComponent(data.id), data);
      clearErrors();
      status.textContent = "saved as " + data.id;
      const link = document.getElementById("run-link");
      link.href = "/run?scenario=" + encodeURIComponent(data.id);
      if (data.id !== original.id) {
        window.location.href = "/scenarios/" + encodeURIComponent(data.id);
      }
    } catch (e) {
      if (e.data && e.data.errors) show(e.data.errors);
      else { clearErrors(); general.textContent = e.message; status.textContent = ""; }
    }
  }

  document.getElementById("validate-btn").addEventListener("click", check);
  document.getElementById("save-btn").addEventListener("click", save);
  document.getElementById("add-relation").addEventListener("click", function () {
    const tpl = document.getElementById("relation-row");
    relTable.querySelector("tbody").append(tpl.content.cloneNode(true));
  });
  relTable.addEventListener("click", function (ev) {
    const b = ev.target.closest("[data-remove-relation]");
    if (b) b.closest("tr").remove();
  });
  // live check a moment after the last edit
  let pending = null;
  document.querySelector("main").addEventListener("input", function (ev) {
    if (!ev.target.closest("#stance-grid, #actors-table, #relations-table")) return;
    if (pending) clearTimeout(pending);
    pending = setTimeout(check, 600);
  });
})();
