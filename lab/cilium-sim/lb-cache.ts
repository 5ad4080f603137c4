/**
 * The Cilium SIMULATOR's view of Services and EndpointSlices, kept the way
 * the real agent keeps its own: list once, then watch and apply every event
 * (a watch that ends resumes from the last resourceVersion; "410 Gone"
 * relists). Only compact records are held (addresses, ports, creation
 * time), never whole objects: 30,000 Services with 4 endpoints each are a
 * few tens of MB, and `cilium bpf lb list` costs the apiserver nothing.
 */
import { CoreV1Api, DiscoveryV1Api, Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Frontend } from './render';

interface PortRec {
  name: string;
  port: number;
  protocol: string;
}
interface SvcRec {
  created: number;
  ip: string;
  ports: PortRec[];
}
interface SliceRec {
  /** "<namespace>/<service>" */
  svc: string;
  /** "<port name>/<protocol>" -> ready backends "ip:port" */
  byPort: Map<string, string[]>;
}

/** Typed list items and raw watch objects share these field names; creationTimestamp is a Date in one, a string in the other. */
type Obj = Record<string, any>;

export function serviceRecord(s: Obj): SvcRec | null {
  const ip: unknown = s.spec?.clusterIP;
  if (typeof ip !== 'string' || !/^\d+\.\d+\.\d+\.\d+$/.test(ip) || s.spec?.type === 'ExternalName') return null;
  return {
    created: new Date(s.metadata?.creationTimestamp ?? 0).getTime(),
    ip,
    ports: ((s.spec?.ports ?? []) as Obj[]).map((p) => ({ name: p.name ?? '', port: Number(p.port), protocol: p.protocol ?? 'TCP' })),
  };
}

export function sliceRecord(es: Obj): SliceRec | null {
  const svc = es.metadata?.labels?.['kubernetes.io/service-name'];
  if (!svc || es.addressType !== 'IPv4') return null;
  const byPort = new Map<string, string[]>();
  for (const port of (es.ports ?? []) as Obj[]) {
    if (port.port === undefined || port.port === null) continue;
    const list: string[] = [];
    for (const ep of (es.endpoints ?? []) as Obj[]) {
      if (ep.conditions?.ready === false) continue; // unset means ready
      for (const a of ep.addresses ?? []) list.push(`${a}:${port.port}`);
    }
    byPort.set(`${port.name ?? ''}/${port.protocol ?? 'TCP'}`, list);
  }
  return { svc: `${es.metadata.namespace}/${svc}`, byPort };
}

const keyOf = (o: Obj) => `${o.metadata?.namespace}/${o.metadata?.name}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PAGE = 1000;

class GoneError extends Error {}

export class LbCache {
  private readonly services = new Map<string, SvcRec>();
  private readonly slices = new Map<string, SliceRec>();
  private readonly slicesOf = new Map<string, Set<string>>();
  private readonly synced = { services: false, endpointslices: false };
  /** Bumped on every change; frontends() is rebuilt only when it moved (convergence polls ask often). */
  private version = 0;
  private built: { version: number; frontends: Frontend[] } | null = null;
  private readonly kc: KubeConfig;
  private readonly log: (msg: string) => void;

  constructor(kc: KubeConfig, log: (msg: string) => void) {
    this.kc = kc;
    this.log = log;
  }

  get isSynced(): boolean {
    return this.synced.services && this.synced.endpointslices;
  }

  counts(): { services: number; endpointSlices: number } {
    return { services: this.services.size, endpointSlices: this.slices.size };
  }

  start(): void {
    void this.loop('services');
    void this.loop('endpointslices');
  }

  /** Service frontends with their ready backends, in creation order (the order the map was filled in). */
  frontends(): Frontend[] {
    if (this.built?.version === this.version) return this.built.frontends;
    const version = this.version;
    const svcs = [...this.services.entries()].sort(([ka, a], [kb, b]) => a.created - b.created || (ka < kb ? -1 : ka > kb ? 1 : 0));
    const out: Frontend[] = [];
    let revNat = 0;
    for (const [key, s] of svcs) {
      for (const p of s.ports) {
        const backends = new Set<string>();
        for (const sk of this.slicesOf.get(key) ?? []) for (const b of this.slices.get(sk)?.byPort.get(`${p.name}/${p.protocol}`) ?? []) backends.add(b);
        out.push({ address: `${s.ip}:${p.port}${p.protocol === 'TCP' ? '' : `/${p.protocol}`}`, revNat: ++revNat, backends: [...backends].sort() });
      }
    }
    this.built = { version, frontends: out };
    return out;
  }

  private putSlice(key: string, rec: SliceRec | null): void {
    const old = this.slices.get(key);
    if (old) this.slicesOf.get(old.svc)?.delete(key);
    if (!rec) {
      this.slices.delete(key);
      return;
    }
    this.slices.set(key, rec);
    let set = this.slicesOf.get(rec.svc);
    if (!set) this.slicesOf.set(rec.svc, (set = new Set()));
    set.add(key);
  }

  private apply(kind: 'services' | 'endpointslices', type: string, obj: Obj): void {
    this.version++;
    const key = keyOf(obj);
    if (kind === 'services') {
      const rec = type === 'DELETED' ? null : serviceRecord(obj);
      if (rec) this.services.set(key, rec);
      else this.services.delete(key);
    } else {
      this.putSlice(key, type === 'DELETED' ? null : sliceRecord(obj));
    }
  }

  /**
   * Replace every record of `kind` with a fresh paginated list; returns its
   * resourceVersion. Each page becomes compact records at once, so only one
   * page of objects is ever in memory; the old records stay until the end.
   */
  private async relist(kind: 'services' | 'endpointslices'): Promise<string> {
    const core = this.kc.makeApiClient(CoreV1Api);
    const discovery = this.kc.makeApiClient(DiscoveryV1Api);
    const services = new Map<string, SvcRec>();
    const slices = new Map<string, SliceRec | null>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page =
        kind === 'services'
          ? await core.listServiceForAllNamespaces({ limit: PAGE, _continue: cont })
          : await discovery.listEndpointSliceForAllNamespaces({ limit: PAGE, _continue: cont });
      for (const item of page.items as Obj[]) {
        if (kind === 'services') {
          const rec = serviceRecord(item);
          if (rec) services.set(keyOf(item), rec);
        } else {
          slices.set(keyOf(item), sliceRecord(item));
        }
      }
      cont = page.metadata?._continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
    } while (cont);
    this.version++;
    if (kind === 'services') {
      this.services.clear();
      for (const [k, v] of services) this.services.set(k, v);
    } else {
      this.slices.clear();
      this.slicesOf.clear();
      for (const [k, v] of slices) this.putSlice(k, v);
    }
    return rv;
  }

  /** One watch from `rv`; resolves with the last resourceVersion seen when the server or the idle timer ends it. */
  private watchOnce(kind: 'services' | 'endpointslices', rv: string): Promise<string> {
    const path = kind === 'services' ? '/api/v1/services' : '/apis/discovery.k8s.io/v1/endpointslices';
    let last = rv;
    return new Promise<string>((resolve, reject) => {
      let failure: Error | null = null;
      let controller: AbortController | undefined;
      new Watch(this.kc)
        .watch(
          path,
          // The server ends the watch before client-node's 30 s idle timer; bookmarks keep `last` fresh.
          { resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: 25 },
          (type, obj: Obj) => {
            if (type === 'ERROR') {
              failure = obj?.code === 410 ? new GoneError(obj?.message ?? 'gone') : new Error(obj?.message ?? 'watch error');
              controller?.abort();
              return;
            }
            last = obj?.metadata?.resourceVersion ?? last;
            if (type !== 'BOOKMARK') this.apply(kind, type, obj);
          },
          (err) => {
            if (failure) reject(failure);
            else if (err && (err as Error).name !== 'AbortError' && (err as Error).name !== 'TimeoutError') reject(err as Error);
            else resolve(last);
          },
        )
        .then((c) => (controller = c), reject);
    });
  }

  private async loop(kind: 'services' | 'endpointslices'): Promise<void> {
    let rv: string | undefined;
    for (;;) {
      try {
        if (!rv) {
          rv = await this.relist(kind);
          this.synced[kind] = true;
        }
        rv = await this.watchOnce(kind, rv);
      } catch (err) {
        if (err instanceof GoneError) rv = undefined;
        this.log(`watch ${kind}: ${(err as Error).message}${rv ? '' : ' (relisting)'}`);
        await sleep(1000);
      }
    }
  }
}
