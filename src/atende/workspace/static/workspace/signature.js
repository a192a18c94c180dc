// The e-mail signature editor (EM-6): Quill with inline styles (mail clients ignore
// classes), images uploaded to the channel instead of pasted as data: URIs, and the
// preview refreshed through htmx (the form's "signature-changed" trigger).
(function () {
  "use strict";
  const form = document.getElementById("signature-form");
  if (!form || !window.Quill) { return; }
  const Quill = window.Quill;
  const size = Quill.import("attributors/style/size");
  size.whitelist = ["12px", "18px", "24px"];
  Quill.register(size, true);
  ["attributors/style/align", "attributors/style/color", "attributors/style/background"]
    .forEach(function (name) { Quill.register(Quill.import(name), true); });

  const field = document.getElementById("signature-html");
  const errorBox = document.getElementById("signature-upload-error");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  let quill = null;

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function upload(file) {
    const body = new FormData();
    body.append("image", file);
    return fetch(form.dataset.uploadUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf },
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok) { throw new Error(answer.error || form.dataset.uploadFailed); }
        return answer.url;
      });
    });
  }

  function uploadFiles(range, files) {
    showError("");
    let index = range ? range.index : quill.getLength();
    Array.from(files).forEach(function (file) {
      upload(file).then(function (url) {
        quill.insertEmbed(index, "image", url, "user");
        index += 1;
        quill.setSelection(index, 0, "user");
      }).catch(function (error) {
        showError(error.message || form.dataset.uploadFailed);
      });
    });
  }

  function chooseImage() {
    const input = document.createElement("input");
    input.type = "file";
    input.accept = "image/png,image/jpeg,image/gif";
    input.addEventListener("change", function () {
      if (input.files && input.files.length) { uploadFiles(quill.getSelection(true), input.files); }
    });
    input.click();
  }

  quill = new Quill("#signature-quill", {
    theme: "snow",
    modules: {
      toolbar: { container: "#signature-toolbar", handlers: { image: chooseImage } },
      uploader: { mimetypes: ["image/png", "image/jpeg", "image/gif"], handler: uploadFiles },
    },
  });

  // Quill's link tooltip writes its words from CSS; ours come from the page (translated).
  const tooltip = quill.container.querySelector(".ql-tooltip");
  if (tooltip) {
    tooltip.dataset.visit = form.dataset.linkVisit;
    tooltip.dataset.enter = form.dataset.linkEnter;
    const action = tooltip.querySelector("a.ql-action");
    const remove = tooltip.querySelector("a.ql-remove");
    if (action) { action.dataset.edit = form.dataset.linkEdit; action.dataset.save = form.dataset.linkSave; }
    if (remove) { remove.dataset.remove = form.dataset.linkRemove; }
  }

  function sync() {
    const empty = quill.getText().trim() === "" && !quill.root.querySelector("img");
    field.value = empty ? "" : quill.root.innerHTML;
  }

  quill.on("text-change", function () {
    sync();
    form.dispatchEvent(new CustomEvent("signature-changed"));
  });
  form.addEventListener("submit", sync);
})();
