// The in-process sandbox's merchants: each channel's identity is made on the first start, kept in
// the database (so keys, ids and the trades made with them survive restarts), and registered
// with the sandbox mounted on this server at every start.
import type { Pool } from '../store/db.ts';
import { getSetting, putSettingOnce } from '../store/settings.ts';
import {
  generateSandboxMerchant,
  registerSandboxMerchants,
  sandboxChannelsSection,
  type PerSandboxChannel,
  type SandboxChannelName,
  type SandboxMerchants,
} from './sandbox-merchants.ts';

/**
 * The `channels` section for the channels in `wanted`, pointing at the sandbox this server mounts
 * at `baseUrl` (already listening: registration goes over HTTP, as the channels' calls do).
 */
export async function inProcessSandboxChannels(pool: Pool, baseUrl: string, wanted: readonly SandboxChannelName[]): Promise<PerSandboxChannel> {
  if (wanted.length === 0) return {};
  const merchants: Partial<SandboxMerchants> = {};
  for (const name of wanted) Object.assign(merchants, { [name]: await storedMerchant(pool, name) });
  const registered = await registerSandboxMerchants(baseUrl, merchants);
  return sandboxChannelsSection(merchants, registered, { sandbox: baseUrl, paycenter: baseUrl });
}

/**
 * The channel's stored identity; only the first start's is kept, later starts (and racing
 * processes) read it back. A key pair is generated only when none is stored yet.
 */
async function storedMerchant<K extends SandboxChannelName>(pool: Pool, name: K): Promise<SandboxMerchants[K]> {
  const key = `sandbox.${name}.merchant`;
  return (await getSetting<SandboxMerchants[K]>(pool, key)) ?? (await putSettingOnce(pool, key, generateSandboxMerchant(name)));
}
