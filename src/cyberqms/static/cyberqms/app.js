// Small behaviours for pages; loaded with the CSP nonce, no inline handlers anywhere.
document.addEventListener("DOMContentLoaded", () => {
  // htmx sends the CSRF token on every unsafe request.
  document.body.addEventListener("htmx:configRequest", (event) => {
    const match = document.cookie.match(/(?:^|;\s*)cyberqms_csrf=([^;]+)/);
    if (match) event.detail.headers["X-CSRFToken"] = decodeURIComponent(match[1]);
  });
  // The live alert banner polls a partial; when the session has ended the poll lands on
  // the sign-in page instead: reload so the whole page shows it, never inside the banner.
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (!target || target.id !== "alert-banner") return;
    const wanted = target.getAttribute("hx-get");
    const landed = new URL(event.detail.xhr.responseURL || wanted, window.location.href);
    if (!event.detail.xhr.status || event.detail.xhr.status >= 400 || landed.pathname !== wanted) {
      event.detail.shouldSwap = false;
      if (landed.pathname !== wanted) window.location.reload();
    }
  });
  // Confirm destructive actions declared with data-confirm.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  // Tabs declared with data-tabs: each role=tab link shows the panel it controls. The
  // link's own address (a full page) stays the fallback without scripts; htmx loads a
  // panel's content on its first click.
  document.querySelectorAll("[data-tabs]").forEach((tablist) => {
    const tabs = Array.from(tablist.querySelectorAll("[role=tab]"));
    const show = (tab) => {
      tabs.forEach((other) => {
        const selected = other === tab;
        other.classList.toggle("active", selected);
        other.setAttribute("aria-selected", String(selected));
        const panel = document.getElementById(other.getAttribute("aria-controls"));
        if (panel) panel.hidden = !selected;
      });
      history.replaceState(null, "", "#" + tab.dataset.tab);
    };
    tabs.forEach((tab) => tab.addEventListener("click", (event) => {
      event.preventDefault();
      show(tab);
    }));
    const wanted = tabs.find((tab) => "#" + tab.dataset.tab === window.location.hash);
    if (wanted) wanted.click();
  });
  // Auto-submit filter selects.
  document.querySelectorAll("form.filters select").forEach((select) => {
    select.addEventListener("change", () => select.form.requestSubmit());
  });
  // A field that applies to some choices of another only (data-shown-by: that field's
  // name; data-shown-for: the values, space-separated) is hidden, with its label, for
  // the others.
  document.querySelectorAll("[data-shown-by]").forEach((field) => {
    const by = field.form && field.form.elements.namedItem(field.dataset.shownBy);
    if (!by) return;
    const wrap = field.closest("div") || field;
    const update = () => {
      wrap.hidden = !(field.dataset.shownFor || "").split(" ").includes(by.value);
    };
    by.addEventListener("change", update);
    update();
  });
});
