import { Code, ConnectError } from "@connectrpc/connect";
import { anyIs, anyUnpack } from "@bufbuild/protobuf/wkt";
import type { Any } from "@bufbuild/protobuf/wkt";
import { BadRequestSchema, ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";
import type { Status } from "./gen/google/rpc/status_pb.js";

/** ErrorInfo reasons set by privacyvault (domain "privacyvault.dev"). */
export const Reason = {
  TokenExpired: "TOKEN_EXPIRED",
  TokenNotFound: "TOKEN_NOT_FOUND",
  ConsentRequired: "CONSENT_REQUIRED",
  KeyVersionRetired: "KEY_VERSION_RETIRED",
  QuotaExceeded: "QUOTA_EXCEEDED",
  BatchTooLarge: "BATCH_TOO_LARGE",
} as const;

/** A field violation of a google.rpc.BadRequest, e.g. items[3].value. */
export interface FieldViolation {
  field: string;
  description: string;
}

interface Details {
  reason?: string;
  metadata: Record<string, string>;
  fieldViolations: FieldViolation[];
}

/**
 * An error from the sidecar: the gRPC code (connect's Code has the gRPC
 * numbering), the message, the ErrorInfo reason and field violations.
 */
export class PrivacyVaultError extends Error {
  readonly code: Code;
  readonly reason?: string;
  readonly metadata: Record<string, string>;
  readonly fieldViolations: FieldViolation[];

  constructor(code: Code, message: string, details: Details) {
    super(`${Code[code] ?? code}: ${message}`);
    this.name = new.target.name;
    this.code = code;
    this.reason = details.reason;
    this.metadata = details.metadata;
    this.fieldViolations = details.fieldViolations;
  }

  /** The token existed but its retention (class or TTL) has passed. */
  get isTokenExpired(): boolean {
    return this.reason === Reason.TokenExpired;
  }

  /** The token is unknown: never issued here, deleted or erased. */
  get isTokenNotFound(): boolean {
    return this.reason === Reason.TokenNotFound;
  }
}

/** The call as a whole failed (credentials, permission, request shape). */
export class CallError extends PrivacyVaultError {
  /** Results of the parts of a split batch done before this error. */
  partialResults?: unknown[];
}

/** One item of a batch failed; index is its position in the batch. */
export class ItemError extends PrivacyVaultError {
  readonly index: number;

  constructor(index: number, code: Code, message: string, details: Details) {
    super(code, message, details);
    this.index = index;
    this.message = `item ${index}: ${this.message}`;
  }
}

function fromAnys(anys: Any[]): Details {
  const d: Details = { metadata: {}, fieldViolations: [] };
  for (const a of anys) {
    if (anyIs(a, ErrorInfoSchema)) {
      const info = anyUnpack(a, ErrorInfoSchema);
      d.reason = info?.reason;
      d.metadata = { ...(info?.metadata ?? {}) };
    } else if (anyIs(a, BadRequestSchema)) {
      const br = anyUnpack(a, BadRequestSchema);
      for (const v of br?.fieldViolations ?? []) {
        d.fieldViolations.push({ field: v.field, description: v.description });
      }
    }
  }
  return d;
}

/** itemError builds the ItemError of a per-item google.rpc.Status. */
export function itemError(index: number, st: Status): ItemError {
  return new ItemError(index, st.code as Code, st.message, fromAnys(st.details));
}

/** callError turns a failed call into a CallError with its rich details. */
export function callError(e: unknown): CallError {
  const ce = ConnectError.from(e);
  const d: Details = { metadata: {}, fieldViolations: [] };
  const info = ce.findDetails(ErrorInfoSchema)[0];
  if (info) {
    d.reason = info.reason;
    d.metadata = { ...info.metadata };
  }
  for (const br of ce.findDetails(BadRequestSchema)) {
    for (const v of br.fieldViolations) {
      d.fieldViolations.push({ field: v.field, description: v.description });
    }
  }
  return new CallError(ce.code, ce.rawMessage, d);
}
