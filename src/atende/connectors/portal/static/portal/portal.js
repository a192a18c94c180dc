// Knowledge-base suggestions while the subject is typed: only when the page names an
// endpoint (data-suggest-url on the form), which answers an HTML fragment for ?q=.
(function () {
  "use strict";
  var form = document.getElementById("ticket-form");
  if (!form || !form.dataset.suggestUrl) { return; }
  var subject = form.querySelector("[name=f_subject]");
  var box = document.getElementById("kb-suggestions");
  if (!subject || !box) { return; }
  var timer = null;
  subject.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = subject.value.trim();
      if (q.length < 3) { box.innerHTML = ""; return; }
      fetch(form.dataset.suggestUrl + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) { box.innerHTML = html; })
        .catch(function () { box.innerHTML = ""; });
    }, 250);
  });
}());
