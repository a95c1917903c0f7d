// Starts Swagger UI on /api/v1/explorer (kept out of the page: CSP forbids inline scripts).
(function () {
  "use strict";
  var node = document.getElementById("explorer");
  if (!node || typeof window.SwaggerUIBundle !== "function") { return; }
  window.ui = window.SwaggerUIBundle({
    url: node.getAttribute("data-spec"),
    domNode: node,
    deepLinking: true,
    persistAuthorization: false,
    tryItOutEnabled: true
  });
}());
