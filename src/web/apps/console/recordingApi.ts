import { button, formatDuration, h, setText, setTextLocalized } from '../../ui/dom.ts';
import { formatBytes, t } from '../../i18n/index.ts';
import { api, ApiError } from './api.ts';
import { field, withStatus } from './widgets.ts';
import type { Job, RecordingSummary } from '../../../contract/views/recording.ts';

/** The recording routes (issue 5, /api/v1/recordings), in one place; `as const` keeps a path's type, which types the GET's answer (getRoutes.ts). */
export const recordingRoutes = {
  /** Newest first, one page (the API pages: at most 200 a call). */
  list: () => '/recordings?limit=200' as const,
  one: (sessionId: string) => `/recordings/${sessionId}` as const,
  /** Starting by hand: the recorder follows the session when it goes live (autoRecord); this route is for sessions without it. */
  start: (sessionId: string) => `/recordings/${sessionId}/start`,
  stop: (sessionId: string) => `/recordings/${sessionId}/stop`,
  playable: (sessionId: string) => `/api/v1/recordings/${sessionId}/playable`,
  buildPlayable: (sessionId: string) => `/recordings/${sessionId}/playable`,
  verify: (sessionId: string) => `/recordings/${sessionId}/verify`,
  exports: () => '/recordings/exports',
  /** The drives an export may go to (the server checks the choice again). */
  exportDestinations: () => '/recordings/export-destinations',
  job: (jobId: string) => `/recordings/jobs/${jobId}` as const,
};

// The server's views, as types only (esbuild drops the import, zod stays out of the bundle).
export type { Job, RecordingSummary };

export interface ExportDestinations {
  /** EXPORT_DESTINATIONS: where drives are looked for (empty: exports are off). */
  roots: string[];
  destinations: { path: string; fsType: string; source: string; freeBytes: number }[];
}


/** Follows a background job (playable copy, verification, export) until it ends, reporting its progress. */
export async function followJob(jobId: string, onProgress: (job: Job) => void): Promise<Job> {
  for (;;) {
    const job = await api.get(recordingRoutes.job(jobId));
    onProgress(job);
    if (job.status !== 'running' && job.status !== 'queued') return job;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Start/stop with elapsed time and free disk space; polls the recorder's state every 2 s. */
export function recordingControl(
  sessionId: string,
  panel: HTMLElement,
  /** The chair's live connection: start/stop go through signaling (the host's requests) when it is there. */
  host?: () => { request(method: 'startRecording' | 'stopRecording', data?: object): Promise<unknown> } | undefined,
): { setRecording(on: boolean): void; close(): void } {
  const stateText = h('span', { class: 'rec-state', id: 'rec-state', role: 'status' });
  const disk = h('span', { class: 'muted', id: 'rec-disk' });
  const status = h('p', { class: 'status', role: 'status' });
  let live: RecordingSummary['live'] = null;
  let signalled: boolean | undefined;
  let available = true;
  const isOn = () => live?.status === 'recording' || live?.status === 'starting' || (live === null && signalled === true);
  // Recording is mandatory (NĐ 154/2026 Art 24(1)): stopping it asks for the reason, which is logged.
  const stopReason = h('input', { type: 'text', id: 'rec-stop-reason', maxlength: 1000 });
  const stopReasonField = field('rec-stop-reason', 'live.rec.stopReason', stopReason);
  const toggle = button(
    'live.rec.start',
    () =>
      void withStatus(status, async () => {
        const stopping = isOn();
        const reason = stopReason.value.trim();
        if (stopping && reason === '') {
          stopReason.focus();
          throw Object.assign(new Error('reason required'), { code: 'RECORDING_STOP_REASON_REQUIRED' });
        }
        const live = host?.();
        if (live) await (stopping ? live.request('stopRecording', { reason }) : live.request('startRecording'));
        else await api.post(stopping ? recordingRoutes.stop(sessionId) : recordingRoutes.start(sessionId), stopping ? { reason } : {});
        if (stopping) stopReason.value = '';
        await refresh();
      }),
    { id: 'rec-toggle', class: 'primary' },
  );
  panel.replaceChildren(toggle, stateText, disk, stopReasonField, status);

  const render = () => {
    const on = isOn();
    stateText.classList.toggle('on', on);
    stateText.dataset.recording = String(on);
    if (on) setText(stateText, 'live.rec.on', { elapsed: live ? formatDuration(Date.now() - Date.parse(live.startedAt)) : '' });
    else setText(stateText, 'live.rec.off');
    setText(toggle, on ? 'live.rec.stop' : 'live.rec.start');
    stopReasonField.hidden = !on;
    toggle.className = on ? 'danger solid' : 'primary';
    if (live) setText(disk, live.disk.level === 'ok' ? 'live.rec.disk' : 'live.rec.diskLow', { free: formatBytes(live.disk.freeBytes) });
    disk.className = live && live.disk.level !== 'ok' ? 'error' : 'muted';
  };
  const refresh = async () => {
    if (!available) return;
    try {
      live = (await api.get(recordingRoutes.one(sessionId))).live;
    } catch (err) {
      if (err instanceof ApiError && err.code === 'RECORDING_NOT_FOUND') live = null;
      else if (err instanceof ApiError && err.status === 404) {
        // The route itself is missing: this server has no recording API.
        available = false;
        status.className = 'status error';
        setTextLocalized(status, () => t('common.notAvailable', { what: 'recording API' }));
      }
    }
    render();
  };
  void refresh();
  const timer = window.setInterval(() => void refresh(), 2000);
  const tick = window.setInterval(render, 1000);
  return {
    setRecording(on: boolean) {
      signalled = on;
      void refresh();
    },
    close() {
      clearInterval(timer);
      clearInterval(tick);
    },
  };
}

/** Governance (security review H2) and the kinds of export the API offers, for the recordings page. */
export const governanceRoutes = {
  retention: (sessionId: string) => `/recordings/${sessionId}/retention`,
  legalHold: (sessionId: string) => `/recordings/${sessionId}/legal-hold`,
};

/** A recording with its retention and legal-hold fields (all in the summary since the contract). */
export type GovernedRecording = RecordingSummary;
