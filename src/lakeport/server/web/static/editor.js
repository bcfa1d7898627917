// The SQL editor: a textarea over a highlighted <pre> (the textarea's text is transparent, its caret is not),
// with completion of databases, tables and columns from the catalog on Ctrl-Space or after a dot.
import { highlight, tokens } from './sql.js';

const WORDS = ['SELECT', 'FROM', 'WHERE', 'GROUP BY', 'ORDER BY', 'LIMIT', 'JOIN', 'LEFT JOIN', 'ON', 'AS', 'AND', 'OR',
  'COUNT(*)', 'DISTINCT', 'HAVING', 'WITH', 'UNION ALL', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'DESC', 'ASC'];

export class SqlEditor {
  // `catalog` answers databases(), tables(db) and columns(db, table), each a promise of names.
  constructor(root, catalog, { database, onRun }) {
    this.root = root;
    this.area = root.querySelector('textarea');
    this.code = root.querySelector('code');
    this.pre = root.querySelector('pre');
    this.menu = root.querySelector('.complete');
    this.catalog = catalog;
    this.database = database;
    this.onRun = onRun;
    this.items = [];
    this.active = 0;
    this.area.addEventListener('input', (e) => this.changed(e));
    this.area.addEventListener('scroll', () => this.sync());
    this.area.addEventListener('keydown', (e) => this.key(e));
    this.area.addEventListener('blur', () => setTimeout(() => this.close(), 150));
    this.render();
  }

  get value() { return this.area.value; }

  set value(text) {
    this.area.value = text;
    this.render();
  }

  render() {
    // A trailing newline needs a character after it for the <pre> to be as tall as the textarea.
    this.code.innerHTML = `${highlight(this.area.value)}\n`;
    this.sync();
  }

  sync() {
    this.pre.scrollTop = this.area.scrollTop;
    this.pre.scrollLeft = this.area.scrollLeft;
  }

  changed(event) {
    this.render();
    if (event.data === '.') this.complete();
    else if (!this.menu.hidden) this.complete();
  }

  key(event) {
    if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') {
      event.preventDefault();
      this.close();
      this.onRun();
      return;
    }
    if (event.ctrlKey && (event.key === ' ' || event.code === 'Space')) {
      event.preventDefault();
      this.complete();
      return;
    }
    if (this.menu.hidden) {
      if (event.key === 'Tab') {
        event.preventDefault();
        this.insert('  ', 0);
      }
      return;
    }
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      this.active = (this.active + step + this.items.length) % this.items.length;
      this.draw();
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      event.preventDefault();
      this.accept(this.items[this.active]);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      this.close();
    }
  }

  // What is being typed at the caret: {qualifier, partial}.
  context() {
    const before = this.area.value.slice(0, this.area.selectionStart);
    const found = /(?:"?([A-Za-z_][\w$]*)"?\.)?"?([A-Za-z_][\w$]*)?$/.exec(before);
    return { qualifier: found?.[1] || null, partial: found?.[2] || '' };
  }

  // Tables the query names after FROM or JOIN, with their aliases: alias or name → [database, table]. Only
  // tables the catalog has count.
  async tablesInQuery(databases) {
    const found = new Map();
    const toks = tokens(this.area.value).filter((t) => t.kind !== 'space' && t.kind !== 'comment');
    const bare = (t) => t.text.replace(/^"|"$/g, '');
    for (let i = 0; i < toks.length; i += 1) {
      if (toks[i].kind !== 'keyword' || !['FROM', 'JOIN'].includes(toks[i].text.toUpperCase())) continue;
      let j = i + 1;
      if (!toks[j] || !['ident', 'name'].includes(toks[j].kind)) continue;
      let db = this.database;
      let name = bare(toks[j]);
      if (toks[j + 1]?.text === '.') {
        if (!toks[j + 2] || !['ident', 'name'].includes(toks[j + 2].kind)) continue;
        db = name;
        name = bare(toks[j + 2]);
        j += 2;
      }
      if (!databases.includes(db) || !(await this.catalog.tables(db)).includes(name)) continue;
      found.set(name, [db, name]);
      let k = j + 1;
      if (toks[k]?.text.toUpperCase() === 'AS') k += 1;
      if (toks[k] && toks[k].kind === 'ident') found.set(bare(toks[k]), [db, name]);
    }
    return found;
  }

  async complete() {
    const { qualifier, partial } = this.context();
    let names = [];
    try {
      const databases = await this.catalog.databases();
      const tables = await this.catalog.tables(this.database);
      const used = await this.tablesInQuery(databases);
      if (qualifier) {
        if (used.has(qualifier)) names = await this.catalog.columns(...used.get(qualifier));
        else if (tables.includes(qualifier)) names = await this.catalog.columns(this.database, qualifier);
        else if (databases.includes(qualifier)) names = await this.catalog.tables(qualifier);
      } else {
        const columns = (await Promise.all([...new Set([...used.values()].map((v) => v.join('.')))]
          .map((key) => this.catalog.columns(...key.split('.'))))).flat();
        names = [...columns, ...tables, ...databases, ...WORDS];
      }
    } catch {
      names = [];
    }
    const lower = partial.toLowerCase();
    this.items = [...new Set(names)].filter((n) => n.toLowerCase().startsWith(lower) && n !== partial).slice(0, 12);
    this.active = 0;
    this.partial = partial;
    if (!this.items.length) {
      this.close();
      return;
    }
    this.draw();
    this.place();
  }

  draw() {
    this.menu.replaceChildren(...this.items.map((item, i) => {
      const li = document.createElement('li');
      li.textContent = item;
      li.className = i === this.active ? 'active' : '';
      li.addEventListener('mousedown', (e) => {
        e.preventDefault();
        this.accept(item);
      });
      return li;
    }));
    this.menu.hidden = false;
  }

  place() {
    // Under the caret: the editor's font is monospaced, so line and column give the position.
    const before = this.area.value.slice(0, this.area.selectionStart);
    const lines = before.split('\n');
    const style = getComputedStyle(this.area);
    const lineHeight = parseFloat(style.lineHeight) || 18;
    const probe = document.createElement('span');
    probe.textContent = 'M'.repeat(10);
    probe.style.font = style.font;
    probe.style.visibility = 'hidden';
    probe.style.position = 'absolute';
    document.body.append(probe);
    const charWidth = probe.getBoundingClientRect().width / 10;
    probe.remove();
    const top = parseFloat(style.paddingTop) + lines.length * lineHeight - this.area.scrollTop + 2;
    const left = parseFloat(style.paddingLeft) + (lines[lines.length - 1].length - this.partial.length) * charWidth - this.area.scrollLeft;
    this.menu.style.top = `${Math.min(top, this.area.clientHeight)}px`;
    this.menu.style.left = `${Math.max(0, left)}px`;
  }

  accept(item) {
    if (!item) return;
    this.insert(item, this.partial.length);
    this.close();
  }

  insert(text, replacing) {
    const start = this.area.selectionStart - replacing;
    this.area.setRangeText(text, start, this.area.selectionEnd, 'end');
    this.render();
    this.area.focus();
  }

  close() {
    this.menu.hidden = true;
    this.items = [];
  }
}
