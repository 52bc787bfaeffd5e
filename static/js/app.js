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
    if (select.value === "UTC" && zone && select.querySelector(`option[value="${CSS.escape(zone)}"]`)) {
      select.value = zone;
    }
  }
});
