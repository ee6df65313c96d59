// The supervisor's list of chats (bot/operator/supervisor_pages.py): when a chat enters,
// leaves or changes hands the server sends "changed" and the page reloads itself, unless the
// supervisor is choosing in a form; "end" (signed out, expired) reloads too.
(function () {
  "use strict";
  var live = document.querySelector("[data-supervisor-events]");
  if (!live || !window.EventSource) { return; }
  var source = new EventSource(live.getAttribute("data-supervisor-events"));
  var pending = false;
  function reload() {
    var active = document.activeElement;
    if (active && active.form) {  // do not pull the select away from under the supervisor
      pending = true;
      return;
    }
    window.location.reload();
  }
  document.addEventListener("focusout", function () {
    if (pending) { window.setTimeout(reload, 500); }
  });
  source.addEventListener("changed", function () {
    live.textContent = live.getAttribute("data-changed") || "";
    reload();
  });
  source.addEventListener("end", function () {
    source.close();
    window.location.reload();
  });
})();
