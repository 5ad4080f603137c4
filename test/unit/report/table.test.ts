// Table renderers: alignment, widths with ANSI and wide characters, colour
// only when asked, Markdown escaping and alignment rows.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { looksNumeric, mdEscape, paint, renderMarkdownTable, renderTextTable, stripAnsi, visibleWidth } from '../../../src/report/table';
import { fmtInt, fmtMargin, fmtNum, fmtPct, pyFloat, pyList } from '../../../src/report/format';

describe('number formatting (the article style)', () => {
  it('groups thousands and keeps decimals', () => {
    assert.equal(fmtInt(31365), '31,365');
    assert.equal(fmtInt(1020000), '1,020,000');
    assert.equal(fmtNum(10.4349, 2), '10.43');
    assert.equal(fmtNum(-1234.56, 1), '-1,234.6');
    assert.equal(fmtInt(999), '999');
  });
  it('spells percentages with their sign, including -0.0%', () => {
    assert.equal(fmtPct(-29.1), '-29.1%');
    assert.equal(fmtPct(0.5), '0.5%');
    assert.equal(fmtPct(-0), '-0.0%');
    assert.equal(fmtPct(0), '0.0%');
  });
  it('prints Python float/list reprs for the reference wording', () => {
    assert.equal(pyFloat(10), '10.0');
    assert.equal(pyFloat(10.43), '10.43');
    assert.equal(pyList([10.43, 10.4], true), '[10.43, 10.4]');
    assert.equal(pyList([115434], false), '[115434]');
  });
  it('gives margins as +% below 2x and as +N.Nx from 2x on', () => {
    assert.equal(fmtMargin(115434 / 100955), '+14%');
    assert.equal(fmtMargin(31365 / 14193), '+2.2x');
  });
});

describe('renderTextTable', () => {
  const rows = [
    ['Pod-to-Pod (single)', '10.43 Gbps', 'ok'],
    ['Via Svc c64 short conn', '31,365 req/s', 'fine'],
    ['TCP_RR p99', '-29.1%', 'x'],
  ];

  it('draws a box whose lines all have the same width', () => {
    const t = renderTextTable(['Scenario', 'Value', 'Note'], rows);
    const lines = t.split('\n');
    assert.equal(lines.length, 3 + rows.length + 1); // top, header, rule, rows, bottom
    assert.ok(lines[0].startsWith('┌') && lines[0].endsWith('┐'));
    assert.ok(lines.at(-1)!.startsWith('└'));
    const w = visibleWidth(lines[0]);
    for (const l of lines) assert.equal(visibleWidth(l), w, `line "${l}"`);
  });

  it('right-aligns numeric columns and left-aligns text', () => {
    const t = renderTextTable(['Scenario', 'Value', 'Note'], rows).split('\n');
    const row = t.find((l) => l.includes('10.43 Gbps'))!;
    // "10.43 Gbps" is shorter than "31,365 req/s": padded on the left.
    assert.match(row, /│ {3}10\.43 Gbps │/);
    assert.match(row, /│ ok {3}│$/);
  });

  it('honours an explicit alignment and indentation', () => {
    const t = renderTextTable([{ header: 'n', align: 'left' }, 'v'], [['1', 'a'], ['100', 'b']], { indent: 4 });
    assert.ok(t.split('\n').every((l) => l.startsWith('    ')));
    assert.ok(t.includes('│ 1   │'));
  });

  it('adds ANSI colour only when asked, without changing the layout', () => {
    const plain = renderTextTable(['a', 'b'], [['x', paint('1', 'red', false)]]);
    assert.equal(plain, stripAnsi(plain));
    const colored = renderTextTable(['a', 'b'], [['x', paint('1', 'red', true)]], { color: true });
    assert.notEqual(colored, stripAnsi(colored));
    assert.equal(stripAnsi(colored), plain);
  });

  it('counts wide (CJK) characters as two columns', () => {
    assert.equal(visibleWidth('集群'), 4);
    assert.equal(visibleWidth(paint('µs', 'bold', true)), 2);
    const lines = renderTextTable(['name', 'v'], [['集群-a', '1'], ['cluster-b', '2']]).split('\n');
    assert.equal(new Set(lines.map(visibleWidth)).size, 1);
  });

  it('plain style: aligned columns without borders', () => {
    const t = renderTextTable(['k', 'v'], [['alpha', '1'], ['b', '1,000']], { style: 'plain' });
    assert.ok(!t.includes('│'));
    assert.match(t, /alpha {6}1/);
  });

  it('treats numbers with signs, units and percentages as numeric', () => {
    for (const s of ['31,365', '-29.1%', '10.43 Gbps', '22,237 (-29.1%)', '+14%']) assert.ok(looksNumeric(s), s);
    for (const s of ['iptables', 'N/A', 'Tie']) assert.ok(!looksNumeric(s), s);
  });
});

describe('renderMarkdownTable', () => {
  it('writes a GFM table with right-aligned numeric columns', () => {
    const t = renderMarkdownTable(['Scenario', 'iptables'], [['Via Svc c64 keepalive', '115,434 req/s']]);
    assert.equal(t, ['| Scenario | iptables |', '| --- | ---: |', '| Via Svc c64 keepalive | 115,434 req/s |'].join('\n'));
  });
  it('escapes pipes and strips ANSI so a cell cannot break the table', () => {
    assert.equal(mdEscape('a|b'), 'a\\|b');
    const t = renderMarkdownTable(['k', 'v'], [['x', paint('a|b', 'red', true)]]);
    assert.ok(t.includes('| x | a\\|b |'));
    assert.equal(t.split('\n')[2].split(/(?<!\\)\|/).length, 4);
  });
  it('renders missing cells as blanks', () => {
    const t = renderMarkdownTable(['a', 'b'], [['only']]);
    assert.equal(t.split('\n')[2], '| only |   |');
  });
});
