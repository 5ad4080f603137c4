/**
 * The dummy Services of the Service-scale phase, as plain objects.
 *
 * Pure: no I/O, no Temporal, no node: imports, so workflows, activities, the
 * benchmark and tests all build exactly the same objects. The shapes follow
 * the reference run (REFERENCE.md step 11): `dummy-svc-<i>`, ClusterIP, no
 * selector, port 80/TCP, SVC_ENDPOINTS hand-made endpoints per Service.
 */

/** Labels that mark every object netbench creates for the Service-scale phase. */
export const DUMMY_LABELS: Readonly<Record<string, string>> = Object.freeze({
  'app.kubernetes.io/managed-by': 'netbench',
  'netbench/dummy': 'true',
});

/** Label selector matching every dummy object (for listing and counting). */
export const DUMMY_SELECTOR = 'netbench/dummy=true';

/** Port every dummy Service exposes and every endpoint claims to serve. */
export const DUMMY_PORT = 80;

/** An EndpointSlice holds at most 1000 endpoints (API validation limit). */
export const MAX_ENDPOINTS_PER_SLICE = 1000;

/** Endpoint addresses stop being valid beyond 10.255.253.254 (see endpointAddress). */
export const MAX_GLOBAL_ENDPOINT = (255 - 100 + 1) * 64516 - 1;

/** Name of the i-th dummy Service (i is the 1-based global index). */
export function dummyServiceName(i: number): string {
  return `dummy-svc-${i}`;
}

/**
 * Global endpoint number of endpoint j (0-based, j < E) of Service i (1-based):
 * g = (i - 1) * E + j. Services are numbered globally across scale steps, so
 * growing from 5,000 to 10,000 Services adds Services 5001..10000 whose
 * addresses never collide with those already created.
 */
export function globalEndpointNumber(i: number, j: number, endpointsPerService: number): number {
  return (i - 1) * endpointsPerService + j;
}

/**
 * The reference's address of global endpoint g:
 * 10.(100 + floor(g / 64516)).(floor(g / 254) mod 254).(g mod 254 + 1).
 * 64516 = 254 * 254, so the last two octets walk 0..253 and 1..254: never a
 * network (.0) or broadcast-looking (.255) octet, and never loopback, which
 * Endpoints validation rejects.
 */
export function endpointAddress(g: number): string {
  if (!Number.isInteger(g) || g < 0 || g > MAX_GLOBAL_ENDPOINT) {
    throw new RangeError(`global endpoint number ${g} is outside 0..${MAX_GLOBAL_ENDPOINT}`);
  }
  return `10.${100 + Math.floor(g / 64516)}.${Math.floor(g / 254) % 254}.${(g % 254) + 1}`;
}

/** The E addresses of Service i, in endpoint order. */
export function serviceEndpointAddresses(i: number, endpointsPerService: number): string[] {
  const out = new Array<string>(endpointsPerService);
  for (let j = 0; j < endpointsPerService; j++) {
    out[j] = endpointAddress(globalEndpointNumber(i, j, endpointsPerService));
  }
  return out;
}

/** Minimal structural types of what we send: the fields we set, nothing more. */
export interface DummyService {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    type: 'ClusterIP';
    ports: Array<{ port: number; targetPort: number; protocol: 'TCP' }>;
  };
}

export interface DummyEndpointSlice {
  apiVersion: 'discovery.k8s.io/v1';
  kind: 'EndpointSlice';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  addressType: 'IPv4';
  endpoints: Array<{ addresses: string[]; conditions: { ready: boolean } }>;
  ports: Array<{ port: number; protocol: 'TCP' }>;
}

export interface DummyEndpoints {
  apiVersion: 'v1';
  kind: 'Endpoints';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  subsets: Array<{ addresses: Array<{ ip: string }>; ports: Array<{ port: number; protocol: 'TCP' }> }>;
}

/** Service i: ClusterIP, no selector (so no controller writes its endpoints), port 80/TCP. */
export function buildDummyService(namespace: string, i: number): DummyService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: dummyServiceName(i), namespace, labels: { ...DUMMY_LABELS } },
    spec: {
      type: 'ClusterIP',
      ports: [{ port: DUMMY_PORT, targetPort: DUMMY_PORT, protocol: 'TCP' }],
    },
  };
}

/**
 * The EndpointSlice of Service i (netbench's default). It carries
 * kubernetes.io/service-name so kube-proxy and Cilium attach it to the
 * Service, and its own managed-by value so the EndpointSlice controller
 * leaves it alone.
 */
export function buildDummyEndpointSlice(namespace: string, i: number, endpointsPerService: number): DummyEndpointSlice {
  const name = dummyServiceName(i);
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace,
      labels: {
        ...DUMMY_LABELS,
        'kubernetes.io/service-name': name,
        'endpointslice.kubernetes.io/managed-by': 'netbench',
      },
    },
    addressType: 'IPv4',
    endpoints: serviceEndpointAddresses(i, endpointsPerService).map((ip) => ({
      addresses: [ip],
      conditions: { ready: true },
    })),
    ports: [{ port: DUMMY_PORT, protocol: 'TCP' }],
  };
}

/**
 * The v1 Endpoints object of Service i, the reference's shape (one subset,
 * all addresses ready). In a real cluster the EndpointSlice mirroring
 * controller turns it into a slice, which is extra work the reference pays.
 */
export function buildDummyEndpoints(namespace: string, i: number, endpointsPerService: number): DummyEndpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: dummyServiceName(i), namespace, labels: { ...DUMMY_LABELS } },
    subsets: [
      {
        addresses: serviceEndpointAddresses(i, endpointsPerService).map((ip) => ({ ip })),
        ports: [{ port: DUMMY_PORT, protocol: 'TCP' }],
      },
    ],
  };
}

/** Which object carries a dummy Service's endpoints. */
export type EndpointsMode = 'endpointslices' | 'endpoints';
