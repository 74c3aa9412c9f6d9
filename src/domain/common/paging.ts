export interface Page {
  limit: number;
  offset: number;
}

export type { Paged } from '../../contract/views/paged.ts';

export const iso = (d: Date | null | undefined): string | null => (d == null ? null : d.toISOString());
