// The live queue: a ticket event updates only that ticket's row and the counts. The server
// answers, for the page's current filters, the changed rows that still belong in the
// queue (each with its sort key, so it goes in its place) and those that left it; filters,
// scroll and selection stay as they were. The whole list is fetched again only when the
// rows cannot be placed (empty list, unknown event).
(function () {
  "use strict";
  var pending = null;
  var inFlight = false;
  var again = false;
  var changed = {};  // ticket id -> true, waiting for the next update
  var whole = false;  // the next update fetches the whole list

  function selectedId() {
    var row = document.querySelector(".ticket-row.selected");
    return row ? row.dataset.ticketId : null;
  }

  function liveTable() { return document.querySelector("#queue-live table.queue"); }

  function fetchList(query) {
    return fetch(window.location.pathname + query,
                 { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        var tpl = document.createElement("template");
        tpl.innerHTML = html.trim();
        return tpl.content;
      });
  }

  function update() {
    if (inFlight) { again = true; return; }
    var ids = Object.keys(changed);
    // Many changes at once (more than the server answers per update): the whole list.
    var full = whole || !ids.length || ids.length > 50 || !liveTable();
    changed = {};
    whole = false;
    inFlight = true;
    var query = window.location.search;
    if (!full) query += (query ? "&" : "?") + "rows=" + ids.join(",");
    fetchList(query)
      .then(function (content) {
        if (full) replaceList(content);
        else if (!applyDelta(content)) { whole = true; again = true; }
        document.body.classList.remove("offline");
      })
      .catch(function () {
        document.body.classList.add("offline");
        whole = true;  // those rows were not updated: the next update fetches the list
      })
      .finally(function () {
        inFlight = false;
        if (again) { again = false; schedule(); }
      });
  }

  function replaceList(content) {
    var keep = selectedId();
    var current = document.getElementById("queue-live");
    var fresh = content.getElementById("queue-live");
    if (!current || !fresh) return;
    var x = window.scrollX, y = window.scrollY;
    current.replaceWith(fresh);
    window.scrollTo(x, y);
    if (keep) mark(document.getElementById("ticket-row-" + keep));
  }

  // False when the list must be fetched whole instead.
  function applyDelta(content) {
    var delta = content.getElementById("queue-delta");
    var table = liveTable();
    if (!delta || !table) return false;
    var keep = selectedId();
    var nav = delta.querySelector("nav.views");
    var currentNav = document.querySelector("#queue-live nav.views");
    if (nav && currentNav) currentNav.replaceWith(nav);
    (delta.dataset.gone || "").split(" ").forEach(function (id) {
      var row = id && document.getElementById("ticket-row-" + id);
      if (row) row.remove();
    });
    Array.prototype.slice.call(delta.querySelectorAll(".ticket-row")).forEach(function (row) {
      var old = document.getElementById(row.id);
      if (old) old.remove();
      place(row, table);
    });
    if (!table.querySelector(".ticket-row")) return false;  // empty: the server words it
    if (keep) mark(document.getElementById("ticket-row-" + keep));
    return true;
  }

  // Rows are in ascending data-sort order; a row that sorts before this page (or after it,
  // when there is a next page) belongs to another page and is left out.
  function place(row, table) {
    var tbody = table.tBodies[0];
    var rows = tbody.querySelectorAll(".ticket-row");
    var key = row.dataset.sort || "";
    var before = null;
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].dataset.sort > key) { before = rows[i]; break; }
    }
    var page = Number(table.dataset.page || "1");
    if (before && before === rows[0] && page > 1) return;
    if (!before && table.dataset.hasNext) return;
    tbody.insertBefore(row, before);
    var all = tbody.querySelectorAll(".ticket-row");
    if (all.length > Number(table.dataset.pageSize || "50")) {
      all[all.length - 1].remove();
      table.dataset.hasNext = "1";
    }
  }

  function schedule() {
    // Bursts of events (a reply emits three) become one refresh.
    if (pending) clearTimeout(pending);
    pending = setTimeout(function () { pending = null; update(); }, 120);
  }

  function rows() { return Array.prototype.slice.call(document.querySelectorAll(".ticket-row")); }

  function mark(row) {
    rows().forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
    if (!row) return;
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
  }

  function select(row) {
    mark(row);
    if (row) row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var i = all.findIndex(function (r) { return r.classList.contains("selected"); });
    i = i < 0 ? 0 : Math.min(all.length - 1, Math.max(0, i + step));
    select(all[i]);
  }

  document.addEventListener("keydown", function (event) {
    if (window.Atende.typing(event)) return;
    if (event.key === "j") { move(1); event.preventDefault(); }
    else if (event.key === "k") { move(-1); event.preventDefault(); }
    else if (event.key === "Enter") {
      var row = document.querySelector(".ticket-row.selected");
      if (row) { window.location.href = row.dataset.href; event.preventDefault(); }
    }
  });

  // Empty filters stay out of the query string, so the address bar reads like the filters.
  document.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt || event.detail.elt.id !== "queue-filters") return;
    var params = event.detail.parameters;
    Object.keys(params).forEach(function (name) {
      if (params[name] === "") delete params[name];
    });
  });

  window.Atende.onEvent(["ticket.created", "ticket.updated", "ticket.status_changed",
                         "message.created", "ticket.sla_breached"], function (type, data) {
    var id = type.indexOf("message.") === 0 ? data.ticket_id : data.id;
    if (id) changed[id] = true; else whole = true;
    schedule();
  });
})();
