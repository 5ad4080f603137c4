// `bpftool map list -j` parser. When bpftool is installed (Debian package
// "bpftool"), the test creates real BPF maps in a private bpffs (inside a
// throw-away mount namespace, so the maps vanish with it) and parses the
// real listing. The shape-only cases use documents built here after the
// output of bpftool v7.1.0.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { bpftoolMapListArgs, parseBpftoolMapList } from '../../../src/tools/bpftool';
import { ToolOutputError } from '../../../src/tools/errors';
import { runProcess, which } from '../../support/tools';

function assertToolError(fn: () => unknown, reason: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ToolOutputError, `expected ToolOutputError, got ${String(e)}`);
    assert.equal(e.tool, 'bpftool');
    if (typeof reason === 'string') assert.equal(e.reason, reason);
    else assert.match(e.reason, reason);
    return true;
  });
}

const bpftool = which('bpftool');

describe('parseBpftoolMapList on real bpftool output (maps created by the test)', { skip: bpftool ? false : 'bpftool not installed (apt-get install bpftool)' }, () => {
  // Map names are at most 15 characters.
  const tag = `nb${randomBytes(3).toString('hex')}`;
  const wanted = [
    { name: `${tag}_lb`, type: 'hash', key: 12, value: 8, entries: 65536 },
    { name: `${tag}_ct`, type: 'lru_hash', key: 16, value: 56, entries: 4096 },
    { name: `${tag}_ar`, type: 'array', key: 4, value: 64, entries: 256 },
  ];

  async function listWithTestMaps(): Promise<string> {
    // unshare -m: the bpffs mount (and the pins holding the maps) disappear
    // with the namespace when the shell exits; no cleanup can be forgotten.
    const dir = `/tmp/${tag}`;
    const script = [
      'set -e',
      `mkdir -p ${dir}`,
      `mount -t bpf bpf ${dir}`,
      ...wanted.map(
        (m) => `bpftool map create ${dir}/${m.name} type ${m.type} key ${m.key} value ${m.value} entries ${m.entries} name ${m.name}`,
      ),
      bpftoolMapListArgs().join(' '),
    ].join('\n');
    const r = await runProcess('unshare', ['-m', 'sh', '-c', script], { timeoutMs: 10_000 });
    await runProcess('rmdir', [dir]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  }

  it('reads id, name, type, sizes and bytes_memlock of each map', async () => {
    const text = await listWithTestMaps();
    const list = parseBpftoolMapList(text);
    const ours = list.maps.filter((m) => m.name.startsWith(tag));
    assert.equal(ours.length, wanted.length);
    for (const w of wanted) {
      const m = ours.find((x) => x.name === w.name);
      assert.ok(m, `map ${w.name} listed`);
      assert.equal(m.type, w.type);
      assert.equal(m.keySize, w.key);
      assert.equal(m.valueSize, w.value);
      assert.equal(m.maxEntries, w.entries);
      // The kernel's memlock figure is used, and it covers at least the raw slots of an array.
      assert.equal(m.bytesSource, 'memlock');
      if (w.type === 'array') assert.ok(m.bytes >= w.value * w.entries, `${m.bytes}`);
    }
    // The figures come straight from the document.
    const raw = JSON.parse(text) as Array<{ id: number; bytes_memlock: number }>;
    for (const m of ours) assert.equal(m.bytes, raw.find((r) => r.id === m.id)?.bytes_memlock);
  });

  it('totals and ranks the maps', async () => {
    const list = parseBpftoolMapList(await listWithTestMaps());
    assert.equal(list.count, list.maps.length);
    assert.equal(list.totalBytes, list.maps.reduce((s, m) => s + m.bytes, 0));
    assert.equal(list.totalMB, Math.round((list.totalBytes / 1048576) * 100) / 100);
    assert.ok(list.top10.length <= 10 && list.top10.length >= Math.min(10, list.count));
    for (let i = 1; i < list.top10.length; i++) assert.ok(list.top10[i - 1].bytes >= list.top10[i].bytes);
    // The 64 Ki-entry hash is the largest of ours, so it ranks first among them.
    assert.equal(list.top10.filter((m) => m.name.startsWith(tag))[0]?.name, `${tag}_lb`);
  });

  it('reports "truncated JSON" for real output cut in half', async () => {
    const text = await listWithTestMaps();
    assertToolError(() => parseBpftoolMapList(text.slice(0, Math.floor(text.length / 2))), 'truncated JSON');
  });
});

describe('parseBpftoolMapList on documents shaped like bpftool v7.1.0 output (no bpftool needed)', () => {
  it('falls back to (key + value) × max_entries when bytes_memlock is absent (older bpftool/kernels)', () => {
    const doc = JSON.stringify([
      { id: 7, type: 'hash', name: 'cilium_lb4_serv', flags: 1, bytes_key: 12, bytes_value: 12, max_entries: 65536, frozen: 0 },
      { id: 9, type: 'lru_hash', name: 'cilium_ct4_glob', flags: 0, bytes_key: 14, bytes_value: 56, max_entries: 524288, bytes_memlock: 46170112, frozen: 0, pids: [{ pid: 1, comm: 'cilium-agent' }] },
      { id: 11, type: 'prog_array', flags: 0, bytes_key: 4, bytes_value: 4, max_entries: 64, bytes_memlock: 4096, owner_prog_type: 'sched_cls' },
    ]);
    const list = parseBpftoolMapList(doc);
    assert.deepEqual(list.maps.map((m) => [m.id, m.bytes, m.bytesSource]), [
      [7, (12 + 12) * 65536, 'estimate'],
      [9, 46170112, 'memlock'],
      [11, 4096, 'memlock'],
    ]);
    // An unnamed map gets "".
    assert.equal(list.maps[2].name, '');
    assert.equal(list.totalBytes, 1572864 + 46170112 + 4096);
    assert.equal(list.totalMB, 45.54);
    assert.deepEqual(list.top10.map((m) => m.id), [9, 7, 11]);
  });

  it('keeps only the 10 largest in top10', () => {
    const maps = Array.from({ length: 14 }, (_, i) => ({
      id: i + 1, type: 'array', name: `m${i}`, flags: 0, bytes_key: 4, bytes_value: 4, max_entries: 1, bytes_memlock: (i + 1) * 100, frozen: 0,
    }));
    const list = parseBpftoolMapList(JSON.stringify(maps));
    assert.equal(list.count, 14);
    assert.deepEqual(list.top10.map((m) => m.id), [14, 13, 12, 11, 10, 9, 8, 7, 6, 5]);
  });

  it('reads an empty list', () => {
    assert.deepEqual(parseBpftoolMapList('[]\n'), { maps: [], totalBytes: 0, totalMB: 0, count: 0, top10: [] });
  });

  it('reports bpftool\'s JSON error object', () => {
    assertToolError(() => parseBpftoolMapList('{"error":"can\'t get next map: Operation not permitted"}'), "bpftool error: can't get next map: Operation not permitted");
  });

  it('reports empty output and wrong shapes', () => {
    assertToolError(() => parseBpftoolMapList(''), 'empty output');
    assertToolError(() => parseBpftoolMapList('[{"id":1}]'), /^unexpected JSON shape at 0\.type/);
  });
});
