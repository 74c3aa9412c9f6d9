export interface Page {
  limit: number;
  offset: number;
}

export interface Paged<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export const iso = (d: Date | null | undefined): string | null => (d == null ? null : d.toISOString());
