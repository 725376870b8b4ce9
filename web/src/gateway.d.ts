// Types for the gateway client (src/gateway.js).
import type { ChatMessage, Piece, RequestOptions, Run } from "./index.js";

type ValueProvider = string | (() => string | Promise<string>);

export interface GatewayClientOptions {
  baseUrl: string;                          // https://..., or http:// to a loopback host only
  target?: string;                          // the gateway's name for the model
  token?: ValueProvider;                    // bearer token, or a function returning it (called per request)
  headers?: Record<string, ValueProvider>;  // extra headers; auth-like values are redacted from errors
  maxErrorBodyBytes?: number;               // default 4096
  maxEventBytes?: number;                   // default 1 MiB
  fetch?: typeof fetch;
}

// The engine's request fields (sampling, stop, signal, onText) but promptSource: the gateway records the
// prompt it rendered itself. Plus the gateway's own.
export interface GatewayRequest extends Omit<RequestOptions, "promptSource"> {
  target?: string;
  contextKey?: string;
}

export interface GatewayResponse {
  text: string;
  tokens: number[];
  finishReason: string;
  usage: Record<string, number>;
  id: string;
  target: string;
}

export declare class GatewayError extends Error {
  readonly status?: number;
}

export declare function validateBaseUrl(baseUrl: string): string;
export declare function parseSse(stream: ReadableStream<Uint8Array>, maxEventBytes?: number): AsyncGenerator<{ event: string; data: string }>;

export declare class GatewayClient {
  constructor(options: GatewayClientOptions);
  readonly baseUrl: string;
  query(request: GatewayRequest & { prompt?: string; promptTokens?: number[] }): Run<GatewayResponse>;
  chat(request: GatewayRequest & { messages: ChatMessage[] }): Run<GatewayResponse>;
  embed(request: { inputs: string[]; normalize?: boolean; target?: string; signal?: AbortSignal }): Promise<number[][]>;
  redact(text: string): string;
}
