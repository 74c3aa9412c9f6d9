import { LiveClient } from './LiveClient.ts';
import { SignalingError } from './SignalingSocket.ts';

export { LiveClient, SignalingError };
export type * from './LiveClient.ts';

// The bundle is an IIFE for plain pages: `new tiepdan.LiveClient({...})`.
Object.assign(globalThis, { tiepdan: { LiveClient, SignalingError } });
