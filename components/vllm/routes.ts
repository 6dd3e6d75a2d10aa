/**
 * The routes vLLM's OpenAI-compatible server mounts, as far as who may call
 * them goes. Pure vLLM knowledge, no Pulumi.
 *
 * vLLM checks `--api-key` / VLLM_API_KEY only for paths that start with /v1:
 * its AuthenticationMiddleware is a path-prefix test
 * (vllm/entrypoints/openai/server_utils.py in 0.21.0). Every route below is
 * mounted outside /v1 and answers without the key; most run inference
 * (vllm-project/vllm#58144 measures a full completion through /invocations
 * with no key, on 0.27.1 and 0.29.0). The gateway forwards none of them;
 * `npm run validate` proves each is refused.
 */
export interface UnguardedRoute {
  method: "GET" | "POST";
  path: string;
  /** A small body vLLM accepts, so "answered" means it ran. */
  body?: unknown;
  /** What a caller gets from it without the key. */
  gives: string;
  /** Mounted only with VLLM_SERVER_DEV_MODE=1. */
  devMode?: boolean;
}

const chat = { messages: [{ role: "user", content: "Say hi." }], max_tokens: 8 };

export const UNGUARDED_ROUTES: readonly UnguardedRoute[] = [
  { method: "POST", path: "/invocations", body: chat, gives: "a chat or completion (SageMaker entry point)" },
  { method: "POST", path: "/inference/v1/generate", body: { token_ids: [9707], sampling_params: { max_tokens: 8 } }, gives: "token generation (PR #42064)" },
  { method: "POST", path: "/pooling", body: { input: "hi" }, gives: "pooling" },
  { method: "POST", path: "/classify", body: { input: "hi" }, gives: "classification" },
  { method: "POST", path: "/score", body: { text_1: "a", text_2: "b" }, gives: "scoring" },
  { method: "POST", path: "/rerank", body: { query: "a", documents: ["b"] }, gives: "reranking" },
  { method: "POST", path: "/tokenize", body: { prompt: "hi" }, gives: "the tokenizer" },
  { method: "POST", path: "/detokenize", body: { tokens: [9707] }, gives: "the tokenizer" },
  { method: "POST", path: "/scale_elastic_ep", body: { new_data_parallel_size: 2 }, gives: "rescaling the engine" },
  { method: "POST", path: "/sleep", gives: "putting the engine to sleep", devMode: true },
  { method: "POST", path: "/wake_up", gives: "waking the engine", devMode: true },
  { method: "GET", path: "/is_sleeping", gives: "whether the engine sleeps (standby)", devMode: true },
  { method: "POST", path: "/collective_rpc", body: { method: "noop" }, gives: "running a method on every worker", devMode: true },
  { method: "POST", path: "/update_weights", body: {}, gives: "replacing the weights", devMode: true },
  { method: "POST", path: "/reset_prefix_cache", gives: "resetting the prefix cache", devMode: true },
];

/** What vLLM itself guards with the key: every path under /v1. */
export const GUARDED_PREFIX = "/v1";

/** vLLM's liveness route: no key, no model call; load balancers and the ready gate use it. */
export const HEALTH_PATH = "/health";

/** Read-only routes outside /v1 an operator may choose to expose (gateway.expose). */
export const OPTIONAL_PATHS = ["/metrics", "/version"] as const;
export type OptionalPath = (typeof OPTIONAL_PATHS)[number];
