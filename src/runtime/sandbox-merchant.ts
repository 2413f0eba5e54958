// The in-process sandbox's merchants: each channel's identity is made on the first start, kept in
// the database (so keys, ids and the trades made with them survive restarts), and registered
// with the sandbox mounted on this server at every start.
import type { FastifyInstance } from 'fastify';
import type { Pool } from '../store/db.ts';
import { getSetting, putSettingOnce } from '../store/settings.ts';
import {
  generateSandboxMerchants,
  registerSandboxMerchants,
  sandboxChannelsSection,
  type SandboxChannelName,
  type SandboxMerchants,
} from './sandbox-merchants.ts';

/** The `channels` section for the channels in `wanted`, pointing at the sandbox on `server`. */
export async function inProcessSandboxChannels(
  pool: Pool,
  server: FastifyInstance,
  baseUrl: string,
  wanted: readonly SandboxChannelName[],
): Promise<Partial<Record<SandboxChannelName, Record<string, unknown>>>> {
  if (wanted.length === 0) return {};
  const fresh = generateSandboxMerchants();
  const merchants = {} as SandboxMerchants;
  for (const name of wanted) {
    const key = `sandbox.${name}.merchant`;
    // Only the first start's identity is kept; later starts (and racing processes) read it back.
    const stored = (await getSetting<SandboxMerchants[typeof name]>(pool, key)) ?? (await putSettingOnce(pool, key, fresh[name]));
    Object.assign(merchants, { [name]: stored });
  }
  const register = async (path: string, payload: Record<string, unknown>) => {
    const res = await server.inject({ method: 'POST', url: path, payload });
    if (res.statusCode !== 200) throw new Error(`sandbox merchant registration at ${path} failed: ${res.statusCode} ${res.body}`);
    return res.json<Record<string, unknown>>();
  };
  const registered = await registerSandboxMerchants(register, merchants, wanted);
  return sandboxChannelsSection(merchants, registered, { sandbox: baseUrl, paycenter: baseUrl });
}
