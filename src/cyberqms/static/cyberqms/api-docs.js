// Starts Swagger UI (django-ninja's bundle, loaded before this file) on the API page. The
// schema's URL and the CSRF token come from data attributes: the page has no inline script.
(function () {
  "use strict";
  const root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  const csrfToken = root.dataset.csrfToken;
  window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    layout: "BaseLayout",
    presets: [window.SwaggerUIBundle.presets.apis],
    // "Try it out" runs as the signed-in person: the session cookie goes along, and the
    // CSRF token with every request that changes something.
    requestInterceptor: (request) => {
      if (csrfToken) {
        request.headers["X-CSRFToken"] = csrfToken;
      }
      return request;
    },
  });
})();
