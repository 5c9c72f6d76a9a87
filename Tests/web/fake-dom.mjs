// A very small DOM stand-in for testing render.js / linkify.js in Node.
// It models only what those modules use; innerHTML deliberately throws so a
// test fails if any code path tries to use it.

class Node {
  constructor(doc) { this.ownerDocument = doc; this.childNodes = []; this.parentNode = null; }
  appendChild(child) {
    if (child.isFragment) {
      for (const c of [...child.childNodes]) this.appendChild(c);
      child.childNodes = [];
      return child;
    }
    if (child.parentNode) child.parentNode.childNodes = child.parentNode.childNodes.filter((c) => c !== child);
    child.parentNode = this;
    this.childNodes.push(child);
    return child;
  }
  append(...nodes) { for (const n of nodes) this.appendChild(typeof n === 'string' ? this.ownerDocument.createTextNode(n) : n); }
  replaceChildren(...nodes) {
    for (const c of this.childNodes) c.parentNode = null;
    this.childNodes = [];
    this.append(...nodes);
  }
  get textContent() { return this.childNodes.map((c) => c.textContent).join(''); }
  set textContent(v) {
    this.childNodes = [];
    if (v !== '' && v !== null && v !== undefined) this.appendChild(this.ownerDocument.createTextNode(String(v)));
  }
}

class Text extends Node {
  constructor(doc, data) { super(doc); this.data = String(data); this.nodeType = 3; }
  get textContent() { return this.data; }
  set textContent(v) { this.data = String(v); }
}

class Element extends Node {
  constructor(doc, tag) {
    super(doc);
    this.tagName = tag.toUpperCase();
    this.nodeType = 1;
    this.attributes = new Map();
    this.dataset = {};
    this.className = '';
    this.hidden = false;
    const self = this;
    this.classList = {
      contains: (c) => self.className.split(/\s+/).includes(c),
      toggle: (c, force) => {
        const set = new Set(self.className.split(/\s+/).filter(Boolean));
        const on = force === undefined ? !set.has(c) : !!force;
        if (on) set.add(c); else set.delete(c);
        self.className = [...set].join(' ');
        return on;
      },
      add: (c) => self.classList.toggle(c, true),
      remove: (c) => self.classList.toggle(c, false),
    };
  }
  setAttribute(k, v) { this.attributes.set(k, String(v)); }
  getAttribute(k) { return this.attributes.has(k) ? this.attributes.get(k) : null; }
  get innerHTML() { throw new Error('innerHTML used'); }
  set innerHTML(_v) { throw new Error('innerHTML used'); }
  insertAdjacentHTML() { throw new Error('insertAdjacentHTML used'); }
  get children() { return this.childNodes.filter((c) => c instanceof Element); }
  /** all descendant elements, depth first */
  descendants() {
    const out = [];
    const walk = (n) => { for (const c of n.childNodes) if (c instanceof Element) { out.push(c); walk(c); } };
    walk(this);
    return out;
  }
  /** supports "tag", ".cls", "tag.cls" */
  querySelectorAll(sel) {
    const m = /^([a-z0-9]*)((?:\.[\w-]+)*)$/i.exec(sel);
    if (!m) throw new Error(`unsupported selector ${sel}`);
    const tag = m[1].toUpperCase();
    const classes = m[2].split('.').filter(Boolean);
    return this.descendants().filter((e) => (!tag || e.tagName === tag) && classes.every((c) => e.classList.contains(c)));
  }
  querySelector(sel) { return this.querySelectorAll(sel)[0] ?? null; }
  addEventListener() {}
  focus() { this.ownerDocument.activeElement = this; }
  closest() { return null; }
}

class Fragment extends Node {
  constructor(doc) { super(doc); this.isFragment = true; }
}

export function createDocument() {
  const doc = {
    title: '',
    activeElement: null,
    createElement: (tag) => new Element(doc, tag),
    createTextNode: (t) => new Text(doc, t),
    createDocumentFragment: () => new Fragment(doc),
  };
  return doc;
}
