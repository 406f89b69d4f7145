// Live tests against a real sidecar started by `make sdk-test`
// (scripts/sdk-test.sh): examples/config.yaml in dev mode with max_batch 5.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { CallError, Code, DEFAULT_MAX_BATCH, ItemError, PrivacyVault, Reason, RevealLevel, type TokenizeItem } from "../src/index.js";

const CHECKOUT = "dev-checkout-token-0001";
const OPS = "dev-ops-token-00000004";
const DPO = "dev-dpo-token-00000005";
const MAX_BATCH = 5;

const address = process.env.PRIVACYVAULT_ADDR;
if (!address) {
  throw new Error("PRIVACYVAULT_ADDR is not set: run these tests with `make sdk-test`, which starts a sidecar");
}
const vault = (bearerToken?: string, maxBatch?: number) => new PrivacyVault({ address, insecure: true, bearerToken, maxBatch });
const text = (b?: Uint8Array) => new TextDecoder().decode(b);
const unique = (p: string) => `${p}-${randomUUID().slice(0, 12)}`;

async function rejectsWith<E extends Error>(p: Promise<unknown>, cls: new (...a: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof cls, `error ${e} is not a ${cls.name}`);
    return e as E;
  }
  assert.fail(`promise resolved, want a ${cls.name}`);
}

test("round trips for random, deterministic and fpe classes", async () => {
  const pv = vault(CHECKOUT);
  for (const [cls, value] of [
    ["card_number", "4111 1111 1111 1111"],
    ["email", "alice@example.com"],
    ["account_number", "12345678901"],
  ]) {
    const tok = await pv.tokenize(cls, value);
    assert.ok(!tok.includes(value), `token of ${cls} contains the value`);
    const got = await pv.detokenize("payment", cls, tok);
    assert.equal(text(got.value), value);
    assert.equal(got.level, RevealLevel.PLAIN);
  }
  const email = await pv.tokenize("email", "carol@example.com");
  assert.equal(await pv.lookup("email", "carol@example.com"), email);
  const fpe = await pv.tokenize("account_number", "12345678901", { context: "tenant-a" });
  assert.match(fpe, /^\d{11}$/);
  assert.equal(text((await pv.detokenize("payment", "account_number", fpe, { context: "tenant-a" })).value), "12345678901");
});

test("a purpose without a grant is denied per item", async () => {
  const pv = vault(CHECKOUT);
  const tok = await pv.tokenize("card_number", "4111111111111111");
  const e = await rejectsWith(pv.detokenize("analytics", "card_number", tok), ItemError);
  assert.equal(e.code, Code.PermissionDenied);
  assert.equal(e.index, 0);
});

test("a consent-requiring purpose needs the subject's consent", async () => {
  const pv = vault(CHECKOUT);
  const subject = unique("cust");
  const tok = await pv.tokenize("email", `${subject}@example.com`, { subject });
  const e = await rejectsWith(pv.detokenize("marketing", "email", tok), ItemError);
  assert.equal(e.code, Code.PermissionDenied);
  assert.equal(e.reason, Reason.ConsentRequired);
  const rec = await vault(DPO).setConsent(subject, "marketing", "consent");
  assert.equal(rec?.live, true);
  assert.equal(text((await pv.detokenize("marketing", "email", tok)).value), `${subject}@example.com`);
});

test("subject export and rectification", async () => {
  const pv = vault(CHECKOUT);
  const dpo = vault(DPO);
  const subject = unique("dsar");
  const tok = await pv.tokenize("card_number", "4111111111111111", { subject });
  await dpo.rectifyToken("card_number", tok, "5555555555554444");
  const tokens = await dpo.exportSubject(subject);
  assert.deepEqual(tokens.map((t) => [t.class, t.token, text(t.value)]), [["card_number", tok, "5555555555554444"]]);
});

test("a batch with one bad item", async () => {
  const res = await vault(CHECKOUT).tokenizeBatch([
    { class: "card_number", value: "4111111111111111" },
    { class: "no_such_class", value: "x" },
    { class: "email", value: "dave@example.com" },
  ]);
  assert.ok(res[0].token && res[2].token && res[1].token === undefined);
  const err = res[1].error;
  assert.ok(err instanceof ItemError);
  assert.equal(err.index, 1);
  assert.equal(err.code, Code.InvalidArgument);
  assert.deepEqual(err.fieldViolations.map((v) => v.field), ["items[1].class"]);
});

for (const maxBatch of [DEFAULT_MAX_BATCH, 2]) {
  test(`batches over the server limit are split (client maxBatch ${maxBatch})`, async () => {
    const pv = vault(CHECKOUT, maxBatch);
    const n = 3 * MAX_BATCH + 1;
    const values = Array.from({ length: n }, (_, i) => `ts${i}-${randomUUID().slice(0, 6)}@example.com`);
    const items: TokenizeItem[] = values.map((value) => ({ class: "email", value }));
    items[7] = { class: "no_such_class", value: "x" };
    const res = await pv.tokenizeBatch(items);
    assert.equal(res.length, n);
    assert.equal(res[7].error?.index, 7);
    const got = await pv.detokenizeBatch(
      "payment",
      res.filter((_, i) => i !== 7).map((r) => ({ class: "email", token: r.token ?? "" })),
    );
    assert.deepEqual(got.map((g) => text(g.value)), values.filter((_, i) => i !== 7));
  });
}

test("bearer authentication", async () => {
  for (const token of [undefined, "not-a-token"]) {
    const e = await rejectsWith(vault(token).tokenize("email", "eve@example.com"), CallError);
    assert.equal(e.code, Code.Unauthenticated);
  }
});

test("admin calls", async () => {
  const classes = (await vault(OPS).keyStatus()).map((s) => s.class);
  for (const c of ["card_number", "email", "account_number"]) assert.ok(classes.includes(c), `key status lacks ${c}`);
  assert.equal((await vault(OPS).verifyAudit()).ok, true);
  const e = await rejectsWith(vault(CHECKOUT).keyStatus(), CallError);
  assert.equal(e.code, Code.PermissionDenied);
});

test("expired and not-found tokens are told apart", async () => {
  const pv = vault(CHECKOUT);
  const tok = await pv.tokenize("card_number", "4111111111111111", { ttlMs: 1 });
  let err: ItemError | undefined;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    // poll, bounded, until the TTL passed on the server
    try {
      await pv.detokenize("payment", "card_number", tok);
    } catch (e) {
      err = e as ItemError;
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(err instanceof ItemError);
  assert.equal(err.code, Code.NotFound);
  assert.ok(err.isTokenExpired && !err.isTokenNotFound);

  const subject = unique("gone");
  const gone = await pv.tokenize("card_number", "4111111111111111", { subject });
  await vault(DPO).eraseSubject(subject);
  const e = await rejectsWith(pv.detokenize("payment", "card_number", gone), ItemError);
  assert.ok(e.isTokenNotFound && !e.isTokenExpired);
});

test("a transport choice is required", () => {
  assert.throws(() => new PrivacyVault({ address: "127.0.0.1:1" }), /tls or insecure/);
});
