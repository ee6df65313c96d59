// The 1414 desk's pages (served by the app: the CSP allows no inline script).
// - The queue: the waiting chats and "my chats" rebuilt from server-sent events.
// - A chat: new messages appended live; the reply box's SMS segment counter, counted exactly
//   as bot/sms/segments.py does, with that module's own alphabet (the page gives it); quick
//   replies inserted in the box.
(function () {
  "use strict";

  function text(tag, value, cls) {
    var node = document.createElement(tag);
    node.textContent = value;
    if (cls) { node.className = cls; }
    return node;
  }

  // --- the queue -------------------------------------------------------------------------
  function queuePage(root) {
    var csrf = root.getAttribute("data-csrf");
    function fill(id, rows, waiting) {
      var body = document.querySelector("#" + id + " tbody");
      var empty = document.getElementById(id + "-empty");
      if (!body) { return; }
      while (body.firstChild) { body.removeChild(body.firstChild); }
      rows.forEach(function (item) {
        var row = document.createElement("tr");
        row.setAttribute("data-chat", String(item.id));
        row.appendChild(text("td", waiting ? String(item.place) : String(item.id)));
        [item.waited, item.channel, item.language, item.reason].forEach(function (v) {
          row.appendChild(text("td", v));
        });
        var step = document.createElement("td");
        step.appendChild(text("code", item.step));
        row.appendChild(step);
        var last = document.createElement("td");
        if (waiting) {
          var form = document.createElement("form");
          form.method = "post";
          form.action = item.url + "/claim";
          form.className = "inline";
          var hidden = document.createElement("input");
          hidden.type = "hidden";
          hidden.name = "csrf";
          hidden.value = csrf;
          form.appendChild(hidden);
          var button = text("button", root.getAttribute("data-claim"), "claim");
          button.type = "submit";
          form.appendChild(button);
          last.appendChild(form);
        } else {
          var link = text("a", root.getAttribute("data-open"));
          link.href = item.url;
          last.appendChild(link);
        }
        row.appendChild(last);
        body.appendChild(row);
      });
      if (empty) { empty.hidden = rows.length > 0; }
    }
    var source = new EventSource(root.getAttribute("data-desk-events"));
    source.addEventListener("queue", function (message) {
      var data = JSON.parse(message.data);
      fill("waiting", data.waiting, true);
      fill("mine", data.mine, false);
      var count = document.getElementById("waiting-count");
      if (count) { count.textContent = String(data.waiting.length); }
      root.setAttribute("data-updated", String(Date.now()));
    });
    source.addEventListener("end", function () { source.close(); window.location.reload(); });
  }

  // --- a chat ----------------------------------------------------------------------------
  function transcriptLive(list) {
    var url = list.getAttribute("data-desk-events") + "?after=" +
      encodeURIComponent(list.getAttribute("data-after") || "0");
    var source = new EventSource(url);
    source.addEventListener("message", function (message) {
      var item = JSON.parse(message.data);
      if (list.querySelector('li[data-id="' + String(item.id) + '"]')) { return; }
      var li = document.createElement("li");
      li.className = "msg " + item.sender + " fresh";
      li.setAttribute("data-id", String(item.id));
      li.appendChild(text("span", item.who, "who"));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(text("span", item.at, "at"));
      if (item.failed) {
        li.appendChild(document.createTextNode(" "));
        li.appendChild(text("strong", item.failed, "late"));
      }
      li.appendChild(text("div", item.body, "body"));
      list.appendChild(li);
      li.scrollIntoView({ block: "nearest" });
    });
    source.addEventListener("state", function (message) {
      var item = JSON.parse(message.data);
      source.close();
      var moved = document.getElementById("moved");
      if (moved) { moved.textContent = item.notice; moved.hidden = false; }
      document.querySelectorAll(".conversation form button, .conversation form textarea")
        .forEach(function (node) { node.disabled = true; });
    });
    source.addEventListener("end", function () { source.close(); window.location.reload(); });
  }

  function codes(value) {
    var found = {};
    JSON.parse(value || "[]").forEach(function (code) { found[String.fromCodePoint(code)] = true; });
    return found;
  }

  // bot/sms/segments.py count_segments, line for line.
  function countSegments(value, basic, extension) {
    var chars = Array.from(value);
    var gsm = chars.every(function (ch) { return basic[ch] || extension[ch]; });
    var sizes = chars.map(function (ch) {
      if (gsm) { return extension[ch] ? 2 : 1; }
      return ch.codePointAt(0) > 0xFFFF ? 2 : 1;
    });
    var units = sizes.reduce(function (a, b) { return a + b; }, 0);
    var single = gsm ? 160 : 70;
    var part = gsm ? 153 : 67;
    var encoding = gsm ? "GSM-7" : "UCS-2";
    if (units === 0) { return { encoding: encoding, units: 0, segments: 0 }; }
    if (units <= single) { return { encoding: encoding, units: units, segments: 1 }; }
    var parts = 1;
    var used = 0;
    sizes.forEach(function (size) {
      if (used + size > part) { parts += 1; used = 0; }
      used += size;
    });
    return { encoding: encoding, units: units, segments: parts };
  }

  function counter(box) {
    var output = document.getElementById("segments");
    var warning = document.getElementById("segments-warning");
    var basic = codes(box.getAttribute("data-gsm"));
    var extension = codes(box.getAttribute("data-gsm-extension"));
    var prefix = box.getAttribute("data-prefix") || "";
    var suffix = box.getAttribute("data-suffix") || "";
    var sms = box.getAttribute("data-sms") === "yes";
    function update() {
      var body = box.value.trim();
      var whole = body ? prefix + body + suffix : "";
      var count = countSegments(whole, basic, extension);
      var chars = Array.from(whole).length;
      output.textContent = output.getAttribute("data-template")
        .replace("{chars}", String(chars))
        .replace("{segments}", String(count.segments))
        .replace("{encoding}", count.encoding);
      output.setAttribute("data-segments", String(count.segments));
      output.setAttribute("data-encoding", count.encoding);
      if (warning) { warning.hidden = !(sms && count.segments > 2); }
    }
    box.addEventListener("input", update);
    document.querySelectorAll(".quick-reply").forEach(function (button) {
      button.addEventListener("click", function () {
        var insert = button.getAttribute("data-text") || "";
        var start = box.selectionStart || 0;
        var end = box.selectionEnd || 0;
        var before = box.value.slice(0, start);
        var spacer = before && !/\s$/.test(before) ? " " : "";
        box.value = before + spacer + insert + box.value.slice(end);
        var caret = (before + spacer + insert).length;
        box.focus();
        box.setSelectionRange(caret, caret);
        update();
      });
    });
    update();
  }

  var queue = document.getElementById("desk-queue");
  var list = document.getElementById("transcript");
  var box = document.getElementById("reply");
  if (queue && window.EventSource) { queuePage(queue); }
  if (list && window.EventSource) { transcriptLive(list); }
  if (box) { counter(box); }
})();
