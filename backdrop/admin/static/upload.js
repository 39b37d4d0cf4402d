// The upload form: drop a file onto it, and send it with a progress bar.
// Without this script the form still posts and the server redirects.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload-form");
  const confirmForm = document.getElementById("confirm-form");
  if (confirmForm) {
    confirmForm.addEventListener("submit", () => {
      document.getElementById("store-progress").hidden = false;
      confirmForm.querySelector("button[type=submit]").disabled = true;
    });
  }
  if (!form || !window.FormData) return;
  const input = document.getElementById("file");
  const zone = document.getElementById("drop-zone");
  const errorBox = document.getElementById("upload-error");
  const progress = document.getElementById("upload-progress");
  const bar = document.getElementById("progress-bar");
  const text = document.getElementById("progress-text");

  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files.length) input.files = event.dataTransfer.files;
  });

  function showError(message, detail) {
    errorBox.replaceChildren();
    const heading = document.createElement("h2");
    heading.textContent = "There is a problem";
    const body = document.createElement("p");
    body.textContent = message;
    errorBox.append(heading, body);
    if (detail) {
      const more = document.createElement("p");
      more.className = "detail";
      more.textContent = detail;
      errorBox.append(more);
    }
    errorBox.hidden = false;
    progress.hidden = true;
    errorBox.focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const limit = Number(form.dataset.maxBytes);
    const file = input.files[0];
    if (file && limit && file.size > limit) {
      showError(`${file.name} is ${file.size.toLocaleString()} bytes: over the upload limit of ${limit.toLocaleString()} bytes.`);
      return;
    }
    const request = new XMLHttpRequest();
    request.open("POST", form.action || window.location.href);
    request.setRequestHeader("X-Backdrop-Upload", "1");
    request.responseType = "json";
    request.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      const percent = Math.round((100 * e.loaded) / e.total);
      bar.value = percent;
      text.textContent = `${percent}% of ${e.total.toLocaleString()} bytes sent`;
    });
    request.addEventListener("load", () => {
      const answer = request.response || {};
      if (request.status === 200 && answer.next) {
        text.textContent = "Sent; checking the file…";
        window.location.assign(answer.next);
      } else {
        showError(answer.message || `The upload failed (HTTP ${request.status})`, answer.detail);
      }
    });
    request.addEventListener("error", () => showError("The file could not be sent: the connection failed."));
    errorBox.hidden = true;
    progress.hidden = false;
    bar.value = 0;
    request.send(new FormData(form));
  });
});
