export declare const MIN_NODE_MAJOR: number;
export declare function checkNodeVersion(version: string): { ok: boolean; message: string };
export declare function assertSupportedRuntime(): void;
