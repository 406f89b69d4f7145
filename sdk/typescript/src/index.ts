/**
 * TypeScript client for the privacyvault sidecar, over gRPC
 * (@connectrpc/connect-node) with code generated from proto/ by
 * @bufbuild/protoc-gen-es.
 */
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { TokenService, RevealLevel } from "./gen/privacyvault/v1/token_pb.js";
import { SubjectService, type ConsentRecord, type ErasureReceipt, type SubjectToken } from "./gen/privacyvault/v1/subject_pb.js";
import { AdminService, type ClassKeyStatus, type SubjectAccess, type VerifyAuditResponse } from "./gen/privacyvault/v1/admin_pb.js";
import { CallError, ItemError, PrivacyVaultError, Reason, callError, itemError } from "./errors.js";
import type { Status } from "./gen/google/rpc/status_pb.js";

export { CallError, ItemError, PrivacyVaultError, Reason, RevealLevel };
export type { FieldViolation } from "./errors.js";
export type { ConsentRecord, ErasureReceipt, SubjectToken, ClassKeyStatus, SubjectAccess, VerifyAuditResponse };
export { Code } from "@connectrpc/connect";

/** The server's default batch limit (server.max_batch). */
export const DEFAULT_MAX_BATCH = 10000;

const MAX_MESSAGE_BYTES = 64 << 20; // the server's message cap

/** PEM material for TLS; with cert and key the client presents a certificate (mTLS). */
export interface TLSOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Name checked against the server certificate, when not the host. */
  serverName?: string;
}

export interface PrivacyVaultOptions {
  /** host:port of the sidecar. */
  address: string;
  /** Sent as "authorization: Bearer <token>" on every call. */
  bearerToken?: string;
  /** TLS (and mTLS) settings. One of tls and insecure is required. */
  tls?: TLSOptions;
  /** Plaintext: fit only for loopback, where sidecar and service share a host. */
  insecure?: boolean;
  /**
   * Most items sent in one call (default DEFAULT_MAX_BATCH). Larger batches
   * are split; a server with a lower limit says so when it refuses a part,
   * and the client then splits to that.
   */
  maxBatch?: number;
  /** A transport of your own (tests, custom interceptors); address, tls and insecure are then unused. */
  transport?: Transport;
}

/** Optional fields of one value. */
export interface ItemOptions {
  /** The data subject (customer id) the value belongs to. */
  subject?: string;
  /** Mixed into the tweak of fpe and hash classes; detokenize needs it again. */
  context?: string;
  /** The 7-byte tweak of ff3-1 classes. */
  tweak?: Uint8Array;
  /** Retention shorter than the class's, in milliseconds (vaulted classes). */
  ttlMs?: number;
}

export type Value = Uint8Array | string;

export interface TokenizeItem extends ItemOptions {
  class: string;
  value: Value;
}

export interface DetokenizeItem {
  class: string;
  token: string;
  context?: string;
  tweak?: Uint8Array;
  subject?: string;
}

/** The token of one item, or its error. */
export interface TokenResult {
  token?: string;
  error?: ItemError;
}

/** The value behind one token at the level policy allowed, or its error. */
export interface Revealed {
  value?: Uint8Array;
  level: RevealLevel;
  error?: ItemError;
}

const utf8 = new TextEncoder();
const bytes = (v: Value): Uint8Array => (typeof v === "string" ? utf8.encode(v) : v);

export class PrivacyVault {
  private readonly tokens: Client<typeof TokenService>;
  private readonly subjects: Client<typeof SubjectService>;
  private readonly admin: Client<typeof AdminService>;
  private maxBatch: number;

  constructor(opts: PrivacyVaultOptions) {
    const transport = opts.transport ?? PrivacyVault.transport(opts);
    this.tokens = createClient(TokenService, transport);
    this.subjects = createClient(SubjectService, transport);
    this.admin = createClient(AdminService, transport);
    this.maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
  }

  private static transport(opts: PrivacyVaultOptions): Transport {
    const interceptors: Interceptor[] = [];
    if (opts.bearerToken) {
      const value = `Bearer ${opts.bearerToken}`;
      interceptors.push((next) => (req) => {
        req.header.set("authorization", value);
        return next(req);
      });
    }
    const common = { interceptors, readMaxBytes: MAX_MESSAGE_BYTES, writeMaxBytes: MAX_MESSAGE_BYTES };
    if (opts.tls) {
      const { ca, cert, key, serverName } = opts.tls;
      return createGrpcTransport({ ...common, baseUrl: `https://${opts.address}`, nodeOptions: { ca, cert, key, servername: serverName } });
    }
    if (opts.insecure) {
      return createGrpcTransport({ ...common, baseUrl: `http://${opts.address}` });
    }
    throw new Error("privacyvault: set tls or insecure: true");
  }

  private async call<R>(f: () => Promise<R>): Promise<R> {
    try {
      return await f();
    } catch (e) {
      throw callError(e);
    }
  }

  /** Sends items in parts of at most maxBatch, learning a lower server limit from its refusal. */
  private async inBatches<T, R>(items: T[], call: (part: T[], offset: number) => Promise<R[]>): Promise<R[]> {
    if (items.length === 0) return call(items, 0); // the server says why an empty batch is wrong
    const out: R[] = [];
    let done = 0;
    while (done < items.length) {
      const end = Math.min(done + this.maxBatch, items.length);
      try {
        out.push(...(await call(items.slice(done, end), done)));
      } catch (e) {
        if (e instanceof CallError) {
          const limit = Number(e.metadata["max_batch"]);
          if (e.reason === Reason.BatchTooLarge && limit > 0 && limit < end - done) {
            this.maxBatch = limit; // a refused call did nothing: retry split
            continue;
          }
          if (done > 0) e.partialResults = out;
        }
        throw e;
      }
      done = end;
    }
    return out;
  }

  private static check(results: unknown[], n: number): void {
    if (results.length !== n) throw new Error(`privacyvault: server returned ${results.length} results for ${n} items`);
  }

  private static tokenResults(results: { result: { case: "token"; value: string } | { case: "error"; value: Status } | { case: undefined; value?: undefined } }[], n: number, offset: number): TokenResult[] {
    PrivacyVault.check(results, n);
    return results.map((r, i) => (r.result.case === "error" ? { error: itemError(offset + i, r.result.value) } : { token: r.result.value ?? "" }));
  }

  /** Tokenizes items; per-item errors are in the results. */
  tokenizeBatch(items: TokenizeItem[]): Promise<TokenResult[]> {
    return this.inBatches(items, async (part, offset) => {
      const resp = await this.call(() =>
        this.tokens.tokenize({
          items: part.map((it) => ({
            class: it.class,
            value: bytes(it.value),
            context: it.context ?? "",
            tweak: it.tweak ?? new Uint8Array(),
            subjectId: it.subject ?? "",
            ttl: it.ttlMs !== undefined ? durationFromMs(it.ttlMs) : undefined,
          })),
        }),
      );
      return PrivacyVault.tokenResults(resp.results, part.length, offset);
    });
  }

  /** Tokenizes one value; throws ItemError when the item fails. */
  async tokenize(dataClass: string, value: Value, opts: ItemOptions = {}): Promise<string> {
    const [r] = await this.tokenizeBatch([{ ...opts, class: dataClass, value }]);
    if (r.error) throw r.error;
    return r.token ?? "";
  }

  /** Resolves tokens for purpose; per-item errors are in the results. */
  detokenizeBatch(purpose: string, items: DetokenizeItem[]): Promise<Revealed[]> {
    return this.inBatches(items, async (part, offset) => {
      const resp = await this.call(() =>
        this.tokens.detokenize({
          purpose,
          items: part.map((it) => ({
            class: it.class,
            token: it.token,
            context: it.context ?? "",
            tweak: it.tweak ?? new Uint8Array(),
            subjectId: it.subject ?? "",
          })),
        }),
      );
      PrivacyVault.check(resp.results, part.length);
      return resp.results.map((r, i): Revealed =>
        r.error ? { level: RevealLevel.UNSPECIFIED, error: itemError(offset + i, r.error) } : { value: r.revealed?.value, level: r.revealed?.level ?? RevealLevel.UNSPECIFIED },
      );
    });
  }

  /** Resolves one token; throws ItemError when the item fails. */
  async detokenize(purpose: string, dataClass: string, token: string, opts: Omit<ItemOptions, "ttlMs"> = {}): Promise<Revealed> {
    const [r] = await this.detokenizeBatch(purpose, [{ ...opts, class: dataClass, token }]);
    if (r.error) throw r.error;
    return r;
  }

  /** Existing tokens of values in deterministic classes (NotFound: never tokenized). */
  lookupBatch(items: TokenizeItem[]): Promise<TokenResult[]> {
    return this.inBatches(items, async (part, offset) => {
      const resp = await this.call(() =>
        this.tokens.lookup({ items: part.map((it) => ({ class: it.class, value: bytes(it.value), subjectId: it.subject ?? "" })) }),
      );
      return PrivacyVault.tokenResults(resp.results, part.length, offset);
    });
  }

  /** The existing token of one value; throws ItemError when there is none. */
  async lookup(dataClass: string, value: Value, opts: Pick<ItemOptions, "subject"> = {}): Promise<string> {
    const [r] = await this.lookupBatch([{ ...opts, class: dataClass, value }]);
    if (r.error) throw r.error;
    return r.token ?? "";
  }

  // Data subjects (callers listed as subject managers or admins).

  async setConsent(subject: string, purpose: string, lawfulBasis = "", expiresAt?: Date): Promise<ConsentRecord | undefined> {
    const resp = await this.call(() =>
      this.subjects.setConsent({ subjectId: subject, purpose, lawfulBasis, expiresAt: expiresAt ? timestampFromDate(expiresAt) : undefined }),
    );
    return resp.consent;
  }

  async revokeConsent(subject: string, purpose: string): Promise<ConsentRecord | undefined> {
    return (await this.call(() => this.subjects.revokeConsent({ subjectId: subject, purpose }))).consent;
  }

  async listConsents(subject: string): Promise<ConsentRecord[]> {
    return (await this.call(() => this.subjects.listConsents({ subjectId: subject }))).consents;
  }

  async eraseSubject(subject: string): Promise<ErasureReceipt | undefined> {
    return (await this.call(() => this.subjects.eraseSubject({ subjectId: subject }))).receipt;
  }

  /** Every stored token of a subject with its value at the caller's dsar level (right of access). */
  async exportSubject(subject: string): Promise<SubjectToken[]> {
    return this.call(async () => {
      const out: SubjectToken[] = [];
      for await (const resp of this.subjects.exportSubject({ subjectId: subject })) out.push(...resp.tokens);
      return out;
    });
  }

  async rectifyToken(dataClass: string, token: string, value: Value): Promise<void> {
    await this.call(() => this.subjects.rectifyToken({ class: dataClass, token, value: bytes(value) }));
  }

  // Admin (callers listed as admins).

  async keyStatus(): Promise<ClassKeyStatus[]> {
    return (await this.call(() => this.admin.getKeyStatus({}))).classes;
  }

  async rotateKey(dataClass: string): Promise<ClassKeyStatus | undefined> {
    return (await this.call(() => this.admin.rotateKey({ class: dataClass }))).status;
  }

  async verifyAudit(): Promise<VerifyAuditResponse> {
    return this.call(() => this.admin.verifyAudit({}));
  }

  async subjectAccessReport(subject: string): Promise<SubjectAccess[]> {
    return (await this.call(() => this.admin.getSubjectAccessReport({ subjectId: subject }))).accesses;
  }
}
