// mTLS against the second sidecar of `make sdk-test`: callers are the SPIFFE
// IDs of their client certificates (spiffe://sdk.test/checkout has a grant,
// .../stranger none).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CallError, Code, ItemError, PrivacyVault, RevealLevel } from "../src/index.js";

const address = process.env.PRIVACYVAULT_MTLS_ADDR;
const dir = process.env.PRIVACYVAULT_TLS_DIR;
if (!address || !dir) {
  throw new Error("PRIVACYVAULT_MTLS_ADDR and PRIVACYVAULT_TLS_DIR are not set: run with `make sdk-test`");
}
const read = (name: string) => readFileSync(join(dir, name));
const vault = (client?: string) =>
  new PrivacyVault({
    address,
    tls: client ? { ca: read("ca.pem"), cert: read(`${client}.pem`), key: read(`${client}-key.pem`) } : { ca: read("ca.pem") },
  });

test("mTLS: the client certificate is the caller", async () => {
  const pv = vault("checkout");
  const tok = await pv.tokenize("card_number", "4111111111111111");
  const got = await pv.detokenize("payment", "card_number", tok);
  assert.equal(new TextDecoder().decode(got.value), "4111111111111111");
  assert.equal(got.level, RevealLevel.PLAIN);

  await assert.rejects(vault("stranger").detokenize("payment", "card_number", tok), (e) => e instanceof ItemError && e.code === Code.PermissionDenied);
  await assert.rejects(vault().tokenize("card_number", "4111111111111111"), (e) => e instanceof CallError && e.code === Code.Unauthenticated);
});
