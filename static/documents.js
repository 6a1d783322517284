// Upload forms: a progress bar while the files travel, a warning for files over the limit
// before they are sent, and a cleared file input once the server has answered.
(function () {
  "use strict";

  function parts(form) {
    var box = form.querySelector("[data-upload-progress]");
    return box && { box: box, bar: box.querySelector("progress"), status: box.querySelector("[data-upload-status]") };
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    var form = input.closest && input.closest("form[data-upload]");
    if (!form || input.type !== "file") return;
    var limit = Number(form.dataset.maxFileBytes);
    var tooLarge = Array.prototype.filter.call(input.files, function (file) { return file.size > limit; });
    input.setCustomValidity(tooLarge.length
      ? tooLarge.map(function (file) { return file.name; }).join(", ") + ": larger than " + Math.round(limit / 1048576) + " MB per file."
      : "");
    input.reportValidity();
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest && event.target.closest("form[data-upload]");
    var ui = form && parts(form);
    if (!ui || !event.detail.lengthComputable) return;
    var percent = Math.round((event.detail.loaded / event.detail.total) * 100);
    ui.box.hidden = false;
    ui.bar.value = percent;
    ui.status.textContent = percent < 100 ? "Uploading… " + percent + "%" : "Saving the files…";
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target.closest && event.target.closest("form[data-upload]");
    var ui = form && parts(form);
    if (!ui) return;
    ui.box.hidden = true;
    ui.bar.value = 0;
    if (event.detail.successful) form.reset();
  });
})();
