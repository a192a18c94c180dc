// A website chat's ticket screen: the agent's typing reaches the visitor, and the
// visitor's typing shows above the composer.
(function () {
  "use strict";
  var script = document.currentScript;
  var root = document.getElementById("ticket");
  var composer = document.getElementById("composer-text");
  if (!script || !root || !composer || !window.Atende) return;
  var ticketId = Number(root.dataset.ticketId);
  var line = document.createElement("p");
  line.className = "chat-typing";
  line.setAttribute("aria-live", "polite");
  composer.parentNode.insertBefore(line, composer);
  var last = 0, hide = 0;

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  composer.form && composer.form.addEventListener("submit", function () { last = 0; });
  composer.addEventListener("input", function () {
    if (Date.now() - last < 3000) return;
    last = Date.now();
    var body = new URLSearchParams();
    body.append("typing", "1");
    fetch(script.dataset.typingUrl, { method: "POST", body: body, credentials: "same-origin",
                                      headers: { "X-CSRFToken": csrf() } }).catch(function () {});
  });
  window.Atende.onEvent(["webchat.typing"], function (type, data) {
    if (Number(data.ticket_id) !== ticketId || data.from !== "visitor") return;
    line.textContent = data.typing ? script.dataset.typingText : "";
    clearTimeout(hide);
    hide = setTimeout(function () { line.textContent = ""; }, 6000);
  });
})();
