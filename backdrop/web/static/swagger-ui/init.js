// Starts Swagger UI on this app's own OpenAPI document. A file of its own, not
// an inline script, so the page works under a Content-Security-Policy of 'self'.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: document.body.dataset.openapi,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
