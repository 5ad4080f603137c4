/**
 * Makes `kubectl rollout restart ds/cilium` restart the lab's REAL agent,
 * as it restarts the agents of a cluster: every 0.5 s it reads the
 * DaemonSet's pod template; when the template changes (a restart stamp, a
 * patched image or argument), it writes cilium-config into the agent's
 * --config-dir again and restarts the agent process, which then starts
 * with the ConfigMap as it is now (e.g. a raised bpf-lb-map-max, a changed
 * enable-hubble). While the agent restarts, <state>/cilium/restarting
 * exists: the exec wrappers wait for the agent before running the CLI, as a
 * kubectl exec would wait for a restarted pod.
 *
 * Started by lab/datapath/cilium.ts (node --import tsx):
 *   lab/cilium-rollout.ts <lab name>
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { labPaths } from './config';
import { ciliumPaths, restartAgent } from './datapath/cilium';

async function main(argv: string[]): Promise<void> {
  const [name] = argv;
  if (!name) {
    process.stderr.write('usage: cilium-rollout.ts <lab name>\n');
    process.exit(2);
  }
  const p = labPaths(name);
  const cp = ciliumPaths(p);
  const kc = new KubeConfig();
  kc.loadFromFile(p.kubeconfig);
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const seenFile = cp.seenTemplate;
  const marker = cp.restarting;
  process.on('SIGTERM', () => process.exit(0));
  for (;;) {
    try {
      const ds = await apps.readNamespacedDaemonSet({ namespace: 'kube-system', name: 'cilium' });
      const template = JSON.stringify(ds.spec?.template ?? {});
      const seen = existsSync(seenFile) ? readFileSync(seenFile, 'utf8') : null;
      if (seen === null) {
        writeFileSync(seenFile, template);
      } else if (seen !== template) {
        writeFileSync(marker, `${new Date().toISOString()}\n`);
        const cm = await core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'cilium-config' });
        process.stdout.write(`${new Date().toISOString()} ds/cilium template changed: restarting cilium-agent with cilium-config ${JSON.stringify(cm.data ?? {})}\n`);
        await restartAgent(p, cm.data ?? {});
        writeFileSync(seenFile, template);
        rmSync(marker, { force: true });
        process.stdout.write(`${new Date().toISOString()} cilium-agent restarted\n`);
      }
    } catch (err) {
      process.stderr.write(`${new Date().toISOString()} cilium-rollout: ${(err as Error).message}\n`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`cilium-rollout: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
