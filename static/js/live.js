// The live run of show (templates/meetings/live.html and live_screen.html). Our own small script: no
// inline scripts (the Content Security Policy forbids them), no library.
//
// - Polls the meeting's state about once a second with the revision it holds as its ETag: an unchanged
//   meeting answers 304 (nothing to do); a changed one answers the fragment, which replaces what is inside
//   #live-state. Nothing inside it can hold focus or typed text: the buttons and the note taker's fields
//   live outside it, and are only updated in place (the step and turn their forms send, which groups show).
// - Announces what changed (new step, next speaker, stances, a decision) in #live-announcer (aria-live).
// - Ticks the clocks and the turn's countdown every second without asking the server.
// - Sends the buttons' forms with fetch, so that the page (and whatever the note taker typed) stays;
//   without this script they are plain posts that come back to the page with a message.
// - Keyboard shortcuts: n next step, p previous step, s next speaker, x pass (not while typing).
// - After each change it dispatches `live:changed` on document (detail: revision, step, previousStep,
//   roundRobin, position) for the recording parts' own script, and listens to `live:announce`.
"use strict";

(() => {
  const region = document.getElementById("live-state");
  if (!region) {
    return;
  }
  const announcer = document.getElementById("live-announcer");
  const feedback = document.getElementById("live-feedback");
  const connection = document.getElementById("live-connection");
  const POLL_MS = 1000;
  const HIDDEN_POLL_MS = 5000;
  let revision = region.dataset.revision;
  let stopped = false;
  let timer = null;

  const rootOf = () => region.querySelector(".live-state-root");

  const announce = (text) => {
    if (!announcer || !text) {
      return;
    }
    // Emptied first, so that the same sentence twice in a row is read twice.
    announcer.textContent = "";
    window.setTimeout(() => {
      announcer.textContent = text;
    }, 50);
  };

  document.addEventListener("live:announce", (event) => announce(event.detail && event.detail.text));

  // --- Clocks ------------------------------------------------------------------------------------------

  const clock = (total) => {
    const sign = total < 0 ? "\u2212" : "";
    let seconds = Math.abs(total);
    const hours = Math.floor(seconds / 3600);
    seconds -= hours * 3600;
    const minutes = Math.floor(seconds / 60);
    seconds -= minutes * 60;
    const two = (n) => String(n).padStart(2, "0");
    return hours ? `${sign}${hours}:${two(minutes)}:${two(seconds)}` : `${sign}${minutes}:${two(seconds)}`;
  };

  // The server's clock minus this browser's, from the Date header of each answer (whole seconds, so half
  // a second is added): the clocks count from moments the server wrote, whatever this computer's time.
  let offset = 0;
  const serverNow = () => Date.now() + offset;
  const learnClock = (response) => {
    const date = Date.parse(response.headers.get("Date") || "");
    if (!Number.isNaN(date)) {
      offset = date + 500 - Date.now();
    }
  };

  const tick = () => {
    const now = serverNow();
    for (const element of region.querySelectorAll("[data-since]")) {
      const since = Math.max(0, Math.floor((now - Number(element.dataset.since)) / 1000));
      const seconds = Number(element.dataset.before || 0) + since;
      element.textContent = clock(seconds);
      const badge = element.parentElement.querySelector("[data-over-time]");
      if (badge && element.dataset.limit) {
        badge.hidden = seconds <= Number(element.dataset.limit);
      }
    }
    for (const element of region.querySelectorAll("[data-until]")) {
      const left = Math.ceil((Number(element.dataset.until) - now) / 1000);
      element.textContent = clock(left);
      element.classList.toggle("live-countdown-over", left < 0);
    }
  };
  window.setInterval(tick, 1000);

  // --- Buttons kept in step with the state -------------------------------------------------------------

  const syncControls = (root) => {
    const shown = (root.dataset.controls || "").split(" ").filter(Boolean);
    const focused = document.activeElement;
    for (const group of document.querySelectorAll("[data-live-group]")) {
      group.hidden = !shown.includes(group.dataset.liveGroup);
    }
    const values = { step: root.dataset.step, "round-robin": root.dataset.roundRobin, position: root.dataset.position };
    for (const input of document.querySelectorAll("input[data-live-field]")) {
      input.value = values[input.dataset.liveField] || "";
    }
    // A button that was just pressed may have gone (the round robin is over): keep the focus in the controls.
    if (focused && focused !== document.body && focused.closest("[hidden]")) {
      const next = document.querySelector("#live-controls [data-live-group]:not([hidden]) button");
      (next || document.getElementById("main")).focus();
    }
    if (root.dataset.attendance) {
      const marks = JSON.parse(root.dataset.attendance);
      const late = JSON.parse(root.dataset.attendanceLate || "[]").map(String);
      for (const row of document.querySelectorAll("[data-attendance-row]")) {
        const status = marks[row.dataset.attendanceRow] || "";
        const badge = row.querySelector("[data-attendance-late]");
        if (badge) {
          badge.hidden = !late.includes(row.dataset.attendanceRow);
        }
        for (const button of row.querySelectorAll("button[name=mark]")) {
          const pressed = button.value.endsWith(`:${status}`);
          button.setAttribute("aria-pressed", pressed ? "true" : "false");
          button.classList.toggle("active", pressed);
          if (pressed) {
            row.querySelector("[data-attendance-status]").textContent = button.dataset.statusLabel;
          }
        }
      }
    }
  };

  // --- Polling ---------------------------------------------------------------------------------------------

  const changes = (before, after) => {
    const said = [];
    const keys = [
      ["status", "announceStatus"],
      ["step", "announceStep"],
      ["speakerKey", "announceSpeaker"],
      ["stancesKey", "announceStances"],
      ["decision", "announceDecision"],
    ];
    for (const [key, sentence] of keys) {
      if (before.dataset[key] !== after.dataset[key] && after.dataset[sentence]) {
        // A new step says where the meeting is; its status sentence would only repeat "in progress".
        if (key === "status" && after.dataset.status === "in_progress" && before.dataset.status === "in_progress") {
          continue;
        }
        said.push(after.dataset[sentence]);
      }
    }
    return said.join(" ");
  };

  const showConnection = (text) => {
    if (!connection) {
      return;
    }
    connection.textContent = text || "";
    connection.hidden = !text;
  };

  const schedule = (ms) => {
    window.clearTimeout(timer);
    if (!stopped) {
      timer = window.setTimeout(poll, ms === undefined ? (document.hidden ? HIDDEN_POLL_MS : POLL_MS) : ms);
    }
  };

  // A fragment that arrived while something inside the region had the focus (the reflection's link):
  // applied once the focus leaves, so that nobody loses their place.
  let pending = null;
  region.addEventListener("focusout", () => {
    window.setTimeout(() => {
      if (pending !== null && !region.contains(document.activeElement)) {
        const html = pending;
        pending = null;
        apply(html);
      }
    }, 0);
  });

  const apply = (html) => {
    if (region.contains(document.activeElement)) {
      pending = html;
      return;
    }
    const before = rootOf();
    const template = document.createElement("template");
    template.innerHTML = html;
    const after = template.content.querySelector(".live-state-root");
    if (!after) {
      return;
    }
    const said = before ? changes(before, after) : "";
    region.replaceChildren(template.content);
    revision = after.dataset.revision;
    region.dataset.revision = revision;
    syncControls(after);
    tick();
    announce(said);
    document.dispatchEvent(
      new CustomEvent("live:changed", {
        detail: {
          revision: Number(revision),
          step: after.dataset.step,
          previousStep: before ? before.dataset.step : "",
          roundRobin: after.dataset.roundRobin,
          position: after.dataset.position,
        },
      }),
    );
  };

  let polling = false;
  const poll = async () => {
    if (stopped || polling) {
      return;
    }
    polling = true;
    try {
      // A request that hangs (a network gone quiet) is given up, so that the next one can go.
      const controller = new AbortController();
      const giveUp = window.setTimeout(() => controller.abort(), 10000);
      const response = await fetch(region.dataset.stateUrl, {
        headers: { "If-None-Match": `"${revision}"` },
        cache: "no-store",
        credentials: "same-origin",
        signal: controller.signal,
      }).finally(() => window.clearTimeout(giveUp));
      learnClock(response);
      if (response.status === 404 || response.redirected) {
        // No longer a member (or signed out): say so and stop asking.
        stopped = true;
        showConnection(region.dataset.goneMessage);
        return;
      }
      showConnection("");
      if (response.status === 200) {
        apply(await response.text());
      }
    } catch (error) {
      showConnection(region.dataset.offlineMessage);
    } finally {
      polling = false;
      schedule();
    }
  };

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      schedule(0);
    }
  });

  // --- Buttons sent with fetch ------------------------------------------------------------------------

  const say = (text, ok) => {
    if (!feedback) {
      return;
    }
    feedback.textContent = text;
    feedback.className = `live-feedback alert ${ok ? "alert-success" : "alert-danger"}`;
  };

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-live-action")) {
      return;
    }
    event.preventDefault();
    if (form.dataset.busy) {
      return;
    }
    form.dataset.busy = "1";
    const body = new FormData(form, event.submitter);
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body,
        headers: { "X-Live-Action": "1", Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.status === 404) {
        stopped = true;
        showConnection(region.dataset.goneMessage);
      } else if (response.status === 403) {
        say(region.dataset.forbiddenMessage, false);
      } else {
        const answer = await response.json();
        say(answer.message, answer.ok);
      }
    } catch (error) {
      say(region.dataset.offlineMessage, false);
    } finally {
      delete form.dataset.busy;
      // Catch up at once rather than at the next poll: the buttons then send the new step.
      window.clearTimeout(timer);
      await poll();
    }
  });

  // --- Keyboard shortcuts -----------------------------------------------------------------------------

  const typing = (element) =>
    element &&
    (element.isContentEditable ||
      ["INPUT", "TEXTAREA", "SELECT"].includes(element.tagName) ||
      element.closest("[contenteditable]"));

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || typing(event.target)) {
      return;
    }
    const key = event.key.length === 1 ? event.key.toLowerCase() : "";
    if (!key) {
      return;
    }
    const button = document.querySelector(`button[data-shortcut="${CSS.escape(key)}"]`);
    if (!button || button.closest("[hidden]") || button.disabled) {
      return;
    }
    event.preventDefault();
    button.click();
  });

  syncControls(rootOf() || region);
  tick();
  schedule();
})();
