"use strict";
(function () {
  const original = detente.json("scenario-data");
  const status = document.getElementById("editor-status");
  const general = document.getElementById("general-errors");
  const relTable = document.getElementById("relations-table");
  const bundled = document.getElementById("editor").dataset.bundled === "1";
  let dirty = false;  // edits not saved yet

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
      // by id when the server gives it: after a removal, indices no longer match the rows
      const row = err.id ? document.querySelector('#actors-table tr[data-actor="' + CSS.escape(err.id) + '"]')
        : document.querySelectorAll("#actors-table tr[data-actor]")[err.index];
      if (row) {
        input = err.field ? row.querySelector('[data-field="' + CSS.escape(err.field) + '"]') : null;
        target = input ? input.parentElement : row.querySelector("td:last-child");
      }
    } else if (err.section === "issues" && err.index !== null) {
      const row = err.id ? document.querySelector('#issues-table tr[data-issue="' + CSS.escape(err.id) + '"]')
        : document.querySelectorAll("#issues-table tr[data-issue]")[err.index];
      if (row) target = row.querySelector("td:last-child");
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
      dirty = false;
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
    dirty = true;
  });
  relTable.addEventListener("click", function (ev) {
    const b = ev.target.closest("[data-remove-relation]");
    if (b) { b.closest("tr").remove(); dirty = true; }
  });
  // live check a moment after the last edit
  let pending = null;
  document.querySelector("main").addEventListener("input", function (ev) {
    if (!ev.target.closest("#stance-grid, #actors-table, #relations-table")) return;
    dirty = true;
    if (pending) clearTimeout(pending);
    pending = setTimeout(check, 600);
  });

  // -- adding and removing actors and issues -------------------------------------------
  // These change the stored user scenario on the server (POST/DELETE /api/scenarios/{id}/
  // actors|issues), which checks the result against the scenario schema. Edits not saved
  // yet, or the copy of a bundled scenario, are saved first so nothing is lost.
  const NOTE = "detente-editor-note";

  async function saveFirst() {
    const data = collect();
    if (!data.id) { status.textContent = "give an id to save under"; return null; }
    if (!dirty && !bundled && data.id === original.id) return data.id;
    status.textContent = "saving your edits first…";
    try {
      await detente.api("PUT", "/api/scenarios/" + encodeURIComponent(data.id), data);
      dirty = false;
      return data.id;
    } catch (e) {
      if (e.data && e.data.errors) show(e.data.errors);
      else { clearErrors(); general.textContent = e.message; status.textContent = ""; }
      return null;
    }
  }

  function formField(form, name) {
    return form ? form.querySelector('[data-field="' + CSS.escape(name) + '"]') : null;
  }

  function showChangeErrors(form, e) {
    clearErrors();
    const box = form ? form.querySelector(".form-error") : general;
    const errors = (e.data && e.data.errors) || [];
    const target = (e.data && e.data.target) || null;
    if (!errors.length || !form) box.append(detente.el("div", { text: e.message }));
    for (const err of errors) {
      const mine = form && target && err.section === target.section && err.index === target.index;
      const input = mine && err.field ? formField(form, err.field) : null;
      if (input) {
        input.classList.add("invalid");
        const slot = input.parentElement.querySelector(".cell-error");
        slot.textContent = (slot.textContent ? slot.textContent + " " : "") + err.message;
      } else if (mine) {
        box.append(detente.el("div", { text: err.message }));
      } else {
        place(err);
        if (form) box.append(detente.el("div", { text: err.path + ": " + err.message }));
      }
    }
    status.textContent = errors.length ? errors.length + " problem(s): nothing was changed" : "";
  }

  async function change(form, call, note) {
    if (form) form.querySelector("button[type=submit]").disabled = true;
    try {
      const sid = await saveFirst();
      if (!sid) return;
      status.textContent = "changing…";
      try {
        await call(sid);
      } catch (e) {
        showChangeErrors(form, e);
        return;
      }
      window.sessionStorage.setItem(NOTE, note);
      window.location.href = "/scenarios/" + encodeURIComponent(sid);
    } finally {
      if (form) form.querySelector("button[type=submit]").disabled = false;
    }
  }

  function values(form, names) {
    const out = {};
    for (const name of names) {
      const input = formField(form, name);
      if (input.type === "number") out[name] = num(input);
      else out[name] = input.value.trim() || (name === "id" || name === "name" ? "" : null);
    }
    return out;
  }

  const issueForm = document.getElementById("add-issue-form");
  issueForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    const body = values(issueForm, ["id", "name", "scale_min", "scale_max", "status_quo"]);
    change(issueForm, function (sid) {
      return detente.api("POST", "/api/scenarios/" + encodeURIComponent(sid) + "/issues", body);
    }, "added issue " + body.id + ": give its stances in the new column, then Save");
  });
  const actorForm = document.getElementById("add-actor-form");
  formField(actorForm, "parent").addEventListener("change", function (ev) {
    const kind = formField(actorForm, "kind");
    if (ev.target.value && kind.value === "state") kind.value = "faction";
  });
  actorForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    const body = values(actorForm, ["id", "name", "capability", "kind", "parent"]);
    change(actorForm, function (sid) {
      return detente.api("POST", "/api/scenarios/" + encodeURIComponent(sid) + "/actors", body);
    }, "added actor " + body.id + ": give its stances in the new row, then Save");
  });
  document.querySelector("main").addEventListener("click", function (ev) {
    const a = ev.target.closest("[data-remove-actor]");
    const i = ev.target.closest("[data-remove-issue]");
    if (!a && !i) return;
    const what = a ? "actor" : "issue";
    const id = (a || i).getAttribute(a ? "data-remove-actor" : "data-remove-issue");
    const also = a ? "its stances, relations, dynamics and events" : "every stance on it";
    if (!window.confirm("Remove the " + what + " " + id + " with " + also + "?")) return;
    change(null, function (sid) {
      return detente.api("DELETE", "/api/scenarios/" + encodeURIComponent(sid) + "/" + what +
        "s/" + encodeURIComponent(id));
    }, "removed " + what + " " + id);
  });
  const note = window.sessionStorage.getItem(NOTE);
  if (note) { window.sessionStorage.removeItem(NOTE); status.textContent = note; }
})();
