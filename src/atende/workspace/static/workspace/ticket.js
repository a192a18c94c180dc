// The ticket screen: live header and timeline, presence heartbeat, tabs and shortcuts.
(function () {
  "use strict";
  var root = document.getElementById("ticket");
  if (!root) return;
  var ticketId = Number(root.dataset.ticketId);
  var tab = "timeline";
  var pending = null;

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function showTab(name) {
    tab = name;
    document.querySelectorAll(".tab").forEach(function (b) {
      var on = b.dataset.tab === name;
      b.classList.toggle("active", on);
      b.setAttribute("aria-selected", on ? "true" : "false");
    });
    document.querySelectorAll(".tab-panel").forEach(function (p) {
      p.hidden = p.id !== "tab-" + name;
    });
  }

  // The live refresh starts at the oldest entry on screen, so older pages the agent
  // loaded with "Show older messages" stay.
  function liveUrl() {
    var url = root.dataset.liveUrl;
    var first = document.querySelector("#tab-timeline [data-key]");
    if (!first) return url;
    return url + (url.indexOf("?") < 0 ? "?" : "&") + "from=" + encodeURIComponent(first.dataset.key);
  }

  function refresh() {
    fetch(liveUrl(), { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 404) { gone(); return ""; }
        if (!r.ok) throw new Error(r.status);
        return r.text();
      })
      .then(function (html) {
        if (!html) return;
        var tpl = document.createElement("template");
        tpl.innerHTML = html.trim();
        var fresh = tpl.content.getElementById("ticket-live");
        var current = document.getElementById("ticket-live");
        if (!fresh || !current) return;
        var y = window.scrollY;
        current.replaceWith(fresh);
        if (window.htmx) window.htmx.process(fresh);  // "Show older messages" is hx-get
        showTab(tab);
        window.scrollTo(window.scrollX, y);
        document.body.classList.remove("offline");
        refreshChannelPanel();
      })
      .catch(function () { document.body.classList.add("offline"); });
  }

  // Transferred out of the agent's reach meanwhile: say so instead of "offline".
  function gone() {
    var box = document.getElementById("notice");
    if (!box) return;
    box.textContent = root.dataset.goneText || "";
    box.hidden = false;
  }

  // A customer message reopens the WhatsApp window: the panel asks the server again.
  function refreshChannelPanel() {
    var panel = document.getElementById("whatsapp-panel");
    if (panel && window.htmx && panel.dataset.window) htmx.trigger(panel, "refresh");
  }

  function schedule() {
    if (pending) clearTimeout(pending);
    pending = setTimeout(function () { pending = null; refresh(); }, 100);
  }

  window.Atende.onEvent(["ticket.updated", "ticket.status_changed", "message.created",
                         "message.status_changed", "ticket.sla_breached"], function (type, data) {
    var id = type.indexOf("message.") === 0 ? data.ticket_id : data.id;
    if (Number(id) === ticketId) schedule();
  });
  document.body.addEventListener("ticket-changed", schedule);

  function beat() {
    var body = new URLSearchParams();
    fetch(root.dataset.presenceUrl, { method: "POST", body: body, credentials: "same-origin",
                                      headers: { "X-CSRFToken": csrf() } })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { document.getElementById("presence").innerHTML = html; })
      .catch(function () {});
  }
  beat();
  setInterval(beat, 10000);
  window.addEventListener("pagehide", function () {
    var body = new FormData();
    body.append("leave", "1");
    body.append("csrfmiddlewaretoken", csrf());
    if (navigator.sendBeacon) navigator.sendBeacon(root.dataset.presenceUrl, body);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".tab");
    if (button) showTab(button.dataset.tab);
  });

  // Saved replies: fetched (already filled in for this ticket) the first time the list is
  // opened; choosing one inserts its text at the cursor.
  var savedReplies = null;
  function fillSavedReplies(select) {
    savedReplies.forEach(function (reply, i) {
      var option = document.createElement("option");
      option.value = String(i);
      option.textContent = reply.title;
      select.appendChild(option);
    });
  }
  document.addEventListener("focusin", function (event) {
    var select = event.target;
    if (select.id !== "saved-replies" || select.dataset.loaded) return;
    select.dataset.loaded = "1";  // the composer is replaced after each send: per element
    if (savedReplies) { fillSavedReplies(select); return; }
    fetch(select.dataset.url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (body) { savedReplies = body.replies; fillSavedReplies(select); })
      .catch(function () { delete select.dataset.loaded; });
  });
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.id !== "saved-replies" || !savedReplies || select.value === "") return;
    var reply = savedReplies[Number(select.value)];
    var text = document.getElementById("composer-text");
    if (reply && text) {
      var at = text.selectionStart || text.value.length;
      text.value = text.value.slice(0, at) + reply.text + text.value.slice(at);
      text.focus();
    }
    select.value = "";
  });

  // The article panel's "Insert link": the title and public address into the answer.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-insert-link]") : null;
    var text = document.getElementById("composer-text");
    if (!button || !text) return;
    var at = text.selectionStart || text.value.length;
    var link = button.dataset.title + ": " + button.dataset.insertLink;
    text.value = text.value.slice(0, at) + link + text.value.slice(at);
    text.focus();
  });

  function compose(mode) {
    var radio = document.querySelector("#composer input[name=mode][value=" + mode + "]");
    if (radio) radio.checked = true;
    var text = document.getElementById("composer-text");
    if (text) text.focus();
  }

  document.addEventListener("keydown", function (event) {
    if (window.Atende.typing(event)) return;
    if (event.key === "r") { compose("reply"); event.preventDefault(); }
    else if (event.key === "n") { compose("note"); event.preventDefault(); }
    else if (event.key === "e") {
      var select = document.getElementById("finalization-tag");
      if (select) { select.focus(); select.scrollIntoView({ block: "center" }); event.preventDefault(); }
    }
  });
})();
