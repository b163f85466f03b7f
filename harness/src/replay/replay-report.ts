/**
 * A replay as text: per item, the client's classification under each semantics, each world's chains hop by hop
 * (harness/src/report/hop-trace.ts, the `crane pull --verbose` shape), and last the requests whose first hop differs
 * between the semantics. The JSON form is the ReplayResult itself.
 */
import { formatTrace } from '../report/hop-trace.js';
import type { ReplayResult } from './run-replay.js';

const indent = (text: string, by: string) =>
  text
    .split('\n')
    .map((l) => `${by}${l}`)
    .join('\n');

export interface ReplayTextOptions {
  /** print every hop of every chain (default true); false prints first hops only */
  traces?: boolean;
}

export function replayText(result: ReplayResult, options: ReplayTextOptions = {}): string {
  const traces = options.traces ?? true;
  const out: string[] = [];
  for (const it of result.items) {
    out.push(`== ${it.title}`);
    const clients = new Map<string, string>();
    for (const w of it.worlds) {
      const c = w.chains.find((ch) => ch.explain?.client)?.explain?.client;
      if (c)
        clients.set(w.semantics, c.cloud === null ? 'no cloud (internet)' : `${c.cloud} ${c.region} (${c.prefix})`);
    }
    if (clients.size > 0)
      out.push(`client ${it.item.ip ?? '?'}: ${[...clients].map(([s, c]) => `${s} → ${c}`).join('; ')}`);
    if (it.logged) {
      const l = it.logged;
      out.push(
        `logged (line ${l.line}): ${l.reason}${l.status !== null ? ` ${l.status}` : ''}${l.target ? ` → ${l.target}` : ''}${l.cloud ? `; client ${l.cloud} ${l.region} (${l.prefix})` : ''}${l.bucket ? `; bucket ${l.bucket}` : ''}`,
      );
    }
    for (const w of it.worlds) {
      out.push(`-- ${w.semantics} (${w.url})${w.ok ? '' : `: FAILED${w.error ? `: ${w.error.split('\n')[0]}` : ''}`}`);
      for (const ch of w.chains) {
        const e = ch.explain;
        const why = e?.decision
          ? ` [${e.decision.reason}${e.bucket ? `, consulted ${e.bucket}` : ''}]`
          : e?.bucket
            ? ` [consulted ${e.bucket}]`
            : '';
        out.push(`   ${ch.request} → ${ch.firstHop}${why}${ch.error ? `  (${ch.error.split('\n')[0]})` : ''}`);
        if (traces) out.push(indent(formatTrace(ch.hops), '      '));
      }
    }
    if (result.semantics.length > 1) {
      if (it.differences.length === 0) out.push(`== same first hops under ${result.semantics.join(' and ')}`);
      else {
        out.push(
          `== ${it.differences.length} request${it.differences.length === 1 ? '' : 's'} route differently under ${result.semantics.join(' and ')}:`,
        );
        for (const d of it.differences) {
          out.push(`   ${d.request}`);
          for (const [s, a] of Object.entries(d.answers))
            out.push(`      ${s.padEnd(14)} ${a}   (client ${d.clients[s]}; consulted ${d.buckets[s]})`);
        }
      }
    }
    out.push('');
  }
  const differing = result.items.filter((i) => i.differences.length > 0).length;
  out.push(
    `replayed ${result.items.length} item${result.items.length === 1 ? '' : 's'} under ${result.semantics.join(', ')} in ${(result.durationMs / 1000).toFixed(1)} s; ${differing} route differently between the semantics`,
  );
  return `${out.join('\n')}\n`;
}
