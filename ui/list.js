// A keyboard-friendly list of links (messages, sessions). One item is "active" and is the only
// one in the tab order (roving tabindex); j/k or the arrow keys move it, Home/End jump, Enter
// follows the link. Items are kept by key, so a live update that adds one item does not rebuild
// (or blur) the others.
import { h } from './lib.js';

export class ListView {
  // render(item) -> the <a> of one item; keyOf(item) -> string.
  constructor({ label, keyOf, render, empty }) {
    this.keyOf = keyOf;
    this.render = render;
    this.empty = empty;
    this.nodes = new Map();  // key -> {li, sig}
    this.keys = [];
    this.activeKey = null;
    this.selectedKey = null;
    this.ul = h('ul', { class: 'list', 'aria-label': label });
    this.emptyBox = h('div', { class: 'list-empty', hidden: true });
    this.el = h('div', { class: 'list-wrap' }, this.ul, this.emptyBox);
    this.ul.addEventListener('focusin', (e) => {
      const li = e.target.closest('li[data-key]');
      if (li) this.setActive(li.dataset.key, { focus: false });
    });
    this.ul.addEventListener('keydown', (e) => {
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      const moves = { ArrowDown: 1, ArrowUp: -1, Home: -Infinity, End: Infinity };
      if (e.key in moves) {
        e.preventDefault();
        this.move(moves[e.key]);
      }
    });
  }

  // items: in display order. fresh: keys to flash as newly arrived (each is used up once shown).
  setItems(items, { fresh = new Set(), emptyText } = {}) {
    const hadFocus = this.ul.contains(document.activeElement);
    const focusedKey = hadFocus ? document.activeElement.closest('li[data-key]')?.dataset.key : null;
    const next = new Map();
    const lis = [];
    for (const item of items) {
      const key = String(this.keyOf(item));
      const sig = JSON.stringify(item);
      let entry = this.nodes.get(key);
      if (!entry || entry.sig !== sig) {
        const link = this.render(item);
        link.tabIndex = -1;
        const li = h('li', { 'data-key': key }, link);
        if (fresh.delete(key)) li.classList.add('fresh');
        entry = { li, sig };
      }
      next.set(key, entry);
      lis.push(entry.li);
    }
    this.nodes = next;
    this.keys = [...next.keys()];
    // Only touch the DOM where the order changed, so a focused item keeps its focus.
    let i = 0;
    for (const li of lis) {
      if (this.ul.children[i] !== li) this.ul.insertBefore(li, this.ul.children[i] || null);
      i++;
    }
    while (this.ul.children.length > lis.length) this.ul.lastElementChild.remove();

    this.emptyBox.hidden = lis.length > 0;
    this.emptyBox.replaceChildren(...(lis.length ? [] : [this.empty(emptyText)]));
    if (!this.nodes.has(this.activeKey)) this.activeKey = this.nodes.has(this.selectedKey) ? this.selectedKey : this.keys[0] ?? null;
    this.applyMarks();
    if (focusedKey && document.activeElement === document.body) this.focusKey(this.nodes.has(focusedKey) ? focusedKey : this.activeKey);
  }

  applyMarks() {
    for (const [key, { li }] of this.nodes) {
      const link = li.firstElementChild;
      link.tabIndex = key === this.activeKey ? 0 : -1;
      if (key === this.selectedKey) link.setAttribute('aria-current', 'true');
      else link.removeAttribute('aria-current');
    }
  }

  // The item shown in the detail pane (or null).
  select(key) {
    this.selectedKey = key === null ? null : String(key);
    if (this.selectedKey && this.nodes.has(this.selectedKey)) this.activeKey = this.selectedKey;
    this.applyMarks();
    if (this.selectedKey) this.nodes.get(this.selectedKey)?.li.scrollIntoView({ block: 'nearest' });
  }

  setActive(key, { focus = true } = {}) {
    if (!this.nodes.has(key)) return;
    this.activeKey = key;
    this.applyMarks();
    if (focus) this.focusKey(key);
  }

  focusKey(key) {
    const entry = this.nodes.get(key);
    if (!entry) return false;
    entry.li.firstElementChild.focus();
    entry.li.scrollIntoView({ block: 'nearest' });
    return true;
  }

  // Focuses the active item (or the first); false when the list is empty.
  focus() {
    return this.focusKey(this.activeKey ?? this.keys[0]);
  }

  move(delta) {
    if (!this.keys.length) return;
    const focused = this.ul.contains(document.activeElement);
    let index = this.keys.indexOf(this.activeKey);
    if (index < 0) index = 0;
    else if (focused || delta === Infinity || delta === -Infinity) index += delta;
    index = Math.max(0, Math.min(this.keys.length - 1, Number.isFinite(index) ? index : (delta > 0 ? this.keys.length - 1 : 0)));
    this.setActive(this.keys[index]);
  }
}
