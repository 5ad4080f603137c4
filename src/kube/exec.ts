/**
 * Run a command in a pod through the exec API (websocket), the way
 * `kubectl exec` does, with the things the reference run lacked: a time
 * limit, cancellation, output streamed to a file (large JSON over the exec
 * stream is what stalled the reference), a size cap, and typed failures an
 * activity can act on:
 *
 *   ExecTimeoutError   the command outran timeoutMs              (retryable)
 *   ExecAbortedError   the caller's AbortSignal fired            (not retryable)
 *   ExecStreamError    the connection failed or dropped before the
 *                      exit status arrived, e.g. close 1006      (retryable, unless
 *                      the handshake was refused with a 4xx: no such pod, forbidden)
 *   ExecCommandError   the command ran and exited non-zero       (not retryable)
 *
 * Closing the stream (timeout, abort) does NOT stop the remote process:
 * neither a kubelet nor kwok kills an exec'd process when its client goes
 * away; a silent process runs to its end, a chatty one dies at its next
 * write (SIGPIPE). Callers must bound the tool's own duration (iperf3 -t,
 * netperf -l, fortio -t) and expect "server busy" for a while after an abort.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
// Not re-exported by the package index (2.0.1, pinned); the package has no exports map, so the file is importable.
import { WebSocketHandler, type WebSocketInterface } from '@kubernetes/client-node/dist/web-socket-handler.js';

export interface ExecInPodOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  pod: string;
  /** Container name; empty = the pod's only container. */
  container?: string;
  command: string[];
  /** Limit for the whole exec (connect + run + output). */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Stream stdout to this file instead of keeping it in memory (result.stdout is then ''). */
  stdoutFile?: string;
  /** Keep (or write) at most this many stdout bytes; the rest is counted and dropped. Default 32 MiB. */
  maxStdoutBytes?: number;
  /** Return instead of throwing ExecCommandError when the exit code is not 0. */
  allowNonZeroExit?: boolean;
}

export interface ExecResult {
  exitCode: number;
  /** stdout as text ('' when streamed to stdoutFile). */
  stdout: string;
  /** The last STDERR_TAIL_BYTES of stderr. */
  stderr: string;
  /** Bytes of stdout the command produced (including dropped ones). */
  stdoutBytes: number;
  stdoutTruncated: boolean;
  durationMs: number;
}

const DEFAULT_MAX_STDOUT = 32 * 1024 * 1024;
export const STDERR_TAIL_BYTES = 16 * 1024;

interface ExecTarget {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
}

export abstract class ExecError extends Error {
  abstract readonly retryable: boolean;
  constructor(
    message: string,
    readonly target: ExecTarget,
    readonly durationMs: number,
  ) {
    super(`exec ${target.namespace}/${target.pod} \`${target.command.join(' ')}\`: ${message}`);
    this.name = new.target.name;
  }
}

export class ExecTimeoutError extends ExecError {
  readonly retryable = true;
  constructor(target: ExecTarget, durationMs: number, readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`, target, durationMs);
  }
}

export class ExecAbortedError extends ExecError {
  readonly retryable = false;
  constructor(target: ExecTarget, durationMs: number) {
    super('aborted', target, durationMs);
  }
}

export class ExecStreamError extends ExecError {
  readonly retryable: boolean;
  constructor(
    target: ExecTarget,
    durationMs: number,
    readonly detail: {
      /** 'connect': the websocket never opened; 'stream': it closed before the exit status. */
      phase: 'connect' | 'stream';
      /** Websocket close code (1006 = closed abnormally). */
      closeCode?: number;
      /** HTTP status of a refused handshake. */
      httpStatus?: number;
      reason: string;
    },
  ) {
    super(
      `${detail.phase === 'connect' ? 'could not open the exec stream' : 'exec stream closed before the exit status'}: ${detail.reason}` +
        (detail.closeCode ? ` (close ${detail.closeCode})` : '') +
        (detail.httpStatus ? ` (HTTP ${detail.httpStatus})` : ''),
      target,
      durationMs,
    );
    const s = detail.httpStatus;
    // No such pod/container or no permission will not heal by retrying; everything else may.
    this.retryable = !(s !== undefined && s >= 400 && s < 500 && s !== 408 && s !== 429);
  }
}

export class ExecCommandError extends ExecError {
  readonly retryable = false;
  constructor(
    target: ExecTarget,
    durationMs: number,
    /** Exit code; -1 when the runtime reported a failure without one (e.g. executable not found). */
    readonly exitCode: number,
    readonly stderrTail: string,
    readonly status: V1Status,
  ) {
    const why = exitCode >= 0 ? `exited with code ${exitCode}` : `failed: ${status.message ?? status.reason ?? 'unknown'}`;
    const tail = stderrTail.trim().split('\n').slice(-5).join(' | ');
    super(tail ? `${why}; stderr: ${tail}` : why, target, durationMs);
  }
}

const SIGNALS: Record<string, number> = { hangup: 1, interrupt: 2, killed: 9, terminated: 15, 'broken pipe': 13, aborted: 6, 'segmentation fault': 11 };

/**
 * Exit code from the exec status. A kubelet reports NonZeroExitCode with an
 * ExitCode cause; kwok (and some runtimes) only say so in the message
 * ("... exit status 3", "... signal: killed").
 */
export function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (cause?.message && /^\d+$/.test(cause.message)) return Number(cause.message);
  const msg = status.message ?? '';
  const m = /exit (?:status|code):? (\d+)/.exec(msg);
  if (m) return Number(m[1]);
  const sig = /signal: ([a-z ]+)/.exec(msg);
  if (sig && SIGNALS[sig[1].trim()]) return 128 + SIGNALS[sig[1].trim()];
  return -1;
}

/** Collects up to `max` bytes in memory (or a file), counts all of them. */
class CappedSink extends Writable {
  private chunks: Buffer[] = [];
  bytes = 0;
  kept = 0;
  constructor(
    private readonly max: number,
    private readonly file?: WriteStream,
  ) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.bytes += chunk.length;
    const room = this.max - this.kept;
    if (room <= 0) return cb();
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.kept += part.length;
    if (this.file) {
      if (!this.file.write(part)) this.file.once('drain', () => cb());
      else cb();
      return;
    }
    this.chunks.push(Buffer.from(part));
    cb();
  }
  override _final(cb: (err?: Error | null) => void): void {
    if (this.file) this.file.end(() => cb());
    else cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Keeps the last `max` bytes. */
class TailSink extends Writable {
  private buf = Buffer.alloc(0);
  constructor(private readonly max: number) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    if (this.buf.length > this.max) this.buf = this.buf.subarray(this.buf.length - this.max);
    cb();
  }
  text(): string {
    return this.buf.toString('utf8');
  }
}

/**
 * client-node's handler, guarded: its message callback throws on a stream
 * number it does not know (e.g. a v5 close frame), and a throw there would
 * escape as an uncaught exception. Errors are reported to `onError` instead.
 */
class GuardedHandler implements WebSocketInterface {
  constructor(
    private readonly inner: WebSocketHandler,
    private readonly onError: (err: unknown) => void,
  ) {}
  connect(
    path: string,
    textHandler: ((text: string) => boolean) | null,
    binaryHandler: ((stream: number, buff: Buffer) => boolean) | null,
  ) {
    const guarded =
      binaryHandler &&
      ((stream: number, buff: Buffer) => {
        if (stream === WebSocketHandler.CloseStream) return true;
        try {
          return binaryHandler(stream, buff);
        } catch (err) {
          this.onError(err);
          return false;
        }
      });
    return this.inner.connect(path, textHandler, guarded);
  }
}

function httpStatusOf(err: unknown): number | undefined {
  const msg = err instanceof Error ? err.message : String((err as { message?: unknown })?.message ?? err);
  const m = /Unexpected server response: (\d{3})/.exec(msg);
  return m ? Number(m[1]) : undefined;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  const m = (err as { message?: unknown })?.message;
  return typeof m === 'string' ? m : String(err);
}

export async function execInPod(opts: ExecInPodOptions): Promise<ExecResult> {
  const target: ExecTarget = { namespace: opts.namespace, pod: opts.pod, container: opts.container ?? '', command: opts.command };
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  if (opts.signal?.aborted) throw new ExecAbortedError(target, 0);

  const file = opts.stdoutFile ? createWriteStream(opts.stdoutFile) : undefined;
  const stdout = new CappedSink(opts.maxStdoutBytes ?? DEFAULT_MAX_STDOUT, file);
  const stderr = new TailSink(STDERR_TAIL_BYTES);
  const stdoutDone = new Promise<void>((resolve) => stdout.once('finish', () => resolve()));
  // A write after a close frame ended a sink must not become an uncaught 'error'.
  stdout.on('error', () => {});
  stderr.on('error', () => {});
  file?.on('error', () => {});

  type WS = Awaited<ReturnType<Exec['exec']>>;
  let ws: WS | undefined;
  let settled = false;
  let status: V1Status | undefined;
  let timer: NodeJS.Timeout | undefined;

  return new Promise<ExecResult>((resolve, reject) => {
    const cleanup = () => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: ExecError) => {
      if (settled) return;
      settled = true;
      cleanup();
      // Closing our end: the apiserver then drops its stream to the kubelet.
      try {
        ws?.terminate();
      } catch {
        // already closed
      }
      stdout.destroy();
      file?.destroy();
      reject(err);
    };
    const succeed = async (st: V1Status) => {
      if (settled) return;
      settled = true;
      cleanup();
      await stdoutDone; // the status frame ended stdout; wait until it is flushed (to the file)
      const exitCode = exitCodeOf(st);
      const durationMs = elapsed();
      if (exitCode !== 0 && !opts.allowNonZeroExit) {
        reject(new ExecCommandError(target, durationMs, exitCode, stderr.text(), st));
        return;
      }
      resolve({
        exitCode,
        stdout: file ? '' : stdout.text(),
        stderr: stderr.text(),
        stdoutBytes: stdout.bytes,
        stdoutTruncated: stdout.bytes > stdout.kept,
        durationMs,
      });
    };
    const onAbort = () => fail(new ExecAbortedError(target, elapsed()));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(() => fail(new ExecTimeoutError(target, elapsed(), opts.timeoutMs)), opts.timeoutMs);

    const handler = new GuardedHandler(
      // Our own streams object: client-node's default would be process.stdin/stdout/stderr.
      new WebSocketHandler(opts.kubeConfig, undefined, { stdin: new Readable({ read() {} }), stdout, stderr }),
      (err) => fail(new ExecStreamError(target, elapsed(), { phase: 'stream', reason: `bad frame: ${messageOf(err)}` })),
    );
    new Exec(opts.kubeConfig, handler)
      .exec(opts.namespace, opts.pod, target.container, opts.command, stdout, stderr, null, false, (st) => {
        // The status frame comes after every output frame: the command is done.
        status = st;
        void succeed(st);
      })
      .then(
        (socket) => {
          ws = socket;
          if (settled) {
            socket.terminate(); // timed out or aborted while connecting
            return;
          }
          socket.on('close', (code: number, reason: Buffer) => {
            if (!status) fail(new ExecStreamError(target, elapsed(), { phase: 'stream', closeCode: code, reason: reason.toString() || 'connection closed' }));
          });
          socket.on('error', () => {
            // 'close' follows with the code; nothing else to do here
          });
        },
        (err: unknown) => {
          fail(new ExecStreamError(target, elapsed(), { phase: 'connect', httpStatus: httpStatusOf(err), reason: messageOf(err) }));
        },
      );
  });
}
