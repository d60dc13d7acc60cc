import { isRateLimited, type ConfigIssue, type NetDeviceConfig } from '@vnic/core';
import * as v from 'valibot';
import type { BackendRegistry } from './BackendRegistry.ts';
import { formatPath } from './formatPath.ts';
import type { NetEntry } from './netEntrySchema.ts';
import { parseMac } from './parseMac.ts';
import { vmConfigSchema } from './vmConfigSchema.ts';

const ENTRY_KEYS = new Set([
  'id',
  'backend',
  'mac',
  'queuePairs',
  'queueSize',
  'mtu',
  'offloads',
  'mrgRxbuf',
  'eventIdx',
  'indirectDesc',
  'ctrlVq',
  'fallback',
  'liveFallback',
  'rateLimit',
  'coalescing',
]);

/** The outcome of validation: the NIC configs when there is no issue. */
export interface VmConfigValidation {
  readonly issues: readonly ConfigIssue[];
  readonly net: readonly NetDeviceConfig[];
}

function quoteList(names: readonly string[]): string {
  return names.length === 0 ? '(none loaded)' : names.map((n) => `"${n}"`).join(', ');
}

/**
 * Validates a parsed JSON VM config against the schema and the loaded backends; returns every
 * issue at once (field paths like `net[1].queuePairs`) and, when there are none, the NIC configs.
 */
export function validateVmConfig(raw: unknown, backends: BackendRegistry): VmConfigValidation {
  // JSON.parse keeps "__proto__" as an own key, but copying it into an object sets the prototype:
  // the schema would drop it without a word. Refuse it wherever it is.
  const protoKeys = protoKeyPaths(raw, []);
  if (protoKeys.length > 0) {
    return { issues: protoKeys.map((path) => ({ path: formatPath(path), message: 'a key named "__proto__" is not allowed in a VM config' })), net: [] };
  }
  const parsed = v.safeParse(vmConfigSchema, raw);
  if (!parsed.success) {
    const issues = parsed.issues.map((i) => ({
      path: formatPath((i.path ?? []).map((p) => p.key as string | number)),
      message: issueMessage(i),
    }));
    return { issues, net: [] };
  }
  const issues: ConfigIssue[] = [];
  const net: NetDeviceConfig[] = [];
  const ids = new Map<string, number>();
  const macs = new Map<string, number>();
  parsed.output.net.forEach((entry: NetEntry, i) => {
    const at = (field: string): string => `net[${i}]${field === '' ? '' : `.${field}`}`;
    const prevId = ids.get(entry.id);
    if (prevId !== undefined) issues.push({ path: at('id'), message: `duplicate id "${entry.id}" (also net[${prevId}].id)` });
    else ids.set(entry.id, i);
    const mac = entry.mac.toLowerCase();
    const prevMac = macs.get(mac);
    if (prevMac !== undefined) issues.push({ path: at('mac'), message: `duplicate MAC ${mac} (also net[${prevMac}].mac)` });
    else macs.set(mac, i);
    if (entry.queuePairs > 1 && !entry.ctrlVq) {
      issues.push({
        path: at('queuePairs'),
        message: `${entry.queuePairs} queue pairs need the control queue (VIRTIO_NET_F_MQ): set ctrlVq to true or queuePairs to 1`,
      });
    }
    const provider = backends.provider(entry.backend);
    if (provider === undefined) {
      issues.push({ path: at('backend'), message: `unknown backend "${entry.backend}"; known backends: ${quoteList(backends.names)}` });
    }
    if (entry.fallback !== undefined) {
      if (entry.fallback === entry.backend) issues.push({ path: at('fallback'), message: `must differ from backend "${entry.backend}"` });
      else if (backends.provider(entry.fallback) === undefined) {
        issues.push({ path: at('fallback'), message: `unknown backend "${entry.fallback}"; known backends: ${quoteList(backends.names)}` });
      }
    }
    if (entry.liveFallback !== undefined) {
      if (entry.fallback === undefined) {
        issues.push({ path: at('liveFallback'), message: 'needs "fallback" naming the backend to switch to (e.g. "virtio-net", with its section)' });
      }
      if (entry.backend !== 'vhost-user') {
        issues.push({ path: at('liveFallback'), message: `watches a vhost-user backend's connection; this NIC's backend is "${entry.backend}"` });
      }
    }
    for (const key of Object.keys(entry)) {
      if (ENTRY_KEYS.has(key) || key === entry.backend || key === entry.fallback) continue;
      const isBackend = backends.names.includes(key);
      issues.push({
        path: at(key),
        message: isBackend
          ? `section for backend "${key}" but this NIC uses "${entry.backend}"${entry.fallback === undefined ? '' : ` (fallback "${entry.fallback}")`}`
          : `unknown field; allowed: ${[...ENTRY_KEYS].join(', ')}, and a section named after the backend`,
      });
    }
    if (isRateLimited(entry.rateLimit)) {
      for (const [role, name] of [
        ['backend', entry.backend],
        ['fallback', entry.fallback],
      ] as const) {
        const p = name === undefined ? undefined : backends.provider(name);
        if (p === undefined || p.rateLimit === true) continue;
        issues.push({
          path: at('rateLimit'),
          message:
            `the ${role} "${name}" cannot apply a rate limit: vnic is not on its data path (the frames go through ` +
            `${p.dataPath ?? 'the backend itself'}), so vnic can neither hold TX frames back nor stop reading RX; ` +
            'use the "virtio-net" backend (or `vnic serve`), or limit on the host side (tc on the tap, the backend\'s own limiter)',
        });
      }
    }
    if (entry.coalescing !== undefined && (entry.coalescing.rx !== undefined || entry.coalescing.tx !== undefined)) {
      for (const [role, name] of [
        ['backend', entry.backend],
        ['fallback', entry.fallback],
      ] as const) {
        const p = name === undefined ? undefined : backends.provider(name);
        if (p === undefined || p.coalescing === true) continue;
        issues.push({
          path: at('coalescing'),
          message:
            `the ${role} "${name}" cannot coalesce notifications: vnic is not on its data path (the frames and the guest's ` +
            `interrupts go through ${p.dataPath ?? 'the backend itself'}), so vnic cannot hold a notification back; ` +
            'remove "coalescing" or use the "virtio-net" backend (or `vnic serve --coalesce`)',
        });
      }
    }
    const sections: [string, NetDeviceProviderLike | undefined][] = [[entry.backend, provider]];
    if (entry.fallback !== undefined) sections.push([entry.fallback, backends.provider(entry.fallback)]);
    const record = entry as Record<string, unknown>;
    for (const [name, p] of sections) {
      // An absent section means defaults; a present one must be an object (null is not "absent").
      const section = Object.hasOwn(record, name) ? record[name] : {};
      if (typeof section !== 'object' || section === null || Array.isArray(section)) {
        issues.push({ path: at(name), message: `must be an object with the "${name}" backend's settings` });
        continue;
      }
      if (p === undefined) continue;
      for (const issue of p.validateOptions(section as Record<string, unknown>)) {
        issues.push({ path: `${at(name)}${issue.path === '' ? '' : `.${issue.path}`}`, message: issue.message });
      }
    }
    const section = record[entry.backend];
    net.push({
      id: entry.id,
      backend: entry.backend,
      mac: parseMac(entry.mac),
      queuePairs: entry.queuePairs,
      queueSize: entry.queueSize,
      ...(entry.mtu === undefined ? {} : { mtu: entry.mtu }),
      offloads: entry.offloads,
      mrgRxbuf: entry.mrgRxbuf,
      eventIdx: entry.eventIdx,
      indirectDesc: entry.indirectDesc,
      ctrlVq: entry.ctrlVq,
      ...(entry.rateLimit === undefined ? {} : { rateLimit: entry.rateLimit }),
      ...(entry.coalescing === undefined ? {} : { coalescing: entry.coalescing }),
      options: typeof section === 'object' && section !== null ? (section as Record<string, unknown>) : {},
    });
  });
  return { issues, net: issues.length === 0 ? net : [] };
}

/** Our words for valibot's: a missing required key names the field and says it is required. */
function issueMessage(i: v.BaseIssue<unknown>): string {
  if (i.kind === 'schema' && i.type.endsWith('object') && i.received === 'undefined' && i.expected?.startsWith('"') === true) {
    return `is required (missing ${i.expected} field)`;
  }
  return i.message;
}

/** Paths of every own "__proto__" key in a parsed JSON value. */
function protoKeyPaths(x: unknown, at: readonly (string | number)[]): (string | number)[][] {
  if (typeof x !== 'object' || x === null) return [];
  if (Array.isArray(x)) return x.flatMap((e, i) => protoKeyPaths(e, [...at, i]));
  return Object.keys(x).flatMap((k) => (k === '__proto__' ? [[...at, k]] : protoKeyPaths((x as Record<string, unknown>)[k], [...at, k])));
}

type NetDeviceProviderLike = ReturnType<BackendRegistry['provider']>;
