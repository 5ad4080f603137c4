import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Write only when the content differs: kube-proxy watches its config file
 * and exits on any write to it, even of identical bytes.
 */
export function writeFileIfChanged(file: string, content: string, mode?: number): boolean {
  try {
    if (readFileSync(file, 'utf8') === content) return false;
  } catch {
    // absent: write it
  }
  writeFileSync(file, content, mode === undefined ? undefined : { mode });
  return true;
}
