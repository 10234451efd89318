// Swagger UI for /docs, served from our own origin (no CDN), started without inline script.
window.addEventListener("DOMContentLoaded", function () {
  window.SwaggerUIBundle({ url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
