/**
 * Temporal connection options for real deployments: flags and environment
 * into a TemporalTarget (with errors a user can act on), and real
 * connections that carry them: mTLS with a private CA and a server name,
 * an API key, for both the client (grpc-js) and the worker's
 * NativeConnection (Rust core). A small HTTP/2 proxy on 127.0.0.1
 * terminates TLS in front of a real Temporal dev server and records what
 * each call presented. Last, the worker's Prometheus endpoint: a child
 * process installs the telemetry, runs a real worker, and we scrape it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ConfigError } from '../../src/config';
import { connect, connectionOptions, connectNative, describeTarget, temporalFlagOptions, temporalTargetFrom, uiBase, workflowUrl, type TemporalTarget } from '../../src/cli/connect';
import { installTelemetry, parseBindAddress, telemetryOptionsFrom } from '../../src/telemetry';
import { parseArgs } from 'node:util';
import { builtBinary, repoRoot } from '../support/binaries';

/** Problems of a ConfigError thrown by fn (fails the test if it does not throw one). */
function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

/** A throwaway CA, a server certificate for "temporal.test" and a client certificate, made with openssl. */
function makeCerts(dir: string) {
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.error?.message ?? r.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run(['req', '-x509', '-new', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=netbench test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  for (const [name, cn, ext] of [
    ['server', 'temporal.test', 'subjectAltName=DNS:temporal.test\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n'],
    ['client', 'netbench-worker', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n'],
  ] as const) {
    writeFileSync(path.join(dir, `${name}.ext`), ext);
    run(['req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    run(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
  }
  const f = (n: string) => path.join(dir, n);
  return { ca: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key') };
}

interface Seen {
  path: string;
  authorization?: string;
  sni?: string;
  clientCN?: string;
  clientAuthorized: boolean;
}

/**
 * TLS-terminating gRPC proxy: accepts HTTP/2 over TLS (client certificate
 * requested, checked against the CA but not required), forwards each call
 * to the dev server in plaintext, and records the path, the Authorization
 * header, the SNI name and the client certificate of every call.
 */
async function startTlsProxy(certs: ReturnType<typeof makeCerts>, upstream: string) {
  const seen: Seen[] = [];
  const up = http2.connect(`http://${upstream}`);
  up.on('error', () => undefined);
  const server = http2.createSecureServer({
    key: readFileSync(certs.serverKey),
    cert: readFileSync(certs.serverCert),
    ca: readFileSync(certs.ca),
    requestCert: true,
    rejectUnauthorized: false,
  });
  // Tracked so close() does not wait for clients that keep their connection open.
  const sessions = new Set<http2.Http2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    const socket = stream.session?.socket as TLSSocket;
    const peer = socket.getPeerCertificate();
    seen.push({
      path: String(headers[':path']),
      authorization: headers.authorization as string | undefined,
      sni: (socket as TLSSocket & { servername?: string }).servername || undefined,
      clientCN: peer && 'subject' in peer && peer.subject ? String(peer.subject.CN) : undefined,
      clientAuthorized: socket.authorized,
    });
    const fwd: http2.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers)) if (!k.startsWith(':') || k === ':method' || k === ':path') fwd[k] = v;
    const req = up.request(fwd);
    let trailers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => {
      const out: http2.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(h)) if (!k.startsWith(':') || k === ':status') out[k] = v;
      if ('grpc-status' in h) stream.respond(out, { endStream: true }); // trailers-only response
      else stream.respond(out, { waitForTrailers: true });
    });
    req.on('trailers', (t) => (trailers = t));
    stream.on('wantTrailers', () => {
      const out: http2.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(trailers)) if (!k.startsWith(':')) out[k] = v;
      stream.sendTrailers(out);
    });
    req.on('data', (d) => stream.writable && stream.write(d));
    req.on('end', () => stream.writable && stream.end());
    req.on('error', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    stream.on('data', (d) => req.write(d));
    stream.on('end', () => req.end());
    stream.on('close', () => req.destroyed || req.close());
    stream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    seen,
    async close() {
      up.destroy();
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('temporalTargetFrom: flags and environment', () => {
  let dir: string;
  let certs: ReturnType<typeof makeCerts>;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'netbench-connect-'));
    certs = makeCerts(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const parse = (argv: string[]) => parseArgs({ args: argv, options: temporalFlagOptions }).values as Record<string, unknown>;

  it('defaults to the local dev server in plaintext', () => {
    assert.deepEqual(temporalTargetFrom({}, {}), { address: 'localhost:7233', namespace: 'default' });
    assert.deepEqual(connectionOptions(temporalTargetFrom({}, {})), { address: 'localhost:7233' });
  });

  it('takes a flag over its environment variable', () => {
    const env = { TEMPORAL_ADDRESS: 'env:1', TEMPORAL_NAMESPACE: 'env-ns', TEMPORAL_TLS_SERVER_NAME: 'env.example' };
    const t = temporalTargetFrom(parse(['--address', 'flag:2', '--tls-server-name', 'flag.example']), env);
    assert.equal(t.address, 'flag:2');
    assert.equal(t.namespace, 'env-ns');
    assert.deepEqual(t.tls, { serverName: 'flag.example' });
  });

  it('reads mTLS files and the server name from the environment', () => {
    const t = temporalTargetFrom({}, { TEMPORAL_TLS_CERT: certs.clientCert, TEMPORAL_TLS_KEY: certs.clientKey, TEMPORAL_TLS_CA: certs.ca, TEMPORAL_TLS_SERVER_NAME: 'temporal.test' });
    assert.deepEqual(t.tls, { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey, serverName: 'temporal.test' });
    const o = connectionOptions(t);
    const tls = o.tls as { clientCertPair: { crt: Buffer; key: Buffer }; serverRootCACertificate: Buffer; serverNameOverride: string };
    assert.deepEqual(tls.clientCertPair.crt, readFileSync(certs.clientCert));
    assert.deepEqual(tls.clientCertPair.key, readFileSync(certs.clientKey));
    assert.deepEqual(tls.serverRootCACertificate, readFileSync(certs.ca));
    assert.equal(tls.serverNameOverride, 'temporal.test');
    assert.equal(describeTarget(t), 'localhost:7233, namespace default, mTLS');
  });

  it('refuses a certificate without its key (and a key without its certificate)', () => {
    assert.deepEqual(problemsOf(() => temporalTargetFrom(parse(['--tls-cert', certs.clientCert]), {})), [
      `--tls-cert ${certs.clientCert} needs a private key: --tls-key FILE (or TEMPORAL_TLS_KEY)`,
    ]);
    assert.deepEqual(problemsOf(() => temporalTargetFrom({}, { TEMPORAL_TLS_KEY: certs.clientKey })), [
      `TEMPORAL_TLS_KEY ${certs.clientKey} needs a certificate: --tls-cert FILE (or TEMPORAL_TLS_CERT)`,
    ]);
  });

  it('names the flag or variable and the path of an unreadable or non-PEM file, every problem at once', () => {
    const missing = path.join(dir, 'nope.pem');
    const notPem = path.join(dir, 'client.ext');
    const problems = problemsOf(() => temporalTargetFrom(parse(['--tls-ca', missing, '--tls-key', notPem]), { TEMPORAL_TLS_CERT: dir, TEMPORAL_TLS: 'maybe' }));
    assert.deepEqual(problems, [
      'TEMPORAL_TLS=maybe: expected true or false',
      `--tls-ca ${missing}: cannot read the CA certificate (ENOENT)`,
      `TEMPORAL_TLS_CERT ${dir}: cannot read the client certificate (EISDIR)`,
      `--tls-key ${notPem}: the client private key is not PEM (no "-----BEGIN" line)`,
    ]);
  });

  it('an API key implies TLS (left to the SDK), unless TLS is turned off explicitly', () => {
    const t = temporalTargetFrom(parse(['--api-key', 'k1']), { TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233' });
    assert.deepEqual(connectionOptions(t), { address: 'ns.acct.tmprl.cloud:7233', apiKey: 'k1' });
    assert.equal(describeTarget(t), 'ns.acct.tmprl.cloud:7233, namespace default, TLS, API key');
    const off = temporalTargetFrom({}, { TEMPORAL_API_KEY: 'k2', TEMPORAL_TLS: 'false' });
    assert.deepEqual(connectionOptions(off), { address: 'localhost:7233', tls: false, apiKey: 'k2' });
    assert.equal(describeTarget(off), 'localhost:7233, namespace default, plaintext, API key');
    assert.deepEqual(connectionOptions(temporalTargetFrom(parse(['--tls']), {})), { address: 'localhost:7233', tls: true });
  });

  it('refuses TLS files when TLS is turned off', () => {
    assert.deepEqual(problemsOf(() => temporalTargetFrom(parse(['--tls-ca', certs.ca]), { TEMPORAL_TLS: 'false' })), [
      'TLS is turned off (TEMPORAL_TLS=false) but TLS settings are given: --tls-ca',
    ]);
  });

  it('keeps the Web UI links', () => {
    const t: TemporalTarget = { address: '127.0.0.1:7233', namespace: 'prod ns' };
    assert.equal(uiBase(t), process.env.TEMPORAL_UI_URL?.replace(/\/$/, '') ?? 'http://127.0.0.1:8233');
    assert.match(workflowUrl({ ...t, uiUrl: 'https://ui.example/' }, 'a/b'), /^https:\/\/ui\.example\/namespaces\/prod%20ns\/workflows\/a%2Fb$/);
  });
});

describe('real connections through a TLS proxy to a dev server', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  let certs: ReturnType<typeof makeCerts>;
  let proxy: Awaited<ReturnType<typeof startTlsProxy>>;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'netbench-tls-'));
    certs = makeCerts(dir);
    env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: builtBinary('temporal', 'temporal') }, ip: '127.0.0.1', extraArgs: ['--log-level', 'error', '--headless'] },
    });
    proxy = await startTlsProxy(certs, env.address);
  });
  after(async () => {
    await proxy?.close();
    await env?.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const mtls = () =>
    temporalTargetFrom(
      { address: proxy.address, 'tls-ca': certs.ca, 'tls-cert': certs.clientCert, 'tls-key': certs.clientKey, 'tls-server-name': 'temporal.test' },
      {},
    );

  it('client: mTLS with a private CA and a server name reaches Temporal', async () => {
    const before = proxy.seen.length;
    const client = await connect(mtls());
    try {
      const r = await client.connection.workflowService.getSystemInfo({});
      assert.ok(r.serverVersion, 'the dev server answered through the proxy');
    } finally {
      await client.connection.close();
    }
    const calls = proxy.seen.slice(before);
    assert.ok(calls.some((c) => c.path.endsWith('/GetSystemInfo')));
    for (const c of calls) {
      assert.equal(c.sni, 'temporal.test');
      assert.equal(c.clientCN, 'netbench-worker');
      assert.equal(c.clientAuthorized, true, 'client certificate signed by the CA');
      assert.equal(c.authorization, undefined);
    }
  });

  it('worker (NativeConnection): same mTLS settings, plus an API key as a Bearer header', async () => {
    const before = proxy.seen.length;
    const conn = await connectNative({ ...mtls(), apiKey: 'secret-key-1' });
    try {
      await conn.workflowService.getSystemInfo({});
    } finally {
      await conn.close();
    }
    const calls = proxy.seen.slice(before);
    assert.ok(calls.length > 0);
    for (const c of calls) {
      assert.equal(c.sni, 'temporal.test');
      assert.equal(c.clientCN, 'netbench-worker');
      assert.equal(c.authorization, 'Bearer secret-key-1');
    }
  });

  it('client: an API key with the server CA (no client certificate)', async () => {
    const before = proxy.seen.length;
    const t = temporalTargetFrom({ address: proxy.address, 'tls-ca': certs.ca, 'tls-server-name': 'temporal.test' }, { TEMPORAL_API_KEY: 'secret-key-2' });
    const client = await connect(t);
    try {
      await client.connection.workflowService.getSystemInfo({});
    } finally {
      await client.connection.close();
    }
    const calls = proxy.seen.slice(before);
    assert.ok(calls.length > 0);
    for (const c of calls) {
      assert.equal(c.authorization, 'Bearer secret-key-2');
      assert.equal(c.clientCN, undefined);
    }
  });

  it('without the server name the certificate does not match 127.0.0.1: a clear error', async () => {
    const t = temporalTargetFrom({ address: proxy.address, 'tls-ca': certs.ca }, {});
    await assert.rejects(connect(t, { connectTimeout: '2s' }), (err: Error) => {
      assert.match(err.message, new RegExp(`^cannot reach Temporal at ${proxy.address.replace(/\./g, '\\.')}, namespace default, TLS \\(`));
      assert.match(err.message, /Check the certificates, --tls-server-name and the API key\.$/);
      return true;
    });
  });
});

describe('telemetry: the worker serves Prometheus metrics', () => {
  let env: TestWorkflowEnvironment;
  let child: ChildProcess | undefined;

  before(async () => {
    env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: builtBinary('temporal', 'temporal') }, ip: '127.0.0.1', extraArgs: ['--log-level', 'error', '--headless'] },
    });
  });
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
    }
    await env?.teardown();
  });

  it('reads --metrics-address / NETBENCH_METRICS_ADDRESS and refuses a bad one before touching the Runtime', () => {
    assert.deepEqual(telemetryOptionsFrom({ 'metrics-address': '0.0.0.0:9464' }, { NETBENCH_METRICS_ADDRESS: '1.2.3.4:1' }), { prometheusAddress: '0.0.0.0:9464' });
    assert.deepEqual(telemetryOptionsFrom({}, { NETBENCH_METRICS_ADDRESS: '[::]:9464', NETBENCH_LOG_LEVEL: 'warn' }), { prometheusAddress: '[::]:9464', logLevel: 'WARN' });
    assert.deepEqual(telemetryOptionsFrom({}, {}), {});
    assert.throws(() => telemetryOptionsFrom({}, { NETBENCH_METRICS_ADDRESS: '9464' }), /NETBENCH_METRICS_ADDRESS 9464: expected HOST:PORT/);
    assert.throws(() => telemetryOptionsFrom({ 'log-level': 'loud' }, {}), /log level loud: expected one of TRACE/);
    assert.equal(parseBindAddress('host:70000'), undefined);
    // Validation happens before Runtime.install, so this process's Runtime is untouched.
    assert.throws(() => installTelemetry({ prometheusAddress: 'nope' }), /metrics address nope: expected HOST:PORT/);
  });

  it('a real worker process exposes temporal_* metrics on the configured address', async () => {
    const port = await freePort();
    // Runtime.install works once per process: the worker runs in a child.
    const script = `
      const { installTelemetry } = await import(${JSON.stringify(path.join(repoRoot, 'src/telemetry.ts'))});
      const { connectNative } = await import(${JSON.stringify(path.join(repoRoot, 'src/cli/connect.ts'))});
      const { Worker } = await import('@temporalio/worker');
      const r = installTelemetry({ prometheusAddress: process.env.METRICS, logLevel: 'WARN' });
      const connection = await connectNative({ address: process.env.TEMPORAL, namespace: 'default' });
      const worker = await Worker.create({ connection, taskQueue: 'telemetry-test', activities: { async noop() {} }, shutdownGraceTime: '1s' });
      process.stdout.write(JSON.stringify(r) + '\\n');
      await worker.run();
      await connection.close();
    `;
    child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      env: { ...process.env, METRICS: `127.0.0.1:${port}`, TEMPORAL: env.address },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));

    const deadline = Date.now() + 30_000;
    let body = '';
    while (Date.now() < deadline) {
      if (child.exitCode !== null) assert.fail(`worker process exited ${child.exitCode}: ${stderr}`);
      body = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => '');
      if (/^temporal_num_pollers\{/m.test(body)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(JSON.parse(stdout.split('\n')[0]), { metricsUrl: `http://127.0.0.1:${port}/metrics` });
    assert.match(body, /^temporal_num_pollers\{.*task_queue="telemetry-test".*\} \d+/m, `no pollers metric in:\n${body.slice(0, 2000)}\n${stderr}`);
    assert.match(body, /^temporal_worker_task_slots_available\{/m);
    assert.match(body, /^# TYPE temporal_request counter$/m);

    child.kill('SIGTERM'); // the SDK shuts the worker down gracefully
    assert.equal(await exited, 0, stderr);
  });
});
