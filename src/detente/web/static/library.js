"use strict";
document.addEventListener("click", async function (ev) {
  const btn = ev.target.closest("[data-delete]");
  if (!btn) return;
  const id = btn.getAttribute("data-delete");
  if (!window.confirm("Delete the user scenario " + id + "?")) return;
  try {
    await detente.api("DELETE", "/api/scenarios/" + encodeURIComponent(id));
    window.location.reload();
  } catch (e) { window.alert(e.message); }
});
