// Shared behaviour of every workspace page (served as a file: the CSP allows only these).
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]")) el.form.submit();
  });

  function notice(text) {
    var box = document.getElementById("notice");
    if (!box) return;
    box.textContent = text || "";
    box.hidden = !text;
  }
  // A failed HTMX request leaves the page as it was and says so in words.
  document.addEventListener("htmx:responseError", function () { notice(document.body.dataset.errorText); });
  document.addEventListener("htmx:sendError", function () { notice(document.body.dataset.errorText); });
  document.addEventListener("htmx:afterRequest", function (e) {
    if (e.detail && e.detail.successful) notice("");
  });

  // One EventSource per page; pages subscribe with Atende.onEvent(types, handler).
  var handlers = [];
  var source = null;
  function connect() {
    if (source || !window.EventSource) return;
    source = new EventSource("/realtime/stream");
    ["ticket.created", "ticket.updated", "ticket.status_changed", "message.created",
     "message.status_changed", "ticket.sla_breached", "webchat.typing"].forEach(function (type) {
      source.addEventListener(type, function (e) {
        var parsed;
        try { parsed = JSON.parse(e.data); } catch (err) { return; }
        handlers.forEach(function (h) {
          if (h.types.indexOf(type) >= 0) h.fn(type, parsed.data || {});
        });
      });
    });
    // EventSource reconnects by itself and sends Last-Event-ID: missed events are replayed.
    source.addEventListener("open", function () {
      if (document.body.classList.contains("offline")) notice("");
      document.body.classList.remove("offline");
    });
    source.addEventListener("error", function () {
      document.body.classList.add("offline");
      notice(document.body.dataset.offlineText);
    });
  }

  // Keys typed into a field belong to the field, not to the shortcuts.
  function typing(event) {
    var t = event.target;
    return event.ctrlKey || event.metaKey || event.altKey ||
      (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)));
  }

  // Presence heartbeat: an agent whose pages stop beating (browser closed) is set offline
  // by the server after a few minutes, so tickets are not handed to someone who left.
  var heartbeatUrl = document.body.dataset.heartbeatUrl;
  function heartbeat() {
    var token = "";
    try { token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (err) {}
    fetch(heartbeatUrl, { method: "POST", credentials: "same-origin",
                          headers: { "X-CSRFToken": token } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        var select = document.getElementById("presence-switch");
        if (!data || !select || select.value === data.presence) return;
        select.value = data.presence;
        select.className = "presence-" + data.presence;
      })
      .catch(function () {});
  }
  if (heartbeatUrl) {
    heartbeat();
    setInterval(heartbeat, 30000);
  }

  window.Atende = {
    onEvent: function (types, fn) { handlers.push({ types: types, fn: fn }); connect(); },
    typing: typing,
  };
})();
