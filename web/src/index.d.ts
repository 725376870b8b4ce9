// Types for @hearth/web (hand-written; the implementation is src/index.js).
export { GatewayClient, GatewayClientOptions, GatewayError, validateBaseUrl } from "./gateway.js";
export { PromptError, PromptResolver, PromptResolverOptions, PromptUsage, RenderedPrompt, ResolvedPrompt, bindPromptVariables, isPromptRef, parsePromptRef, promptUsage } from "./prompts.js";

export type Artifact = "auto" | "threads" | "single" | "webgpu";
export type Backend = "auto" | "cpu" | "webgpu";

export interface WebGpuAdapterInfo {
  available: boolean;
  reason?: string;
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
  shaderF16?: boolean;
  subgroups?: boolean;
  maxStorageBufferBindingSize?: number;
  maxBufferSize?: number;
}

export interface RuntimeInfo {
  artifact: "threads" | "single" | "webgpu";
  threads: number;
  simd: string;                 // "wasm-simd128"
  crossOriginIsolated: boolean;
  backend: "cpu" | "webgpu";    // what runs the model (updated by loadModel: auto may fall back to the CPU)
  requestedBackend: Backend;
  backendReason: string;        // why that backend
  webgpu: WebGpuAdapterInfo;    // the adapter found, reported even when the CPU runs
}

export interface CreateOptions {
  artifact?: Artifact;          // default auto: webgpu when backend allows it and a hardware adapter exists,
                                // else threads when cross-origin isolated, else single
  backend?: Backend;            // default auto (a software adapter such as SwiftShader is not picked by auto)
  distUrl?: string;             // where hearth-*.{js,wasm} live (default: ../dist/ next to src/)
  workerUrl?: string;
}

export interface Progress {
  phase: "download" | "load";
  loaded: number;               // bytes (download) or a fraction (load)
  total?: number;               // bytes (download, when known) or 1 (load)
}

export interface LoadModelOptions {
  url?: string;
  file?: Blob & { name?: string };
  key?: string;                 // storage name in OPFS (default: from the URL or file name)
  name?: string;
  onProgress?: (p: Progress) => void;
  shardThreshold?: number;      // files above this are stored as shards (default 2 GiB)
  shardSize?: number;           // bytes per shard (default 512 MiB)
  ctx?: number;                 // context length (default min(trained, 4096))
  batch?: number;               // prefill batch (default 256)
}

export interface ModelInfo {
  key: string;
  arch: string;
  name: string;
  nParams: number;
  weightBytes: number;
  nVocab: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  nFf: number;
  nCtxTrain: number;
  nCtx: number;
  threads: number;
  simd: string;
  hasChatTemplate: boolean;
  backend?: "cpu" | "webgpu";   // what runs this model
  gpu?: string;                 // the WebGPU adapter's description (empty on the CPU)
  backendNote?: string;         // why auto chose the CPU, when it did
  size: number;
  shards: number;
  loadSeconds: number;
  cached: boolean;              // true: read from OPFS with no download
}

export interface RequestOptions {
  maxTokens?: number;           // default 128
  temperature?: number;         // <= 0: greedy (default 0.8)
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  penaltyLastN?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  seed?: number;
  stop?: string[];
  ignoreEos?: boolean;
  signal?: AbortSignal;
  onText?: (text: string) => void;
  promptSource?: { usage: import("./prompts.js").PromptUsage };   // recorded as usage.prompt
}

export interface QueryRequest extends RequestOptions {
  prompt?: string;              // raw text: BOS per the vocabulary, special tokens parsed
  promptTokens?: number[];
}

export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool" | string;
  content: string;
}

export interface ChatRequest extends RequestOptions {
  messages: ChatMessage[];
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  prefillSeconds: number;
  decodeSeconds: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  prompt?: import("./prompts.js").PromptUsage;   // the request's promptSource: which prompt version drove it
}

export interface Response {
  tokens: number[];
  promptTokens: number[];
  prompt?: string;              // the rendered prompt text (chat)
  text: string;
  finishReason: "stop" | "length" | "cancelled" | string;
  usage: Usage;
}

export interface Piece {
  text: string;
  tokens?: number[];
}

// A request in flight: `for await (const piece of run)`; `result` resolves when it ends.
export declare class Run<R = Response> implements AsyncIterable<Piece> {
  readonly result: Promise<R>;
  // Engine runs only: the worker's own end of the run, also after an abort (finishReason "cancelled"
  // once the abort reached it; without cross-origin isolation it runs to its token limit unseen).
  readonly settled?: Promise<R>;
  [Symbol.asyncIterator](): AsyncIterator<Piece>;
}

export declare class Hearth {
  static create(options?: CreateOptions): Promise<Hearth>;
  readonly runtime: RuntimeInfo;
  readonly model: ModelInfo | null;
  loadModel(options: LoadModelOptions): Promise<ModelInfo>;
  query(request: QueryRequest): Run;
  chat(request: ChatRequest): Run;
  embed(request: { inputs: string[]; normalize?: boolean }): Promise<number[][]>;
  tokenize(text: string): Promise<number[]>;
  applyChatTemplate(messages: ChatMessage[], addGenerationPrompt?: boolean): Promise<string>;
  reset(): Promise<boolean>;
  listModels(): Promise<{ key: string; name: string; size: number; shards: number }[]>;
  removeModel(key: string): Promise<void>;
  digest(key: string): Promise<{ sha256: string; manifest: object }>;
  terminate(): void;
}
