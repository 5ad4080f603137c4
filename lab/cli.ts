/**
 * npx tsx lab/cli.ts up [--name NAME] [--proxy-mode iptables|nftables] [--datapath kube-proxy|cilium-native|cilium-overlay] [--network pods|shared]
 * npx tsx lab/cli.ts down [--name NAME]
 * npx tsx lab/cli.ts status [--name NAME] [--json]
 * npx tsx lab/cli.ts shape --rate 500mbit|--off [--link NODE|NAMESPACE/POD] [--name NAME]
 * (also `netbench lab ...`, through labMain)
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { labDown, labShape, labStatus, labUp, type ProxyMode } from './lab';
import { shapeRateBits } from './netns';
import { DATAPATH_NAMES, NETWORK_NAMES, componentVersion, type DatapathName, type LabNetwork } from './config';

const USAGE = `usage: lab up|down|status|kubeconfig|shape [--name NAME] [--link NODE|NAMESPACE/POD] [--proxy-mode iptables|nftables] [--datapath ${DATAPATH_NAMES.join('|')}] [--network ${NETWORK_NAMES.join('|')}] [--json]

  up          start the lab (again: checks and repairs it)
  down        stop every lab process, remove its network namespace and files
  status      what runs, the kube-proxy mode, the bandwidth cap
  kubeconfig  print the lab's kubeconfig path
  shape       --rate 500mbit: cap the lab datapath's bandwidth (tbf on its loopback), to rehearse
              a regression; --off lifts the cap. Units bit|kbit|mbit|gbit, at least 1mbit.
              --network pods: caps each node's link to the lab bridge both ways (tbf on the
              node's eth0 and on its bridge port); --link worker-1 caps that node's only,
              --link NAMESPACE/POD one pod's link (its eth0 and the veth's node end).

  --datapath  kube-proxy (default; --proxy-mode picks iptables or nftables);
              cilium-native, cilium-overlay: a REAL cilium-agent and operator (${componentVersion('CILIUM_VERSION') ?? 'see scripts/versions.env'}, from
              \`scripts/setup.sh cilium\`) with kube-proxy replacement, native routing or VXLAN
              tunnel; no kube-proxy runs. Switching between kube-proxy and Cilium needs \`lab down\`.
  --network   pods (default): each worker and each pod gets a network namespace of its own
              (a veth into its node's, nodes on a bridge, native routing), servers run per pod,
              \`kubectl exec\` runs in the pod's namespace, kube-proxy or a cilium-agent runs per node;
              shared: every pod is a process in the one lab network namespace, pod IPs on its
              loopback (lighter; Hubble and Cilium policy have no endpoint to act on there).
              A lab that is up keeps its network; switching needs \`lab down\`.`;

/** `netbench lab ...` and `tsx lab/cli.ts ...`: returns the exit code, prints errors itself. */
export async function labMain(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (err) {
    console.error(`lab: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

async function dispatch(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'proxy-mode': { type: 'string' },
      datapath: { type: 'string' },
      network: { type: 'string' },
      json: { type: 'boolean', default: false },
      rate: { type: 'string' },
      link: { type: 'string' },
      off: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [cmd] = positionals;
  if (values.help || !cmd) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const name = values.name;
  const progress = (msg: string) => console.error(msg);
  switch (cmd) {
    case 'up': {
      const mode = values['proxy-mode'];
      if (mode !== undefined && mode !== 'iptables' && mode !== 'nftables') {
        console.error(`--proxy-mode must be iptables or nftables, not "${mode}"`);
        return 2;
      }
      const datapath = values.datapath;
      if (datapath !== undefined && !(DATAPATH_NAMES as readonly string[]).includes(datapath)) {
        console.error(`--datapath must be one of ${DATAPATH_NAMES.join(', ')}, not "${datapath}"`);
        return 2;
      }
      const network = values.network;
      if (network !== undefined && !(NETWORK_NAMES as readonly string[]).includes(network)) {
        console.error(`--network must be one of ${NETWORK_NAMES.join(', ')}, not "${network}"`);
        return 2;
      }
      const info = await labUp({
        name,
        proxyMode: mode as ProxyMode | undefined,
        datapath: datapath as DatapathName | undefined,
        network: network as LabNetwork | undefined,
        onProgress: progress,
      });
      if (values.json) console.log(JSON.stringify(info, null, 2));
      else {
        console.log(`lab "${info.name}" up in ${(info.upMs / 1000).toFixed(1)} s (${info.datapath.kind}, mode ${info.proxyMode})`);
        if (info.datapath.kind === 'cilium') console.log(`  ${info.datapath.settings.datapath}: a real cilium-agent (kube-proxy replacement) carries Service traffic; no kube-proxy runs`);
        console.log(`  export KUBECONFIG=${info.kubeconfigPath}   # context ${info.context}, server ${info.server}`);
        console.log(`  nodes: ${info.nodes.map((n) => `${n.name} ${n.internalIP} ${n.podCIDR}`).join('; ')}`);
        console.log(`  network namespace: ${info.netns} (${info.network} network${info.network === 'pods' ? `; nodes ${info.netns}.<node>, pods ${info.netns}.<namespace>.<pod>` : ''})   logs: ${info.logDir}`);
      }
      return 0;
    }
    case 'down': {
      const res = await labDown({ name, onProgress: progress });
      if (values.json) console.log(JSON.stringify(res, null, 2));
      else console.log(`lab "${res.name}" down: stopped ${res.stoppedProcesses.length} processes${res.netnsRemoved ? ', removed the network namespace' : ''}${res.stateRemoved ? ', removed its state' : ''}`);
      return 0;
    }
    case 'kubeconfig': {
      // the lab's kubeconfig path, for scripts: KUBECONFIG=$(netbench lab kubeconfig)
      const st = await labStatus({ name });
      if (!st.kubeconfigPath) {
        console.error(`lab "${st.name}" is not up (netbench lab up)`);
        return 1;
      }
      console.log(st.kubeconfigPath);
      return 0;
    }
    case 'status': {
      const st = await labStatus({ name });
      if (values.json) {
        console.log(JSON.stringify(st, null, 2));
        return 0;
      }
      if (!st.exists && !st.netnsExists) {
        console.log(`lab "${st.name}" is not up`);
        return 1;
      }
      console.log(`lab "${st.name}": apiserver ${st.apiserverReady ? 'ready' : 'NOT ready'}, netns ${st.netns} ${st.netnsExists ? 'present' : 'MISSING'}, kube-proxy mode ${st.proxyMode ?? '?'}${st.shape ? `, datapath capped at ${st.shape} (lab shape)` : ''}`);
      if (st.datapath?.settings.datapath) console.log(`  datapath ${st.datapath.settings.datapath} (Cilium simulator over a real kube-proxy)`);
      if (st.kubeconfigPath) console.log(`  KUBECONFIG=${st.kubeconfigPath}`);
      if (st.network === 'pods') console.log(`  network pods: ${st.childNetns.length} node/pod namespaces (${st.childNetns.join(' ')})`);
      for (const p of st.processes) console.log(`  ${p.running ? 'running' : 'STOPPED'}  ${p.id.padEnd(24)} pid ${p.pid ?? '-'}  ${p.log}`);
      for (const s of st.strayPids) console.log(`  stray    ${s.comm} pid ${s.pid} (in the namespace, not a lab daemon)`);
      return st.apiserverReady ? 0 : 1;
    }
    case 'shape': {
      if ((values.rate === undefined) === !values.off) {
        console.error('lab shape: give either --rate RATE (e.g. 500mbit) or --off');
        return 2;
      }
      if (values.rate !== undefined) {
        try {
          shapeRateBits(values.rate);
        } catch (err) {
          console.error(`lab shape: --rate: ${(err as Error).message}`);
          return 2;
        }
      }
      const now = await labShape({ name, rate: values.off ? undefined : values.rate, link: values.link });
      console.log(now ? `lab datapath capped at ${now} (netbench lab shape --off lifts it)` : 'lab datapath not capped');
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

// Run only when executed directly, not when imported by the netbench CLI.
if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  labMain(process.argv.slice(2)).then((code) => process.exit(code));
}
