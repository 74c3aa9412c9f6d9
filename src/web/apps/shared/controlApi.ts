import { requestJson } from './http.ts';
import type { Invitation } from './invitation.ts';
import type { LoopbackResult } from '../preflight/loopback.ts';

/** What the pre-flight page found, in the page's terms. */
export interface PreflightReport {
  camera: boolean;
  microphone: boolean;
  speaker: boolean;
  udp: LoopbackResult | null;
  tcp: LoopbackResult | null;
  passed: boolean;
  userAgent: string;
}

function icePath(r: LoopbackResult | null): 'udp' | 'tcp' | 'relay' | null {
  if (!r?.connected) return null;
  if (r.icePath?.startsWith('relay')) return 'relay';
  return r.transport;
}

/**
 * Posts a pre-flight result to the control API with the invitation as credential. The measured
 * figures are those of the better path (UDP when it works: that is what the session will use).
 */
export async function reportPreflight(invitation: Invitation, report: PreflightReport): Promise<unknown> {
  const best = report.udp?.connected && report.udp.mediaReturned ? report.udp : report.tcp;
  const notes = [
    `speaker: ${report.speaker ? 'ok' : 'not heard'}`,
    `udp: ${describe(report.udp)}`,
    `tcp: ${describe(report.tcp)}`,
    report.userAgent.slice(0, 300),
  ].join('; ');
  return requestJson('POST', '/api/v1/preflight/results', {
    token: invitation.token,
    body: {
      sessionId: invitation.sessionId,
      bridgePointId: invitation.subject,
      connected: Boolean(best?.connected && best.mediaReturned),
      icePath: icePath(best ?? null),
      rttMs: best?.rttMs ?? null,
      lossPct: best?.lossPercent ?? null,
      bitrateKbps: best?.bitrateKbps ?? null,
      camera: report.camera,
      microphone: report.microphone,
      notes: notes.slice(0, 2000),
    },
  });
}

function describe(r: LoopbackResult | null): string {
  if (!r) return 'not run';
  if (!r.connected) return `not connected${r.error ? ` (${r.error})` : ''}`;
  return `rtt ${r.rttMs ?? '?'} ms, loss ${r.lossPercent ?? '?'}%, ${r.bitrateKbps ?? '?'} kbit/s, path ${r.icePath ?? '?'}`;
}
