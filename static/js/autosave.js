// The live meeting's recording part (templates/meetings/_record_step.html): autosaved texts that are
// never lost, and a fresh copy of the part merged in when the meeting moves, without touching what is
// being typed. No inline script anywhere: the Content Security Policy forbids it.
//
// Each autosaved text ([data-autosave]) is saved about 800 ms after typing stops and when the field is
// left. Until the server has confirmed a text, a copy stays in localStorage (key per meeting, record and
// field), so a lost connection or a reload loses nothing: the copy is put back into its field and saved
// as soon as the connection returns. A save names the record's version the page started from; a 409
// answer shows both texts and a merge form instead of overwriting anyone.
"use strict";

(() => {
  const DEBOUNCE_MS = 800;
  const RETRY_MS = 5000;
  const REFRESH_RETRY_MS = 2000;
  const PREFIX = "rt:draft:";
  const VERSION_HEADER = "X-Record-Version";
  const FALLBACK = {
    textSaved: "Saved",
    textUnsaved: "Not saved yet",
    textSaving: "Saving…",
    textOffline: "Offline — will save when the connection returns",
    textFailed: "Not saved:",
    textConflict: "Not saved: someone else saved this text meanwhile.",
    textSignedOut: "Not saved: you are signed out.",
    textCarried: "From the previous step, still being written:",
  };

  const pending = new Set();
  // True while a fresh copy is merged in: moving a focused field blurs it, which is not the person leaving it.
  let merging = false;

  function words(name) {
    const root = document.getElementById("record-step");
    return (root && root.dataset[name]) || FALLBACK[name];
  }

  function announce(text) {
    if (text) {
      document.dispatchEvent(new CustomEvent("live:announce", { detail: { text } }));
    }
  }

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function readDraft(key) {
    try {
      const raw = window.localStorage.getItem(PREFIX + key);
      return raw ? JSON.parse(raw) : null;
    } catch (error) {
      return null;
    }
  }

  function writeDraft(key, draft) {
    try {
      window.localStorage.setItem(PREFIX + key, JSON.stringify(draft));
    } catch (error) {
      // Storage full or refused (private mode): the text is still in the page.
    }
  }

  function dropDraft(key) {
    try {
      window.localStorage.removeItem(PREFIX + key);
    } catch (error) {
      // Nothing to do.
    }
  }

  function post(url, body) {
    // HX-Request: the server answers with a fragment (and the version header) instead of a redirect.
    return fetch(url, {
      method: "POST",
      body,
      headers: { "HX-Request": "true" },
      credentials: "same-origin",
    });
  }

  async function plainText(response) {
    const type = response.headers.get("Content-Type") || "";
    return type.startsWith("text/plain") ? (await response.text()).trim() : "";
  }

  // One autosaved text. Its state lives on the element, so it moves with it when the part is merged.
  class Field {
    constructor(group) {
      this.group = group;
      this.form = group.querySelector("form");
      this.textarea = this.form.querySelector("textarea[name=text]");
      this.versionInput = this.form.querySelector("input[name=version]");
      this.status = group.querySelector(".record-status");
      this.conflictBox = group.querySelector(".record-conflict");
      this.key = group.dataset.autosaveKey;
      this.version = Number(group.dataset.version);
      this.saved = this.textarea.value;
      this.savedRating = this.rating();
      this.timer = null;
      this.inFlight = false;
      this.again = false;
      this.inConflict = false;
      group.autosave = this;

      this.textarea.addEventListener("input", () => this.changed());
      this.textarea.addEventListener("blur", () => {
        if (merging) {
          return;
        }
        this.flush();
        // Kept as it was while it had the focus, though someone saved it meanwhile: now show theirs.
        if (this.group.dataset.stale && !this.isBusy()) {
          delete this.group.dataset.stale;
          refresh();
        }
      });
      for (const radio of this.form.querySelectorAll("input[name=rating]")) {
        radio.addEventListener("change", () => {
          this.changed();
          this.flush();
        });
      }
      this.form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.flush();
      });
      this.restore();
    }

    rating() {
      const checked = this.form.querySelector("input[name=rating]:checked");
      return checked ? checked.value : null;
    }

    isDirty() {
      return this.textarea.value !== this.saved || this.rating() !== this.savedRating;
    }

    isBusy() {
      return (
        this.isDirty() ||
        this.inFlight ||
        this.inConflict ||
        this.timer !== null ||
        this.group.contains(document.activeElement)
      );
    }

    setVersion(version) {
      this.version = version;
      this.group.dataset.version = String(version);
      this.versionInput.value = String(version);
    }

    setStatus(state, detail = "") {
      const text = {
        saved: words("textSaved"),
        unsaved: words("textUnsaved"),
        saving: words("textSaving"),
        offline: words("textOffline"),
        failed: `${words("textFailed")} ${detail}`.trim(),
        conflict: words("textConflict"),
        "signed-out": words("textSignedOut"),
      }[state];
      this.status.dataset.state = state;
      this.status.textContent = text;
    }

    remember() {
      writeDraft(this.key, {
        text: this.textarea.value,
        rating: this.rating(),
        version: this.version,
        url: this.form.action,
        at: Date.now(),
      });
    }

    // A copy left by an earlier page (a reload, a lost connection) goes back into the field.
    restore() {
      const draft = readDraft(this.key);
      if (!draft) {
        return;
      }
      const rating = draft.rating === undefined ? this.savedRating : draft.rating;
      if (draft.text === this.saved && rating === this.savedRating) {
        dropDraft(this.key);
        return;
      }
      this.textarea.value = draft.text;
      if (rating !== null) {
        const radio = this.form.querySelector(`input[name=rating][value="${CSS.escape(rating)}"]`);
        if (radio) {
          radio.checked = true;
        }
      }
      // Started from an older version: the save then answers 409 with both texts, never overwriting.
      this.setVersion(Math.min(Number(draft.version), this.version));
      this.changed();
    }

    changed() {
      this.remember();
      if (this.inConflict) {
        return;
      }
      this.setStatus(navigator.onLine ? "unsaved" : "offline");
      window.clearTimeout(this.timer);
      this.timer = window.setTimeout(() => {
        this.timer = null;
        this.save();
      }, DEBOUNCE_MS);
    }

    flush() {
      if (this.timer !== null) {
        window.clearTimeout(this.timer);
        this.timer = null;
      }
      if (this.isDirty()) {
        this.save();
      }
    }

    async save() {
      if (this.inConflict) {
        return;
      }
      if (this.inFlight) {
        this.again = true;
        return;
      }
      if (!this.isDirty()) {
        dropDraft(this.key);
        return;
      }
      if (!navigator.onLine) {
        this.setStatus("offline");
        pending.add(this);
        return;
      }
      const text = this.textarea.value;
      const rating = this.rating();
      const body = new FormData();
      body.set("csrfmiddlewaretoken", csrfToken());
      body.set("text", text);
      body.set("version", String(this.version));
      if (rating !== null) {
        body.set("rating", rating);
      }
      this.inFlight = true;
      this.setStatus("saving");
      let response;
      try {
        response = await post(this.form.action, body);
      } catch (error) {
        this.inFlight = false;
        this.setStatus("offline");
        pending.add(this);
        return;
      }
      this.inFlight = false;
      const version = response.headers.get(VERSION_HEADER);
      if (response.ok && version !== null && !response.redirected) {
        pending.delete(this);
        this.setVersion(Number(version));
        this.saved = text;
        this.savedRating = rating;
        if (this.isDirty()) {
          this.remember();
          this.setStatus("unsaved");
          this.again = true;
        } else {
          dropDraft(this.key);
          this.setStatus("saved");
        }
      } else if (response.status === 409) {
        pending.delete(this);
        this.showConflict(await response.text());
      } else if (response.redirected) {
        // Sent to the sign-in page: the copy stays in the browser and is sent after signing in.
        this.setStatus("signed-out");
        pending.add(this);
      } else if (response.status >= 500 || response.status === 429) {
        this.setStatus("failed", await plainText(response));
        pending.add(this);
      } else {
        // Refused (the meeting has ended, a text too long, signed out): the copy stays in the browser.
        pending.delete(this);
        this.setStatus("failed", await plainText(response));
      }
      if (this.again) {
        this.again = false;
        this.save();
      }
    }

    showConflict(html) {
      const wasTyping = document.activeElement === this.textarea;
      this.inConflict = true;
      this.conflictBox.innerHTML = html;
      this.setStatus("conflict");
      announce(words("textConflict"));
      const merge = this.conflictBox.querySelector("form[data-record-merge]");
      if (!merge) {
        return;
      }
      const merged = merge.querySelector("textarea[name=text]");
      // From now on the merged text is the one being written: the field above waits, read-only, and
      // whatever is typed next goes on into the merged text (kept in the browser like any other).
      this.textarea.readOnly = true;
      merged.addEventListener("input", () => {
        writeDraft(this.key, {
          text: merged.value,
          rating: this.rating(),
          version: this.version,
          url: this.form.action,
          at: Date.now(),
        });
      });
      if (wasTyping) {
        merged.focus();
        merged.setSelectionRange(merged.value.length, merged.value.length);
      }
      merge.addEventListener("submit", (event) => {
        event.preventDefault();
        this.saveMerged(merge);
      });
    }

    async saveMerged(merge) {
      const body = new FormData(merge);
      const text = String(body.get("text") || "");
      let response;
      try {
        response = await post(merge.action, body);
      } catch (error) {
        this.setStatus("offline");
        return;
      }
      const version = response.headers.get(VERSION_HEADER);
      if (response.ok && version !== null && !response.redirected) {
        this.inConflict = false;
        this.conflictBox.replaceChildren();
        this.textarea.readOnly = false;
        this.textarea.value = text;
        this.setVersion(Number(version));
        this.saved = text;
        this.savedRating = this.rating();
        dropDraft(this.key);
        this.setStatus("saved");
        announce(words("textSaved"));
        this.textarea.focus();
      } else if (response.status === 409) {
        this.showConflict(await response.text());
      } else {
        this.setStatus("failed", await plainText(response));
      }
    }
  }

  function init(scope) {
    for (const group of scope.querySelectorAll("[data-autosave]")) {
      if (!group.autosave) {
        new Field(group);
      }
    }
  }

  // Copies whose field is not on the page any more (the meeting moved on while the connection was
  // lost) are sent on their own; a refused one stays until its field is shown again.
  async function sendOrphans() {
    if (!navigator.onLine) {
      return;
    }
    const onPage = new Set([...document.querySelectorAll("[data-autosave]")].map((g) => g.dataset.autosaveKey));
    const keys = [];
    try {
      for (let i = 0; i < window.localStorage.length; i += 1) {
        const key = window.localStorage.key(i);
        if (key && key.startsWith(PREFIX) && !onPage.has(key.slice(PREFIX.length))) {
          keys.push(key.slice(PREFIX.length));
        }
      }
    } catch (error) {
      return;
    }
    for (const key of keys) {
      const draft = readDraft(key);
      if (!draft || !draft.url || new URL(draft.url, window.location.href).origin !== window.location.origin) {
        continue;
      }
      const body = new FormData();
      body.set("csrfmiddlewaretoken", csrfToken());
      body.set("text", draft.text);
      body.set("version", String(draft.version));
      if (draft.rating !== null && draft.rating !== undefined) {
        body.set("rating", draft.rating);
      }
      try {
        const response = await post(draft.url, body);
        if (response.ok && response.headers.get(VERSION_HEADER) !== null) {
          dropDraft(key);
        }
      } catch (error) {
        return;
      }
    }
  }

  function retry() {
    for (const field of [...pending]) {
      pending.delete(field);
      field.save();
    }
    sendOrphans();
  }

  window.addEventListener("online", retry);
  window.addEventListener("offline", () => {
    for (const group of document.querySelectorAll("[data-autosave]")) {
      if (group.autosave && group.autosave.isDirty() && !group.autosave.inConflict) {
        group.autosave.setStatus("offline");
      }
    }
  });
  window.setInterval(() => {
    if (navigator.onLine && pending.size) {
      retry();
    }
  }, RETRY_MS);

  // --- A fresh copy of the part, merged in without disturbing what is being typed ---------------------

  function busy(element, active) {
    if (element.autosave) {
      return element.autosave.isBusy();
    }
    return element.dataset.dirty === "1" || element.contains(active);
  }

  function carried(fresh) {
    let box = fresh.querySelector("#record-carried");
    if (!box) {
      box = document.createElement("div");
      box.id = "record-carried";
      box.className = "border border-warning rounded p-2 mb-3";
      const note = document.createElement("p");
      note.className = "small mb-1";
      note.textContent = words("textCarried");
      box.append(note);
      fresh.querySelector("#record-notice").after(box);
    }
    return box;
  }

  function merge(html, replace = null) {
    const current = document.getElementById("record-step");
    if (!current) {
      return null;
    }
    const template = document.createElement("template");
    template.innerHTML = html;
    const fresh = template.content.querySelector("#record-step");
    if (!fresh) {
      return null;
    }
    if (!replace && Number(fresh.dataset.revision) < Number(current.dataset.revision)) {
      return null; // an answer overtaken by a newer one
    }
    const active = document.activeElement;
    let selection = null;
    try {
      if (active && typeof active.selectionStart === "number") {
        selection = [active.selectionStart, active.selectionEnd];
      }
    } catch (error) {
      selection = null;
    }
    merging = true;
    try {
      for (const element of current.querySelectorAll("[data-autosave], form[data-record-form]")) {
        if (element === replace || !element.id || !busy(element, active)) {
          continue;
        }
        const twin = fresh.querySelector(`#${CSS.escape(element.id)}`);
        if (twin) {
          if (element.autosave && Number(twin.dataset.version) !== element.autosave.version) {
            element.dataset.stale = "1";
          }
          twin.replaceWith(element);
        } else if (element.autosave) {
          // The meeting moved on while this text was being written: it stays, at the top, until it is
          // left and saved (a later refresh then drops it), so no keystroke lands elsewhere.
          carried(fresh).append(element);
        }
      }
      current.replaceWith(fresh);
      if (active && fresh.contains(active) && document.activeElement !== active) {
        active.focus({ preventScroll: true });
        if (selection) {
          try {
            active.setSelectionRange(selection[0], selection[1]);
          } catch (error) {
            // Not a text field.
          }
        }
      }
    } finally {
      merging = false;
    }
    init(fresh);
    return fresh;
  }

  let refreshing = false;
  let refreshAgain = false;
  let refreshRetry = null;

  // The part shows an older revision than the live page above it (a refresh failed).
  function behind() {
    const live = document.getElementById("live-state");
    const current = document.getElementById("record-step");
    return Boolean(live && current) && Number(live.dataset.revision) > Number(current.dataset.revision);
  }

  async function refresh() {
    const current = document.getElementById("record-step");
    if (!current) {
      return;
    }
    if (refreshing) {
      refreshAgain = true;
      return;
    }
    refreshing = true;
    window.clearTimeout(refreshRetry);
    let failed = false;
    try {
      const response = await fetch(current.dataset.recordUrl, {
        headers: { "HX-Request": "true" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.ok && !response.redirected) {
        merge(await response.text());
      } else {
        // A server error is asked again below; signed out (a redirect) or no longer a member (404): the
        // live page says so and stops.
        failed = response.status >= 500;
      }
    } catch (error) {
      // Offline, or the server unreachable: asked again below (the live page says the connection is lost).
      failed = true;
    } finally {
      refreshing = false;
      if (refreshAgain) {
        refreshAgain = false;
        refresh();
      } else if (failed && behind()) {
        // Nothing else would ask again until the meeting moves once more: the part would stay stale.
        refreshRetry = window.setTimeout(refresh, REFRESH_RETRY_MS);
      }
    }
  }

  document.addEventListener("live:changed", (event) => {
    const current = document.getElementById("record-step");
    const revision = event.detail ? String(event.detail.revision) : "";
    if (current && revision !== current.dataset.revision) {
      refresh();
    }
  });

  // The part's forms (stance, proposal, check, deferral, to-dos, next meeting) are sent with fetch and
  // answered with the part, which is merged like a fresh copy (the answered form itself is replaced).
  document.addEventListener("input", (event) => {
    const form = event.target.closest && event.target.closest("#record-step form[data-record-form]");
    if (form) {
      form.dataset.dirty = "1";
    }
  });

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches("#record-step form[data-record-form]")) {
      return;
    }
    event.preventDefault();
    const buttons = form.querySelectorAll("button[type=submit]");
    for (const button of buttons) {
      button.disabled = true;
    }
    let response;
    try {
      response = await post(form.action, new FormData(form));
    } catch (error) {
      for (const button of buttons) {
        button.disabled = false;
      }
      const notice = document.getElementById("record-notice");
      if (notice) {
        notice.className = "alert alert-warning";
        notice.textContent = words("textOffline");
      }
      return;
    }
    const type = response.headers.get("Content-Type") || "";
    if (response.redirected || !type.startsWith("text/html")) {
      window.location.reload();
      return;
    }
    delete form.dataset.dirty;
    const fresh = merge(await response.text(), form);
    if (!fresh) {
      for (const button of buttons) {
        button.disabled = false;
      }
      const notice = document.getElementById("record-notice");
      if (notice) {
        notice.className = "alert alert-danger";
        notice.textContent = `${words("textFailed")} ${response.status}`;
      }
      return;
    }
    const notice = fresh.querySelector("#record-notice");
    announce(notice ? notice.textContent.trim() : "");
    const invalid = fresh.querySelector(`#${CSS.escape(form.id)} [aria-invalid=true]`);
    if (invalid) {
      invalid.focus();
    } else if (notice && notice.textContent.trim()) {
      notice.tabIndex = -1;
      notice.focus({ preventScroll: false });
    }
  });

  function start() {
    init(document);
    sendOrphans();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
