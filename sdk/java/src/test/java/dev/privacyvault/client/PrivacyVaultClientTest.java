package dev.privacyvault.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.privacyvault.client.Types.DetokenizeItem;
import dev.privacyvault.client.Types.Revealed;
import dev.privacyvault.client.Types.TokenResult;
import dev.privacyvault.client.Types.TokenizeItem;
import dev.privacyvault.v1.ClassKeyStatus;
import dev.privacyvault.v1.RevealLevel;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Live tests against a real sidecar started by {@code make sdk-test}
 * (scripts/sdk-test.sh): examples/config.yaml in dev mode with max_batch 5.
 */
class PrivacyVaultClientTest {
  static final String CHECKOUT = "dev-checkout-token-0001";
  static final String OPS = "dev-ops-token-00000004";
  static final String DPO = "dev-dpo-token-00000005";
  static final int MAX_BATCH = 5;

  static String addr;
  final List<PrivacyVaultClient> open = new ArrayList<>();

  @BeforeAll
  static void sidecar() {
    addr = System.getenv("PRIVACYVAULT_ADDR");
    if (addr == null || addr.isEmpty()) {
      throw new IllegalStateException("PRIVACYVAULT_ADDR is not set: run these tests with `make sdk-test`, which starts a sidecar");
    }
  }

  PrivacyVaultClient client(String bearer, int maxBatch) {
    PrivacyVaultClient c = PrivacyVaultClient.builder(addr).insecure().bearerToken(bearer).maxBatch(maxBatch).build();
    open.add(c);
    return c;
  }

  PrivacyVaultClient client(String bearer) {
    return client(bearer, PrivacyVaultClient.DEFAULT_MAX_BATCH);
  }

  @AfterEach
  void close() {
    open.forEach(PrivacyVaultClient::close);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 12);
  }

  @ParameterizedTest
  @CsvSource({"card_number,4111 1111 1111 1111", "email,alice@example.com", "account_number,12345678901"})
  void roundTrip(String dataClass, String value) {
    PrivacyVaultClient pv = client(CHECKOUT);
    String tok = pv.tokenize(dataClass, value);
    assertFalse(tok.contains(value), "token contains the value");
    Revealed got = pv.detokenize("payment", dataClass, tok);
    assertEquals(value, new String(got.value(), StandardCharsets.UTF_8));
    assertEquals(RevealLevel.REVEAL_LEVEL_PLAIN, got.level());
  }

  @Test
  void futuresAndItemOptions() {
    PrivacyVaultClient pv = client(CHECKOUT);
    String fpe = pv.tokenizeAsync("account_number", utf8("12345678901"), ItemOptions.none().context("tenant-a")).join();
    assertTrue(fpe.matches("\\d{11}"), "fpe token keeps the format: " + fpe.length() + " chars");
    Revealed got = pv.detokenizeAsync("payment", "account_number", fpe, ItemOptions.none().context("tenant-a")).join();
    assertArrayEquals(utf8("12345678901"), got.value());
    String email = pv.tokenize("email", utf8("carol@example.com"), ItemOptions.none().subject("cust-carol"));
    assertEquals(email, pv.lookup("email", "carol@example.com", ItemOptions.none().subject("cust-carol")));
  }

  @Test
  void deniedPurpose() {
    PrivacyVaultClient pv = client(CHECKOUT);
    String tok = pv.tokenize("card_number", "4111111111111111");
    ItemException e = assertThrows(ItemException.class, () -> pv.detokenize("analytics", "card_number", tok));
    assertEquals(Status.Code.PERMISSION_DENIED, e.code());
    assertEquals(0, e.index());
    CompletionException ce = assertThrows(CompletionException.class,
        () -> pv.detokenizeAsync("analytics", "card_number", tok, ItemOptions.none()).join());
    assertTrue(ce.getCause() instanceof ItemException, "future fails with " + ce.getCause());
  }

  @Test
  void consentRequired() {
    PrivacyVaultClient pv = client(CHECKOUT);
    String subject = unique("cust");
    String value = subject + "@example.com";
    String tok = pv.tokenize("email", utf8(value), ItemOptions.none().subject(subject));
    ItemException e = assertThrows(ItemException.class, () -> pv.detokenize("marketing", "email", tok));
    assertEquals(Status.Code.PERMISSION_DENIED, e.code());
    assertEquals(PrivacyVaultException.CONSENT_REQUIRED, e.reason());
    assertTrue(client(DPO).setConsent(subject, "marketing", "consent").getLive());
    assertArrayEquals(utf8(value), pv.detokenize("marketing", "email", tok).value());
  }

  @Test
  void subjectExportAndRectification() {
    PrivacyVaultClient dpo = client(DPO);
    String subject = unique("dsar");
    String tok = client(CHECKOUT).tokenize("card_number", utf8("4111111111111111"), ItemOptions.none().subject(subject));
    dpo.rectifyToken("card_number", tok, utf8("5555555555554444"));
    List<String> got = dpo.exportSubject(subject).stream()
        .map(t -> t.getClass_() + " " + t.getToken() + " " + t.getValue().toStringUtf8()).toList();
    assertEquals(List.of("card_number " + tok + " 5555555555554444"), got);
  }

  @Test
  void batchWithOneBadItem() {
    List<TokenResult> res = client(CHECKOUT).tokenizeBatch(List.of(
        new TokenizeItem("card_number", utf8("4111111111111111")),
        new TokenizeItem("no_such_class", utf8("x")),
        new TokenizeItem("email", utf8("dave@example.com"))));
    assertNotNull(res.get(0).token());
    assertNotNull(res.get(2).token());
    assertNull(res.get(1).token());
    ItemException err = res.get(1).error();
    assertEquals(1, err.index());
    assertEquals(Status.Code.INVALID_ARGUMENT, err.code());
    assertEquals(List.of("items[1].class"), err.fieldViolations().stream().map(PrivacyVaultException.FieldViolation::field).toList());
  }

  @ParameterizedTest
  @ValueSource(ints = {PrivacyVaultClient.DEFAULT_MAX_BATCH, 2})
  void batchesOverTheLimitAreSplit(int maxBatch) {
    PrivacyVaultClient pv = client(CHECKOUT, maxBatch);
    int n = 3 * MAX_BATCH + 1;
    List<String> values = new ArrayList<>();
    List<TokenizeItem> items = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      values.add("java" + i + "-" + UUID.randomUUID().toString().substring(0, 6) + "@example.com");
      items.add(new TokenizeItem("email", utf8(values.get(i))));
    }
    items.set(7, new TokenizeItem("no_such_class", utf8("x")));
    List<TokenResult> res = pv.tokenizeBatch(items);
    assertEquals(n, res.size());
    assertEquals(7, res.get(7).error().index());
    List<DetokenizeItem> det = new ArrayList<>();
    List<String> want = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (i != 7) {
        det.add(new DetokenizeItem("email", res.get(i).token()));
        want.add(values.get(i));
      }
    }
    List<String> got = pv.detokenizeBatch("payment", det).stream()
        .map(r -> new String(r.value(), StandardCharsets.UTF_8)).toList();
    assertEquals(want, got);
  }

  @Test
  void bearerAuth() {
    for (String token : new String[] {null, "not-a-token"}) {
      CallException e = assertThrows(CallException.class, () -> client(token).tokenize("email", "eve@example.com"));
      assertEquals(Status.Code.UNAUTHENTICATED, e.code());
    }
  }

  @Test
  void adminCalls() {
    Set<String> classes = client(OPS).keyStatus().stream().map(ClassKeyStatus::getClass_).collect(Collectors.toSet());
    assertTrue(classes.containsAll(Set.of("card_number", "email", "account_number")), "key status: " + classes);
    assertTrue(client(OPS).verifyAudit().getOk());
    CallException e = assertThrows(CallException.class, () -> client(CHECKOUT).keyStatus());
    assertEquals(Status.Code.PERMISSION_DENIED, e.code());
  }

  @Test
  void expiredAndNotFound() throws InterruptedException {
    PrivacyVaultClient pv = client(CHECKOUT);
    String tok = pv.tokenize("card_number", utf8("4111111111111111"), ItemOptions.none().ttl(Duration.ofMillis(1)));
    ItemException expired = null;
    // Poll, bounded, until the TTL passed on the server.
    for (long deadline = System.nanoTime() + 30_000_000_000L; System.nanoTime() < deadline; Thread.sleep(10)) {
      try {
        pv.detokenize("payment", "card_number", tok);
      } catch (ItemException e) {
        expired = e;
        break;
      }
    }
    assertNotNull(expired, "token never expired");
    assertEquals(Status.Code.NOT_FOUND, expired.code());
    assertTrue(expired.isTokenExpired() && !expired.isTokenNotFound(), "reason " + expired.reason());

    String subject = unique("gone");
    String gone = pv.tokenize("card_number", utf8("4111111111111111"), ItemOptions.none().subject(subject));
    client(DPO).eraseSubject(subject);
    ItemException e = assertThrows(ItemException.class, () -> pv.detokenize("payment", "card_number", gone));
    assertTrue(e.isTokenNotFound() && !e.isTokenExpired(), "reason " + e.reason());
  }

  PrivacyVaultClient mtlsClient(String client) throws java.io.IOException {
    String a = System.getenv("PRIVACYVAULT_MTLS_ADDR");
    String dir = System.getenv("PRIVACYVAULT_TLS_DIR");
    if (a == null || dir == null) {
      throw new IllegalStateException("PRIVACYVAULT_MTLS_ADDR and PRIVACYVAULT_TLS_DIR are not set: run with `make sdk-test`");
    }
    java.io.File d = new java.io.File(dir);
    PrivacyVaultClient c = PrivacyVaultClient.builder(a)
        .tls(new java.io.File(d, "ca.pem"),
            client == null ? null : new java.io.File(d, client + ".pem"),
            client == null ? null : new java.io.File(d, client + "-key.pem"))
        .build();
    open.add(c);
    return c;
  }

  /** mTLS: callers are the SPIFFE IDs of their client certificates. */
  @Test
  void mtlsIdentity() throws Exception {
    PrivacyVaultClient pv = mtlsClient("checkout");
    String tok = pv.tokenize("card_number", "4111111111111111");
    Revealed got = pv.detokenize("payment", "card_number", tok);
    assertArrayEquals(utf8("4111111111111111"), got.value());
    assertEquals(RevealLevel.REVEAL_LEVEL_PLAIN, got.level());
    PrivacyVaultClient stranger = mtlsClient("stranger");
    ItemException e = assertThrows(ItemException.class, () -> stranger.detokenize("payment", "card_number", tok));
    assertEquals(Status.Code.PERMISSION_DENIED, e.code());
    PrivacyVaultClient noCert = mtlsClient(null);
    CallException ce = assertThrows(CallException.class, () -> noCert.tokenize("card_number", "4111111111111111"));
    assertEquals(Status.Code.UNAUTHENTICATED, ce.code());
  }

  @Test
  void transportChoiceRequired() {
    assertThrows(IllegalStateException.class, () -> PrivacyVaultClient.builder("127.0.0.1:1").build());
  }
}
