// Types for the browser's prompt:// resolver (src/prompts.js).

type ValueProvider = string | (() => string | Promise<string>);

export type PromptVarType = "string" | "integer" | "number" | "boolean" | "array" | "object";

export interface PromptVariable {
  type: PromptVarType;
  default?: unknown;            // absent: the caller must supply it
  description?: string;
}

// What a run records: stage is null when the reference named a version number.
export interface PromptUsage {
  name: string;
  version: number;
  hash: string;                 // sha256 of the version's content
  stage: string | null;
  stale: boolean;               // served from the last-known-good copy: the registry could not be reached
}

export interface ResolvedPrompt extends PromptUsage {
  template: string;             // Jinja
  variables: Record<string, PromptVariable>;
  hints: Record<string, unknown>;
}

export interface RenderedPrompt {
  text: string;
  usage: PromptUsage;           // pass {usage} as a request's promptSource
  prompt: ResolvedPrompt;
}

export interface PromptResolverOptions {
  registryUrl: string;          // https://..., or http:// to a loopback host only
  token?: ValueProvider;        // bearer token with read rights, or a function returning it (called per request)
  ttlMs?: number;               // served from the cache without asking within this time (default 30000)
  timeoutMs?: number;           // per registry request (default 2000)
  maxEntries?: number;          // cached references per caller key (default 1000)
  storage?: Pick<Storage, "getItem" | "setItem">;   // e.g. localStorage: last-known-good survives a reload
  jinja?: { Template: new (source: string) => { render(context: object): string } };   // @huggingface/jinja
  fetch?: typeof fetch;
  now?: () => number;           // milliseconds clock (default performance.now)
}

export declare class PromptError extends Error {
  readonly status?: number;     // the registry's HTTP status; 0: unreachable
  readonly code?: string;       // the registry's error code, e.g. "not_found"
}

export declare class PromptResolver {
  constructor(options: PromptResolverOptions);
  readonly registryUrl: string;
  // prompt://name@stage | prompt://name@3 | prompt://name (= @prod); caller: the A/B split key.
  resolve(ref: string, options?: { caller?: string }): Promise<ResolvedPrompt>;
  render(prompt: ResolvedPrompt, variables?: Record<string, unknown>): Promise<string>;
  resolveAndRender(ref: string, variables?: Record<string, unknown>, options?: { caller?: string }): Promise<RenderedPrompt>;
}

export declare function isPromptRef(text: unknown): boolean;
export declare function parsePromptRef(ref: string): { name: string; stage: string; version: number };
export declare function bindPromptVariables(declared: Record<string, PromptVariable>, given?: Record<string, unknown> | null): Record<string, unknown>;
export declare function promptUsage(prompt: PromptUsage): PromptUsage;
