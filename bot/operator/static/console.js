// The staff console's one script (served by the app: the CSP allows no inline script).
// Live updates: an element with data-events opens a server-sent event stream; a new
// application is added at the top of the queue; "end" (signed out, expired) reloads the page.
(function () {
  "use strict";
  var live = document.querySelector("[data-events]");
  if (!live || !window.EventSource) { return; }
  var source = new EventSource(live.getAttribute("data-events"));
  var added = 0;
  // The stream answers once its first look at the queue is taken: from then on nothing new
  // is missed (tests wait for this mark before they add an application).
  source.addEventListener("open", function () { live.setAttribute("data-live", "on"); });
  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }
  source.addEventListener("application", function (message) {
    var item = JSON.parse(message.data);
    var body = document.querySelector("#queue tbody");
    if (!body) { return; }
    var row = document.createElement("tr");
    row.className = "fresh";
    row.setAttribute("data-number", item.number);
    var first = document.createElement("td");
    var link = document.createElement("a");
    link.href = item.url;
    link.textContent = item.number;
    first.appendChild(link);
    row.appendChild(first);
    cell(row, item.service);
    cell(row, item.patient);
    cell(row, item.status);
    cell(row, item.created);
    cell(row, item.deadline);
    body.insertBefore(row, body.firstChild);
    added += 1;
    live.textContent = (live.getAttribute("data-new") || "New") + ": " + added;
  });
  source.addEventListener("end", function () {
    source.close();
    window.location.reload();
  });
})();
