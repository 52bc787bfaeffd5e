// Round Table's own script. No inline scripts anywhere: the Content Security Policy forbids them.
"use strict";

// On sign-up, preselect the browser's time zone instead of UTC; the person can still change it.
document.addEventListener("DOMContentLoaded", () => {
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  for (const select of document.querySelectorAll("select[data-detect-time-zone]")) {
    if (select.value !== "UTC" || !zone) {
      continue;
    }
    // Browsers report some zones by an older name (Chrome: "Asia/Calcutta"); the option lists those.
    const name = CSS.escape(zone);
    const option = select.querySelector(`option[value="${name}"], option[data-aliases~="${name}"]`);
    if (option) {
      select.value = option.value;
    }
  }
});

// Type to find a time zone: a search box above each time zone list (accounts/widgets.py) that keeps
// only the options whose name, country or region holds every typed word, ignoring accents and case.
// The list stays a plain <select>, so choosing still works with the keyboard and without this script.
document.addEventListener("DOMContentLoaded", () => {
  const fold = (text) =>
    text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[_/]/g, " ").toLowerCase();

  for (const select of document.querySelectorAll("select[data-time-zone-search]")) {
    // The list as rendered, to rebuild from: top-level options (UTC) and groups with their options.
    const items = [...select.children].map((node) => {
      const options = node.tagName === "OPTGROUP" ? [...node.children] : [node];
      const region = node.tagName === "OPTGROUP" ? node.label : "";
      return {
        node,
        options: options.map((option) => ({
          option,
          text: fold(`${option.textContent} ${option.value} ${option.dataset.aliases || ""} ${region}`),
        })),
      };
    });

    const input = document.createElement("input");
    input.type = "search";
    input.id = `${select.id}-search`;
    input.className = "form-control form-control-sm mb-1";
    input.autocomplete = "off";
    input.setAttribute("aria-controls", select.id);
    const label = document.createElement("label");
    label.htmlFor = input.id;
    label.className = "d-block form-label small mb-1";
    label.textContent = select.dataset.timeZoneSearch;
    const status = document.createElement("div");
    status.className = "form-text";
    status.id = `${select.id}-search-status`;
    status.setAttribute("role", "status");
    input.setAttribute("aria-describedby", status.id);
    select.before(label, input);
    select.after(status);

    input.addEventListener("keydown", (event) => {
      // Enter would send the whole form; here it means "go to the list".
      if (event.key === "Enter") {
        event.preventDefault();
        select.focus();
      }
    });

    input.addEventListener("input", () => {
      const words = fold(input.value).split(/\s+/).filter(Boolean);
      const chosen = select.value;
      const nodes = [];
      let count = 0;
      for (const item of items) {
        const matching = item.options.filter(({ text }) => words.every((word) => text.includes(word)));
        count += matching.length;
        if (item.node.tagName === "OPTGROUP") {
          item.node.replaceChildren(...matching.map(({ option }) => option));
          if (matching.length) {
            nodes.push(item.node);
          }
        } else if (matching.length) {
          nodes.push(item.node);
        }
      }
      if (!count) {
        // Keep the current choice rather than an empty list, which would send no zone at all.
        const current = items.flatMap((item) => item.options).find(({ option }) => option.value === chosen);
        if (current) {
          nodes.push(current.option);
        }
      }
      select.replaceChildren(...nodes);
      if ([...select.options].some((option) => option.value === chosen)) {
        select.value = chosen;
      }
      status.textContent = !words.length
        ? ""
        : count
          ? select.dataset.timeZoneMatches.replace("{count}", count)
          : select.dataset.timeZoneNone;
    });
  }
});
