// A minimal XML well-formedness check for the SVG the report writes (no XML
// parser dependency): tags balance, attributes are quoted, entities are known.

import assert from 'node:assert/strict';

/** Minimal XML check: every tag closes in order, attributes are quoted, entities are known. */
export function assertWellFormedSvg(svg: string): void {
  const stack: string[] = [];
  const tagRe = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  let roots = 0;
  while ((m = tagRe.exec(svg))) {
    const between = svg.slice(last, m.index);
    assert.ok(!between.includes('<') && !between.includes('>'), `stray angle bracket or malformed tag near: ${svg.slice(last, last + 80)}`);
    assert.ok(!/&(?!amp;|lt;|gt;|quot;|apos;|#\d+;)/.test(between), `bare "&" in text: ${between}`);
    const [, close, name, attrs, selfClose] = m;
    assert.ok(!/&(?!amp;|lt;|gt;|quot;|apos;|#\d+;)/.test(attrs), `bare "&" in attributes of <${name}>`);
    if (close) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) roots++;
    last = tagRe.lastIndex;
  }
  assert.equal(svg.slice(last).trim(), '', 'text after the root element');
  assert.deepEqual(stack, [], `unclosed: ${stack.join(', ')}`);
  assert.equal(roots, 1, 'exactly one root element');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
}

