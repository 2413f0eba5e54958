// Rendered bills awaiting download behind a random token, in this process's memory: the download
// URL names this process's host, and its bytes must stay the ones the answer described even if the
// ledger changes meanwhile. WeChat Pay's download_url and Alipay's bill_download_url both live 30 s
// (channels.md §1.9, §2.10).
import { randomBytes } from 'node:crypto';

const BILL_DOWNLOAD_VALIDITY_MS = 30_000;
/** Bills kept at once; the oldest go first beyond this (each lives 30 s anyway). */
const BILL_DOWNLOADS_MAX = 1_000;

export class BillDownloads<File> {
  private readonly files = new Map<string, { file: File; expiresAtMs: number }>();

  /** The token that finds `file` for the next 30 s. */
  keep(file: File, nowMs: number): string {
    for (const [token, kept] of this.files) if (kept.expiresAtMs <= nowMs) this.files.delete(token);
    while (this.files.size >= BILL_DOWNLOADS_MAX) this.files.delete(this.files.keys().next().value as string);
    const token = randomBytes(24).toString('base64url');
    this.files.set(token, { file, expiresAtMs: nowMs + BILL_DOWNLOAD_VALIDITY_MS });
    return token;
  }

  find(token: string, nowMs: number): File | undefined {
    const kept = this.files.get(token);
    return kept && kept.expiresAtMs > nowMs ? kept.file : undefined;
  }
}
