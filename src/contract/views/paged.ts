import { z } from 'zod';

/** The list envelope of every paged control-API answer (`?limit=&offset=`). */
export const paged = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });

export interface Paged<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}
