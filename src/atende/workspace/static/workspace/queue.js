// The live queue: on any ticket event the list partial (views, counts, rows) is fetched
// again with the page's current query string, so filters, sort and scroll stay as they were.
(function () {
  "use strict";
  var pending = null;
  var inFlight = false;
  var again = false;

  function selectedId() {
    var row = document.querySelector(".ticket-row.selected");
    return row ? row.dataset.ticketId : null;
  }

  function refresh() {
    if (inFlight) { again = true; return; }
    inFlight = true;
    var keep = selectedId();
    fetch(window.location.pathname + window.location.search,
          { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        var current = document.getElementById("queue-live");
        if (!current) return;
        var tpl = document.createElement("template");
        tpl.innerHTML = html.trim();
        var fresh = tpl.content.getElementById("queue-live");
        if (!fresh) return;
        var x = window.scrollX, y = window.scrollY;
        current.replaceWith(fresh);
        window.scrollTo(x, y);
        if (keep) select(document.getElementById("ticket-row-" + keep));
        document.body.classList.remove("offline");
      })
      .catch(function () { document.body.classList.add("offline"); })
      .finally(function () {
        inFlight = false;
        if (again) { again = false; schedule(); }
      });
  }

  function schedule() {
    // Bursts of events (a reply emits three) become one refresh.
    if (pending) clearTimeout(pending);
    pending = setTimeout(function () { pending = null; refresh(); }, 120);
  }

  function rows() { return Array.prototype.slice.call(document.querySelectorAll(".ticket-row")); }

  function select(row) {
    rows().forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
    if (!row) return;
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
    row.scrollIntoView({ block: "nearest" });
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
                         "message.created", "ticket.sla_breached"], schedule);
})();
