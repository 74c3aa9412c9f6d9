import type { FollowUpView, NoticeView, OutcomeView, RegisterEntryView } from '../../../contract/views/afterSitting.ts';
import type { BridgePointView } from '../../../contract/views/bridgePoint.ts';
import type { CaseView } from '../../../contract/views/case.ts';
import type { InvitationView } from '../../../contract/views/invitation.ts';
import type { Paged } from '../../../contract/views/paged.ts';
import type { MatrixView } from '../../../contract/views/preflight.ts';
import type { Job, RecordingSummary } from '../../../contract/views/recording.ts';
import type { SessionView } from '../../../contract/views/session.ts';
import type { ApiKeyView } from '../../../contract/views/user.ts';

/**
 * What each control-API GET the console makes answers, by route pattern (`:x` is one path segment).
 * `api.get(path)` looks the path up here, so a page gets the contract's view for it instead of
 * asserting a type of its own; a path not listed answers `unknown` unless the caller names its type.
 * Types only: nothing here reaches the bundle.
 */
export interface ConsoleGets {
  '/sessions': Paged<SessionView>;
  '/sessions/:id': SessionView;
  '/sessions/:id/invitations': InvitationView[];
  '/sessions/:id/outcomes': OutcomeView[];
  '/sessions/:id/conclusion-notices': NoticeView[];
  '/sessions/:id/preflight': MatrixView;
  '/cases': Paged<CaseView>;
  '/cases/:id': CaseView;
  '/bridge-points': Paged<BridgePointView>;
  '/follow-ups': Paged<FollowUpView>;
  '/register': Paged<RegisterEntryView>;
  '/api-keys': ApiKeyView[];
  '/recordings': Paged<RecordingSummary>;
  '/recordings/:sessionId': RecordingSummary;
  '/recordings/jobs/:id': Job;
}

type PathOf<P extends string> = P extends `${infer Base}?${string}` ? Base : P;
type Segments<P extends string> = P extends `${infer Head}/${infer Rest}` ? [Head, ...Segments<Rest>] : [P];
type SegmentsMatch<Path extends unknown[], Pattern extends unknown[]> = Path extends [infer A, ...infer RestA]
  ? Pattern extends [infer B, ...infer RestB]
    ? B extends `:${string}`
      ? A extends '' ? false : SegmentsMatch<RestA, RestB>
      : [A] extends [B] ? SegmentsMatch<RestA, RestB> : false
    : false
  : Pattern extends [] ? true : false;

/** The patterns of ConsoleGets a concrete path matches (a literal segment wins over a `:x` one). */
type Matching<P extends string> = { [K in keyof ConsoleGets & string]: SegmentsMatch<Segments<PathOf<P>>, Segments<K>> extends true ? K : never }[keyof ConsoleGets & string];
type Literal<K> = K extends `${string}:${string}` ? never : K;

/** The view `GET path` answers, or `unknown` for a path ConsoleGets does not list. */
export type GetAnswer<P extends string> = [Matching<P>] extends [never]
  ? unknown
  : [Literal<Matching<P>>] extends [never]
    ? ConsoleGets[Matching<P>]
    : ConsoleGets[Literal<Matching<P>>];
