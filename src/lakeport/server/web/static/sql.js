// SQL syntax highlighting: a small tokenizer (keywords, strings, quoted names, numbers, comments, operators)
// that turns SQL text into escaped HTML with one <span class="tok-…"> per token.

const KEYWORDS = new Set(`
ADD ALL ALTER AND ANY ARRAY AS ASC BETWEEN BIGINT BOOLEAN BY CASE CAST CREATE CROSS CUBE CURRENT DATABASE DATE
DECIMAL DELETE DESC DESCRIBE DISTINCT DOUBLE DROP ELSE END ESCAPE EXCEPT EXECUTE EXISTS EXPLAIN EXTERNAL FALSE
FETCH FILTER FIRST FLOAT FOLLOWING FOR FROM FULL GROUP GROUPING HAVING IF ILIKE IN INNER INSERT INT INTEGER
INTERSECT INTERVAL INTO IS JOIN LAST LATERAL LEFT LIKE LIMIT MAP MERGE NATURAL NOT NULL NULLS OFFSET ON OR ORDER
OUTER OVER PARTITION PARTITIONED PRECEDING PREPARE RANGE RECURSIVE REPLACE RIGHT ROLLUP ROW ROWS SCHEMA SELECT
SET SHOW SMALLINT STRUCT TABLE TABLES TBLPROPERTIES THEN TIMESTAMP TINYINT TO TRUE UNBOUNDED UNION UNNEST UPDATE
USING VALUES VARCHAR VIEW WHEN WHERE WINDOW WITH
`.trim().split(/\s+/));

const PATTERNS = [
  ['comment', /^--[^\n]*/],
  ['comment', /^\/\*[\s\S]*?(\*\/|$)/],
  ['string', /^'(?:[^']|'')*'?/],
  ['name', /^"(?:[^"]|"")*"?/],
  ['name', /^`[^`]*`?/],
  ['number', /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/],
  ['word', /^[A-Za-z_][A-Za-z0-9_$]*/],
  ['space', /^\s+/],
  ['op', /^(?:<>|!=|<=|>=|\|\||::|[-+*/%=<>(),.;[\]?:|])/],
  ['other', /^[\s\S]/],
];

// The tokens of `text`: [{kind, text, start}], kinds keyword/function/ident/string/name/number/comment/op/space.
export function tokens(text) {
  const out = [];
  let at = 0;
  while (at < text.length) {
    const rest = text.slice(at);
    for (const [kind, pattern] of PATTERNS) {
      const found = pattern.exec(rest);
      if (!found) continue;
      let k = kind;
      if (kind === 'word') {
        if (KEYWORDS.has(found[0].toUpperCase())) k = 'keyword';
        else k = /^\s*\(/.test(text.slice(at + found[0].length)) ? 'function' : 'ident';
      }
      out.push({ kind: k, text: found[0], start: at });
      at += found[0].length;
      break;
    }
  }
  return out;
}

const escapeHtml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function highlight(text) {
  return tokens(text)
    .map((t) => (t.kind === 'space' || t.kind === 'other' ? escapeHtml(t.text) : `<span class="tok-${t.kind}">${escapeHtml(t.text)}</span>`))
    .join('');
}
