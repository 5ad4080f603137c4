/**
 * Every catalogue row has a driver: the scenario's argv runs its own tool
 * against the target for the given time, and what the tool prints parses
 * into one sample whose value is the row's headline figure. Every question
 * the run asks a datapath tool is a probe of the same shape (argv, parse).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { SCALE_SCENARIOS, SCENARIOS, WARMUP, type Scenario } from '../../../src/domain/scenarios';
import { driverFor, type ToolOutput } from '../../../src/tools';
import { bpftoolMaps } from '../../../src/tools/bpftool';
import { agentRssKb, ciliumCtEntries, ciliumIdentities, ciliumLbEntries, ciliumStatus, countCiliumLines, parseCiliumStatusTunnel } from '../../../src/tools/cilium';
import { iptablesSave, nftKubeProxy } from '../../../src/tools/iptables';

/** What each tool prints for one successful run (shapes of real output, trimmed to what the parsers read). */
const OUTPUT: Record<Scenario['tool'], ToolOutput> = {
  iperf3: {
    stdout: JSON.stringify({
      start: { test_start: { protocol: 'TCP', num_streams: 8, duration: 3 } },
      end: {
        sum_sent: { seconds: 3, bytes: 3_900_000_000, bits_per_second: 10_400_000_000, retransmits: 12 },
        sum_received: { seconds: 3, bytes: 3_890_000_000, bits_per_second: 10_372_000_000 },
      },
    }),
    stderr: '',
  },
  fortio: {
    stdout: JSON.stringify({
      RequestedQPS: 'max', ActualQPS: 31365.2, ActualDuration: 3e9, NumThreads: 64, SocketCount: 64,
      DurationHistogram: { Count: 94095, Min: 0.0001, Max: 0.02, Avg: 0.002, Percentiles: [{ Percentile: 50, Value: 0.0018 }, { Percentile: 90, Value: 0.003 }, { Percentile: 99, Value: 0.00167 }] },
      RetCodes: { '200': 94095 },
    }),
    stderr: 'All done 94095 calls',
  },
  netperf: {
    stdout: 'MIGRATED TCP REQUEST/RESPONSE TEST from 0.0.0.0 () port 0 AF_INET to 10.0.0.9 () port 0 AF_INET : first burst 0\nMinimum Latency Microseconds,Mean Latency Microseconds,50th Percentile Latency Microseconds,90th Percentile Latency Microseconds,99th Percentile Latency Microseconds,Maximum Latency Microseconds,Transaction Rate Tran/s\n11,14.53,12,13,44,4628,68639.33\n',
    stderr: '',
  },
};

describe('every catalogue row through its driver', () => {
  for (const s of [...SCENARIOS, ...SCALE_SCENARIOS, WARMUP]) {
    it(`${s.phase} ${s.id}: ${s.tool} argv and parse`, () => {
      const d = driverFor(s);
      assert.equal(d.tool, s.tool);
      const argv = d.argv(s, { ip: '10.96.0.11', seconds: 7 });
      assert.equal(argv[0], s.tool, 'runs its own tool');
      assert.ok(argv.some((a) => a.includes('10.96.0.11')), `points at the target: ${argv.join(' ')}`);
      assert.ok(argv.some((a) => a === '7' || a === '7s'), `runs for the given time: ${argv.join(' ')}`);
      const sample = d.parse(OUTPUT[s.tool]);
      assert.equal(sample.value, sample.figures[s.headlineFigure], 'the value is the row\'s headline figure');
      for (const f of s.figures ?? []) assert.equal(typeof sample.figures[f.figure], 'number', `parses ${f.figure} for ${f.key}`);
    });
  }

  it('puts each scenario\'s own parameters in the argv', () => {
    const argv = (id: string, list = SCENARIOS) => {
      const s = list.find((x) => x.id === id)!;
      return driverFor(s).argv(s, { ip: '10.0.0.5', seconds: 30 }).join(' ');
    };
    assert.equal(argv('pod2pod_16stream'), 'iperf3 -c 10.0.0.5 -p 5201 -t 30 -P 16 -J');
    assert.equal(argv('node_level_8stream'), 'iperf3 -c 10.0.0.5 -p 5202 -t 30 -P 8 -J');
    assert.equal(argv('svc_short_c64'), 'fortio load -quiet -qps 0 -c 64 -t 30s -keepalive=false -json - http://10.0.0.5:8080/echo?size=512');
    assert.equal(argv('http_1k_qps'), 'fortio load -quiet -qps 1000 -c 16 -t 30s -json - http://10.0.0.5:8080/echo?size=512');
    assert.equal(argv('tcp_crr', SCALE_SCENARIOS), 'netperf -H 10.0.0.5 -t TCP_CRR -l 30 -- -r 1,1 -o MIN_LATENCY,MEAN_LATENCY,P50_LATENCY,P90_LATENCY,P99_LATENCY,MAX_LATENCY,THROUGHPUT');
  });

  it('reads netperf\'s failure from stderr as well as stdout', () => {
    const s = SCENARIOS.find((x) => x.tool === 'netperf')!;
    assert.throws(() => driverFor(s).parse({ stdout: '', stderr: 'establish control: are you sure there is a netserver listening on 10.0.0.9 at port 12865?' }), /netserver listening/);
  });
});

describe('datapath probes: each question\'s argv and the parse of what the tool printed (real Cilium v1.19.4 outputs)', () => {
  const fixture = (name: string): ToolOutput => ({ stdout: readFileSync(path.join(import.meta.dirname, 'fixtures/cilium-v1.19.4', name), 'utf8'), stderr: '' });

  it('asks the agent with its own CLI and parses as the tool\'s parsers do', () => {
    assert.deepEqual(ciliumStatus.argv(), ['cilium', 'status']);
    assert.equal(ciliumStatus.parse(fixture('cilium-status-native.txt')), parseCiliumStatusTunnel(fixture('cilium-status-native.txt').stdout));
    for (const [probe, argv, file, kind] of [
      [ciliumLbEntries, ['cilium', 'bpf', 'lb', 'list'], 'cilium-bpf-lb-list.txt', 'lb'],
      [ciliumCtEntries, ['cilium', 'bpf', 'ct', 'list', 'global'], 'cilium-bpf-ct-list-global.txt', 'ct'],
      [ciliumIdentities, ['cilium', 'identity', 'list'], 'cilium-identity-list.txt', 'identity'],
    ] as const) {
      assert.deepEqual(probe.argv(), argv);
      assert.deepEqual(probe.parse(fixture(file)), countCiliumLines(fixture(file).stdout, kind));
    }
    assert.deepEqual(agentRssKb.argv(), ['cat', '/proc/1/status']);
    assert.equal(agentRssKb.parse({ stdout: 'Name:\tcilium-agent\nVmRSS:\t  204800 kB\n', stderr: '' }), 204800);
  });

  it('lists BPF maps with bpftool, and kube-proxy\'s rules with iptables-save and nft', () => {
    assert.deepEqual(bpftoolMaps.argv(), ['bpftool', 'map', 'list', '-j']);
    assert.ok(bpftoolMaps.parse(fixture('bpftool-map-list.json')).count > 0);
    assert.deepEqual(iptablesSave.argv(), ['iptables-save']);
    assert.equal(iptablesSave.parse({ stdout: '*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j KUBE-NODEPORTS\nCOMMIT\n', stderr: '' }).kubeServicesRules, 1);
    assert.deepEqual(nftKubeProxy.argv(), ['nft', 'list', 'table', 'ip', 'kube-proxy']);
  });
});
