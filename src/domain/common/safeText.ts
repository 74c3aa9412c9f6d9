import { z } from 'zod';

/** An unpaired UTF-16 surrogate: JSON can carry one ("\ud800"), UTF-8 and PostgreSQL cannot. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True for text PostgreSQL stores as it is: no NUL (text and jsonb refuse it), no lone surrogate. */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}

/**
 * Every free-text field of the control API: bounded, and refused with a 400 (VALIDATION_FAILED)
 * when it holds what the database would refuse with an error mid-transaction (security review
 * L13: "a\u0000b" or a lone "\ud800" gave a 500). Chain .trim(), .min(), .default() as with
 * z.string().
 */
export function safeText(max: number) {
  return z.string().max(max).refine(isStorableText, { message: 'must not contain NUL characters or unpaired surrogates' });
}
