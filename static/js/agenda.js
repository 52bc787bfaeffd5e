// The agenda's drag and drop (templates/meetings/_agenda.html), and the print page's Print button.
// Our own small script: no inline scripts (the Content Security Policy forbids them), no library.
// Without this script the Up and Down buttons still reorder the items (plain form posts or htmx); with
// it, an editor can also drag an item, and the new order is posted whole to the reorder URL, which
// answers with the items' fragment (or, if the agenda changed meanwhile, the fragment and the reason).
"use strict";

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});

(() => {
  const ITEM = "li[data-item-id]";
  let dragged = null;

  const listOf = (element) => element && element.closest("ol[data-reorder-url]");
  const orderOf = (list) => [...list.querySelectorAll(`:scope > ${ITEM}`)].map((li) => li.dataset.itemId);

  // Items become draggable only when this script runs, so nobody is offered a drag that cannot work.
  const prepare = (root) => {
    for (const list of root.querySelectorAll("ol[data-reorder-url]")) {
      list.dataset.initialOrder = orderOf(list).join();
      for (const item of list.querySelectorAll(`:scope > ${ITEM}`)) {
        item.draggable = true;
        item.classList.add("agenda-item-draggable");
      }
    }
  };

  const save = async (list, order) => {
    const container = document.getElementById("agenda-items");
    const token = list.closest("form").querySelector("input[name=csrfmiddlewaretoken]").value;
    const body = new URLSearchParams();
    for (const id of order) {
      body.append("order", id);
    }
    let html = "";
    try {
      const response = await fetch(list.dataset.reorderUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": token, "HX-Request": "true" },
        body,
      });
      html = await response.text();
    } catch (error) {
      window.location.reload();
      return;
    }
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const fresh = template.content.firstElementChild;
    if (!container || !fresh || fresh.id !== "agenda-items") {
      window.location.reload();
      return;
    }
    container.replaceWith(fresh);
    if (window.htmx) {
      window.htmx.process(fresh);
    }
    prepare(fresh);
  };

  document.addEventListener("dragstart", (event) => {
    const item = event.target.closest && event.target.closest(ITEM);
    if (!item || !listOf(item)) {
      return;
    }
    dragged = item;
    item.classList.add("agenda-item-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.itemId);
  });

  document.addEventListener("dragover", (event) => {
    if (!dragged) {
      return;
    }
    const over = event.target.closest && event.target.closest(ITEM);
    if (!over || listOf(over) !== listOf(dragged)) {
      return;
    }
    event.preventDefault();
    if (over === dragged) {
      return;
    }
    const box = over.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
  });

  document.addEventListener("drop", (event) => {
    if (dragged) {
      event.preventDefault();
    }
  });

  document.addEventListener("dragend", () => {
    if (!dragged) {
      return;
    }
    const item = dragged;
    dragged = null;
    item.classList.remove("agenda-item-dragging");
    const list = listOf(item);
    const order = orderOf(list);
    if (order.join() !== list.dataset.initialOrder) {
      save(list, order);
    }
  });

  // After an Up/Down click htmx replaces the list, and with it the focused button: put the focus back on
  // the same item's button (or its other one, at the top or bottom), so a keyboard user can press again.
  let moving = null;
  document.addEventListener("htmx:beforeRequest", (event) => {
    const button = event.target.closest && event.target.closest("button[name=direction]");
    const item = button && button.closest(ITEM);
    moving = item ? { id: item.dataset.itemId, direction: button.value } : null;
  });
  document.addEventListener("htmx:afterSettle", () => {
    if (!moving) {
      return;
    }
    const item = document.querySelector(`#agenda-items ${ITEM}[data-item-id="${CSS.escape(moving.id)}"]`);
    const button =
      item && (item.querySelector(`button[value="${moving.direction}"]`) || item.querySelector("button[name=direction]"));
    moving = null;
    if (button) {
      button.focus();
    }
  });

  document.addEventListener("DOMContentLoaded", () => prepare(document));
  // htmx swaps in a new fragment after an Up/Down click: its items need preparing too.
  document.addEventListener("htmx:load", (event) => prepare(event.target.parentNode || document));
})();
