// Small progressive enhancements; every page works without them.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons: data-copy names the element whose value or text is copied.
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      const text = source.value !== undefined ? source.value : source.textContent;
      const status = document.getElementById(button.dataset.copy + "-copied");
      try {
        await navigator.clipboard.writeText(text);
        if (status) status.textContent = "Copied.";
      } catch (error) {
        if (source.select) source.select();
        if (status) status.textContent = "Select the text and copy it with Ctrl-C (or ⌘-C).";
      }
    });
  }
  // Typed confirmation: the button stays disabled until the box holds the expected text.
  for (const button of document.querySelectorAll("button[data-enabled-by]")) {
    const input = document.getElementById(button.dataset.enabledBy);
    const update = () => { button.disabled = input.value.trim() !== input.dataset.mustEqual; };
    input.addEventListener("input", update);
    update();
  }
});
