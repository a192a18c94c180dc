/* Atende chat widget, v1. Plain JavaScript, no build step.
   <script src="https://HOST/widget/v1.js" data-atende-widget="PUBLIC_ID" async></script>
   Optional, for signed-in users of the host site: data-user-id and data-user-hash
   (hex HMAC-SHA256 of the user id with the widget's identity secret, computed server-side).
   Lives in an open shadow root; styles go through a constructed stylesheet and CSSOM only,
   so a strict Content-Security-Policy that allows this script's origin is enough. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-atende-widget]");
  if (!script || window.__atendeWidget) return;
  window.__atendeWidget = true;
  var wid = script.getAttribute("data-atende-widget") || "";
  var base = new URL(script.src, location.href).origin;
  var api = base + "/widget/w/" + encodeURIComponent(wid) + "/";
  var pt = !/^en/i.test(navigator.language || "pt");
  var T = pt ? {
    open: "Abrir chat", close: "Fechar chat", title: "Fale conosco", send: "Enviar",
    placeholder: "Escreva sua mensagem…", attach: "Anexar arquivo", name: "Nome",
    email: "E-mail", start: "Iniciar conversa", typing: "Digitando…", you: "Você",
    agent: "Atendente", failed: "Não enviada. Tentando de novo…", queue: function (n) {
      return "Você é o " + n + "º da fila. Um atendente já vai falar com você."; },
    messages: "Mensagens", file: "Arquivo", message: "Mensagem",
    offline: "Estamos fora do horário de atendimento. Deixe sua mensagem e responderemos por e-mail.",
    left: "Recebemos sua mensagem. Responderemos por e-mail."
  } : {
    open: "Open chat", close: "Close chat", title: "Chat with us", send: "Send",
    placeholder: "Write your message…", attach: "Attach a file", name: "Name",
    email: "E-mail", start: "Start chat", typing: "Typing…", you: "You",
    agent: "Agent", failed: "Not sent. Trying again…", queue: function (n) {
      return "You are number " + n + " in the queue. An agent will be with you shortly."; },
    messages: "Messages", file: "File", message: "Message",
    offline: "We are outside our opening hours. Leave a message and we will answer by e-mail.",
    left: "We received your message. We will answer by e-mail."
  };
  var KEY = "atende-widget:" + wid;
  var state = load();
  var cfg = null, es = null, seen = {}, typingTimer = 0, lastTyping = 0, retryTimer = 0;

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || "{}") || {}; } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  function el(tag, attrs, text) {
    var n = document.createElement(tag);
    for (var k in attrs || {}) n.setAttribute(k, attrs[k]);
    if (text != null) n.textContent = text;
    return n;
  }
  function call(method, path, body, isForm) {
    var headers = {};
    if (state.token) headers.Authorization = "Bearer " + state.token;
    if (body && !isForm) headers["Content-Type"] = "application/json";
    return fetch(api + path, {
      method: method, headers: headers, mode: "cors", credentials: "omit",
      body: body ? (isForm ? body : JSON.stringify(body)) : undefined
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { var e = new Error((data.error || {}).message || r.status); e.status = r.status; throw e; }
        return data;
      });
    });
  }

  var CSS = ":host{all:initial}*{box-sizing:border-box;font:14px/1.4 system-ui,sans-serif}" +
    ".l{position:fixed;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;" +
    "background:var(--c);color:#fff;cursor:pointer;box-shadow:0 2px 10px #0004;z-index:2147483000}" +
    ".l:focus-visible,button:focus-visible,textarea:focus-visible,input:focus-visible{outline:3px solid #222;outline-offset:2px}" +
    ".r{right:20px}.f{left:20px}.l svg{width:28px;height:28px;fill:#fff}" +
    ".d{position:absolute;top:6px;right:6px;width:12px;height:12px;border-radius:50%;background:#e5484d}" +
    ".p{position:fixed;bottom:88px;width:360px;height:520px;max-height:calc(100vh - 110px);" +
    "display:flex;flex-direction:column;background:#fff;color:#111;border-radius:12px;" +
    "box-shadow:0 6px 30px #0005;overflow:hidden;z-index:2147483001}" +
    ".p[hidden]{display:none}header{background:var(--c);color:#fff;padding:12px 14px;display:flex;align-items:center}" +
    "header h2{flex:1;margin:0;font-size:16px;font-weight:600}" +
    "header button{background:none;border:0;color:#fff;font-size:22px;cursor:pointer;line-height:1}" +
    ".m{flex:1;overflow-y:auto;padding:12px;margin:0;list-style:none;background:#f6f7f9}" +
    ".m li{max-width:80%;margin:6px 0;padding:8px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}" +
    ".v{margin-left:auto!important;background:var(--c);color:#fff}.a{background:#fff;border:1px solid #dde}" +
    ".m small{display:block;font-size:11px;opacity:.75}.s{font-size:12px;color:#555;padding:4px 12px;min-height:20px}" +
    "form{display:flex;gap:6px;padding:8px;border-top:1px solid #eee;align-items:flex-end}" +
    "textarea{flex:1;resize:none;height:40px;padding:8px;border:1px solid #ccd;border-radius:8px}" +
    "form button,.pc button{background:var(--c);color:#fff;border:0;border-radius:8px;padding:9px 12px;cursor:pointer}" +
    ".fl{cursor:pointer;padding:8px;border-radius:8px;border:1px solid #ccd}.fl input{position:absolute;opacity:0;width:1px;height:1px}" +
    ".pc{padding:16px;display:flex;flex-direction:column;gap:8px}.pc input{padding:8px;border:1px solid #ccd;border-radius:8px}" +
    ".hp{position:absolute;left:-9999px}.e{color:#b00020}.g{background:#eef}" +
    "@media (max-width:600px){.p{inset:0;width:auto;height:auto;max-height:none;bottom:0;border-radius:0}}";
  var ICONS = {
    chat: "M4 4h16v12H7l-3 3z", help: "M12 2a10 10 0 100 20 10 10 0 000-20zm1 16h-2v-2h2zm1.1-6.3c-.7.6-1.1 1-1.1 2.3h-2c0-1.9.8-2.6 1.5-3.2.5-.4.9-.7.9-1.3a1.4 1.4 0 00-2.8 0H9a3.4 3.4 0 016.8 0c0 1.2-.8 1.9-1.7 2.2z",
    headset: "M12 3a8 8 0 00-8 8v6a2 2 0 002 2h2v-7H6v-1a6 6 0 0112 0v1h-2v7h2a2 2 0 002-2v-6a8 8 0 00-8-8z"
  };

  var host = el("div", {"data-atende-widget": ""});
  var root = host.attachShadow({mode: "open"});
  if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet) {
    var sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); root.adoptedStyleSheets = [sheet];
  } else { root.appendChild(el("style", {}, CSS)); }
  var launcher = el("button", {type: "button", "class": "l r", "aria-label": T.open,
                               "aria-expanded": "false", "aria-controls": "atende-panel"});
  var dot = el("span", {"class": "d", hidden: ""});
  var panel = el("div", {id: "atende-panel", "class": "p r", role: "dialog", hidden: ""});
  var header = el("header"), heading = el("h2", {id: "atende-title"}, T.title);
  var closer = el("button", {type: "button", "aria-label": T.close}, "×");
  var list = el("ul", {"class": "m", role: "log", "aria-live": "polite", "aria-label": T.messages});
  var status = el("div", {"class": "s", role: "status", "aria-live": "polite"});
  var form = el("form"), input = el("textarea", {"aria-label": T.placeholder, placeholder: T.placeholder, maxlength: "5000"});
  var fileLabel = el("label", {"class": "fl", title: T.attach}, "📎");
  var file = el("input", {type: "file", accept: "image/png,image/jpeg,image/gif,image/webp,application/pdf", "aria-label": T.attach});
  var sendBtn = el("button", {type: "submit"}, T.send);
  panel.setAttribute("aria-labelledby", "atende-title");
  fileLabel.appendChild(file);
  header.appendChild(heading); header.appendChild(closer);
  form.appendChild(fileLabel); form.appendChild(input); form.appendChild(sendBtn);
  panel.appendChild(header); panel.appendChild(list); panel.appendChild(status); panel.appendChild(form);
  launcher.appendChild(dot);
  root.appendChild(launcher); root.appendChild(panel);

  function icon(name) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("aria-hidden", "true");
    path.setAttribute("d", ICONS[name] || ICONS.chat); svg.appendChild(path);
    launcher.insertBefore(svg, dot);
  }

  function apply(c) {
    cfg = c;
    host.style.setProperty("--c", /^#[0-9a-f]{6}$/i.test(c.colour) ? c.colour : "#1f6feb");
    var side = c.corner === "bottom-left" ? "f" : "r";
    launcher.className = "l " + side; panel.className = "p " + side;
    if (c.title) heading.textContent = c.title;
    icon(c.icon);
  }

  function render(m) {
    if (m.id && seen[m.id]) return;
    if (m.id) seen[m.id] = 1;
    var li = el("li", {"class": m.from === "visitor" ? "v" : m.from === "greeting" ? "a g" : "a"});
    li.appendChild(el("small", {}, m.from === "visitor" ? T.you : (m.author || T.agent)));
    li.appendChild(document.createTextNode(m.text || ""));
    (m.files || []).forEach(function (f) { li.appendChild(el("small", {}, T.file + ": " + f.name)); });
    if (m.client) li.setAttribute("data-client", m.client);
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
    if (m.from === "agent" && panel.hidden) dot.hidden = false;
    return li;
  }

  var positionTimer = 0;
  function showPosition(n) {
    status.textContent = n ? T.queue(n) : "";
    clearTimeout(positionTimer);
    // Others ahead are taken without an event on this stream: ask again while waiting.
    if (n) positionTimer = setTimeout(function () {
      call("GET", "messages").then(function (d) { d.messages.forEach(render); showPosition(d.position); },
                                   function () {});
    }, 15000);
  }

  function connect() {
    if (es || !state.token || !window.EventSource) return;
    var url = api + "stream?token=" + encodeURIComponent(state.token);
    if (state.cursor) url += "&last_event_id=" + encodeURIComponent(state.cursor);
    es = new EventSource(url);
    function track(e) { if (e.lastEventId) { state.cursor = e.lastEventId; save(); } }
    es.addEventListener("message", function (e) {
      track(e);
      var m = JSON.parse(e.data).data;
      if (m.from === "visitor" && list.querySelector("[data-client]")) {
        seen[m.id] = 1;  // our own message, still being confirmed by its POST
        return;
      }
      render(m);
      if (m.from === "agent") status.textContent = "";
    });
    es.addEventListener("typing", function (e) {
      track(e);
      var on = JSON.parse(e.data).data.typing;
      status.textContent = on ? T.typing : "";
      clearTimeout(typingTimer);
      if (on) typingTimer = setTimeout(function () { status.textContent = ""; }, 6000);
    });
    es.addEventListener("status", function (e) {
      track(e);
      if (JSON.parse(e.data).data.assigned) showPosition(0);
    });
    es.onerror = function () {
      if (es && es.readyState === 2) { es = null; setTimeout(connect, 5000); }
    };
  }

  function history() {
    return call("GET", "messages").then(function (data) {
      data.messages.forEach(render);
      if (!state.cursor) { state.cursor = String(data.cursor); save(); }
      showPosition(data.position);
      connect();
    }, function (e) {
      if (e.status === 401) { state = {}; save(); }
    });
  }

  function session(extra) {
    if (state.token) return Promise.resolve();
    var body = extra || {};
    var uid = script.getAttribute("data-user-id");
    if (uid) { body.user_id = uid; body.user_hash = script.getAttribute("data-user-hash") || ""; }
    return call("POST", "session", body).then(function (data) {
      state = {token: data.token, outbox: []}; save();
      return history();
    });
  }

  function flush() {
    clearTimeout(retryTimer);
    var box = state.outbox || [];
    if (!box.length || !state.token) return;
    var item = box[0];
    call("POST", "messages", {client_id: item.client_id, text: item.text}).then(function (data) {
      state.outbox = (state.outbox || []).filter(function (x) { return x.client_id !== item.client_id; });
      save();
      var li = list.querySelector('[data-client="' + item.client_id + '"]');
      if (li) { li.removeAttribute("data-client"); var s = li.querySelector(".e"); if (s) s.remove(); }
      seen[data.message.id] = 1;
      showPosition(data.position);
      connect();
      flush();
    }, function (e) {
      if (e.status && e.status < 500 && e.status !== 429) {  // refused for good: say why
        state.outbox = state.outbox.slice(1); save();
        status.textContent = e.message;
        return flush();
      }
      var li = list.querySelector('[data-client="' + item.client_id + '"]');
      if (li && !li.querySelector(".e")) li.appendChild(el("small", {"class": "e"}, T.failed));
      retryTimer = setTimeout(flush, 3000);
    });
  }

  function send(text) {
    lastTyping = 0;  // the next keystroke starts a new "typing"
    var item = {client_id: Date.now().toString(36) + Math.random().toString(36).slice(2, 10), text: text};
    state.outbox = (state.outbox || []).concat([item]); save();  // kept until the server has it
    render({from: "visitor", text: text, client: item.client_id});
    session().then(flush, function (e) { status.textContent = e.message; });
  }

  function upload() {
    if (!file.files.length) return;
    var data = new FormData();
    data.append("file", file.files[0]);
    data.append("client_id", Date.now().toString(36) + Math.random().toString(36).slice(2, 10));
    session().then(function () { return call("POST", "messages", data, true); }).then(function (d) {
      render(d.message);
    }, function (e) { status.textContent = e.message; });
    file.value = "";
  }

  function prechat(offline) {
    var box = el("form", {"class": "pc"}), err = el("p", {"class": "e", role: "alert"});
    var req = offline || (cfg && cfg.prechat === "required");
    var name = el("input", {name: "name", autocomplete: "name", "aria-label": T.name, placeholder: T.name});
    var email = el("input", {name: "email", type: "email", autocomplete: "email", "aria-label": T.email, placeholder: T.email});
    var trap = el("input", {name: "website", tabindex: "-1", autocomplete: "off", "class": "hp", "aria-hidden": "true"});
    var text = el("textarea", {"aria-label": T.message, placeholder: T.message, maxlength: "5000", required: ""});
    if (req) { name.required = true; email.required = true; }
    if (offline) box.appendChild(el("p", {}, T.offline));
    [name, email].concat(offline ? [text] : []).concat([trap, err, el("button", {type: "submit"}, offline ? T.send : T.start)])
      .forEach(function (n) { box.appendChild(n); });
    box.addEventListener("submit", function (e) {
      e.preventDefault();
      session({name: name.value, email: email.value, website: trap.value}).then(function () {
        box.remove();
        if (offline) { send(text.value.trim()); status.textContent = T.left; return; }
        form.hidden = false; input.focus();
      }, function (x) { err.textContent = x.message; });
    });
    form.hidden = true;
    panel.insertBefore(box, list);
    name.focus();
  }

  function toggle(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? T.close : T.open);
    if (!open) { launcher.focus(); return; }
    dot.hidden = true;
    if (cfg && cfg.greeting && !list.querySelector(".g")) render({from: "greeting", text: cfg.greeting, author: cfg.title});
    var offline = cfg && cfg.online === false;
    if (!state.token && cfg && (offline || cfg.prechat !== "off") && !panel.querySelector(".pc")) prechat(offline);
    else input.focus();
  }

  launcher.addEventListener("click", function () { toggle(panel.hidden); });
  closer.addEventListener("click", function () { toggle(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") toggle(false); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  input.addEventListener("input", function () {
    if (!state.token || Date.now() - lastTyping < 3000) return;
    lastTyping = Date.now();
    call("POST", "typing", {typing: true}).catch(function () {});
  });
  file.addEventListener("change", upload);
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });

  function start() {
    document.body.appendChild(host);
    call("GET", "config").then(function (c) {
      apply(c);
      if (state.token) history().then(flush);
    }, function () { host.remove(); });
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
