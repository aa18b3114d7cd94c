// The table of operation handlers the HTTP layer dispatches to. Handlers receive the bound, validated
// input and return the operation's output; the codec writes it.
import type { OperationName } from './generated/model.js';
import type { OperationTypes } from './generated/types.js';
import type { Identity } from './identity.js';

export interface RequestContext {
  readonly identity: Identity;
  readonly requestId: string;
  /** http://host:port as the caller reached us, for URLs handed back. */
  readonly baseUrl: string;
  /** The request's X-Amzn-Trace-Id (the SDKs inside a function send theirs): carries the recursion lineage. */
  readonly traceHeader?: string;
}

export type Handler<N extends OperationName> = (
  input: OperationTypes[N]['input'],
  ctx: RequestContext,
) => OperationTypes[N]['output'] | void | Promise<OperationTypes[N]['output'] | void>;

export type Handlers = { readonly [N in OperationName]?: Handler<N> };
