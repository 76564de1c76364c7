// Small behaviours for pages; loaded with the CSP nonce, no inline handlers anywhere.
document.addEventListener("DOMContentLoaded", () => {
  // htmx sends the CSRF token on every unsafe request.
  document.body.addEventListener("htmx:configRequest", (event) => {
    const match = document.cookie.match(/(?:^|;\s*)cyberqms_csrf=([^;]+)/);
    if (match) event.detail.headers["X-CSRFToken"] = decodeURIComponent(match[1]);
  });
  // Confirm destructive actions declared with data-confirm.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  // Auto-submit filter selects.
  document.querySelectorAll("form.filters select").forEach((select) => {
    select.addEventListener("change", () => select.form.requestSubmit());
  });
});
