package dev.privacyvault.client;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import dev.privacyvault.client.Types.DetokenizeItem;
import dev.privacyvault.client.Types.Revealed;
import dev.privacyvault.client.Types.TokenResult;
import dev.privacyvault.client.Types.TokenizeItem;
import dev.privacyvault.v1.AdminServiceGrpc;
import dev.privacyvault.v1.ClassKeyStatus;
import dev.privacyvault.v1.ConsentRecord;
import dev.privacyvault.v1.DetokenizeRequest;
import dev.privacyvault.v1.DetokenizeResult;
import dev.privacyvault.v1.EraseSubjectRequest;
import dev.privacyvault.v1.ExportSubjectRequest;
import dev.privacyvault.v1.RectifyTokenRequest;
import dev.privacyvault.v1.SubjectToken;
import dev.privacyvault.v1.ErasureReceipt;
import dev.privacyvault.v1.GetKeyStatusRequest;
import dev.privacyvault.v1.GetSubjectAccessReportRequest;
import dev.privacyvault.v1.ListConsentsRequest;
import dev.privacyvault.v1.LookupRequest;
import dev.privacyvault.v1.LookupResult;
import dev.privacyvault.v1.RevokeConsentRequest;
import dev.privacyvault.v1.RotateKeyRequest;
import dev.privacyvault.v1.SetConsentRequest;
import dev.privacyvault.v1.SubjectAccess;
import dev.privacyvault.v1.SubjectServiceGrpc;
import dev.privacyvault.v1.TokenServiceGrpc;
import dev.privacyvault.v1.TokenizeRequest;
import dev.privacyvault.v1.TokenizeResult;
import dev.privacyvault.v1.VerifyAuditRequest;
import dev.privacyvault.v1.VerifyAuditResponse;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A client of one privacyvault sidecar, blocking and future-based.
 *
 * <pre>{@code
 * try (var pv = PrivacyVaultClient.builder("127.0.0.1:7443").insecure().bearerToken(token).build()) {
 *   String tok = pv.tokenize("card_number", "4111111111111111");
 *   byte[] card = pv.detokenize("payment", "card_number", tok).value();
 * }
 * }</pre>
 *
 * <p>Batches larger than the batch size (default {@link #DEFAULT_MAX_BATCH},
 * the server's default limit) are split; a server with a lower limit says
 * so when it refuses a part, and the client then splits to that.
 */
public final class PrivacyVaultClient implements AutoCloseable {
  /** The server's default batch limit (server.max_batch). */
  public static final int DEFAULT_MAX_BATCH = 10000;

  private static final int MAX_MESSAGE_BYTES = 64 << 20; // the server's message cap
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final ManagedChannel channel;
  private final TokenServiceGrpc.TokenServiceFutureStub tokens;
  private final SubjectServiceGrpc.SubjectServiceBlockingStub subjects;
  private final AdminServiceGrpc.AdminServiceBlockingStub admin;
  private final AtomicInteger maxBatch;

  private PrivacyVaultClient(ManagedChannel channel, String bearer, int maxBatch) {
    this.channel = channel;
    List<ClientInterceptor> interceptors = new ArrayList<>();
    if (bearer != null && !bearer.isEmpty()) {
      Metadata md = new Metadata();
      md.put(AUTHORIZATION, "Bearer " + bearer);
      interceptors.add(MetadataUtils.newAttachHeadersInterceptor(md));
    }
    ClientInterceptor[] ints = interceptors.toArray(new ClientInterceptor[0]);
    this.tokens = TokenServiceGrpc.newFutureStub(channel).withInterceptors(ints);
    this.subjects = SubjectServiceGrpc.newBlockingStub(channel).withInterceptors(ints);
    this.admin = AdminServiceGrpc.newBlockingStub(channel).withInterceptors(ints);
    this.maxBatch = new AtomicInteger(maxBatch);
  }

  /** A builder for the sidecar at target ("host:port"). */
  public static Builder builder(String target) {
    return new Builder(target);
  }

  /** Configures a client. One of {@link #tls} and {@link #insecure} is required. */
  public static final class Builder {
    private final String target;
    private ChannelCredentials creds;
    private String bearer;
    private String authority;
    private int maxBatch = DEFAULT_MAX_BATCH;

    private Builder(String target) {
      this.target = target;
    }

    /** Sends "authorization: Bearer token" on every call. */
    public Builder bearerToken(String token) {
      this.bearer = token;
      return this;
    }

    /**
     * TLS trusting the PEM CA bundle; with a client certificate and key
     * (both PEM, may be null) the client presents them (mTLS).
     */
    public Builder tls(File caBundle, File clientCert, File clientKey) throws IOException {
      TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder().trustManager(caBundle);
      if (clientCert != null && clientKey != null) {
        b.keyManager(clientCert, clientKey);
      }
      this.creds = b.build();
      return this;
    }

    /** The name checked against the server certificate, when not the host. */
    public Builder serverName(String name) {
      this.authority = name;
      return this;
    }

    /** Plaintext: fit only for loopback, where sidecar and service share a host. */
    public Builder insecure() {
      this.creds = InsecureChannelCredentials.create();
      return this;
    }

    /** The most items sent in one call. */
    public Builder maxBatch(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxBatch must be positive");
      }
      this.maxBatch = n;
      return this;
    }

    public PrivacyVaultClient build() {
      if (creds == null) {
        throw new IllegalStateException("privacyvault: choose tls(...) or insecure()");
      }
      ManagedChannelBuilder<?> b = Grpc.newChannelBuilder(target, creds).maxInboundMessageSize(MAX_MESSAGE_BYTES);
      if (authority != null) {
        b.overrideAuthority(authority);
      }
      return new PrivacyVaultClient(b.build(), bearer, maxBatch);
    }
  }

  @Override
  public void close() {
    channel.shutdown();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // Batch splitting.

  @FunctionalInterface
  private interface Part<T, R> {
    ListenableFuture<List<R>> call(List<T> part, int offset);
  }

  private <T, R> CompletableFuture<List<R>> inBatches(List<T> items, Part<T, R> call) {
    if (items.isEmpty()) {
      return toCompletable(call.call(items, 0)); // the server says why an empty batch is wrong
    }
    return step(items, 0, new ArrayList<>(), call);
  }

  private <T, R> CompletableFuture<List<R>> step(List<T> items, int done, List<R> out, Part<T, R> call) {
    if (done >= items.size()) {
      return CompletableFuture.completedFuture(out);
    }
    int end = Math.min(done + maxBatch.get(), items.size());
    return toCompletable(call.call(items.subList(done, end), done))
        .handle((res, err) -> {
          if (err == null) {
            out.addAll(res);
            return step(items, end, out, call);
          }
          CallException ce = CallException.from(unwrap(err));
          int limit = batchLimit(ce);
          if (limit > 0 && limit < end - done) {
            maxBatch.set(limit); // a refused call did nothing: retry split
            return step(items, done, out, call);
          }
          if (done > 0) {
            ce.setPartialResults(out);
          }
          return CompletableFuture.<List<R>>failedFuture(ce);
        })
        .thenCompose(f -> f);
  }

  private static int batchLimit(CallException e) {
    if (!PrivacyVaultException.BATCH_TOO_LARGE.equals(e.reason())) {
      return 0;
    }
    try {
      return Integer.parseInt(e.metadata().getOrDefault("max_batch", ""));
    } catch (NumberFormatException nfe) {
      return 0;
    }
  }

  private static <V> CompletableFuture<V> toCompletable(ListenableFuture<V> lf) {
    CompletableFuture<V> cf = new CompletableFuture<>();
    Futures.addCallback(lf, new FutureCallback<V>() {
      @Override
      public void onSuccess(V v) {
        cf.complete(v);
      }

      @Override
      public void onFailure(Throwable t) {
        cf.completeExceptionally(CallException.from(t));
      }
    }, MoreExecutors.directExecutor());
    return cf;
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  private static <V> V join(CompletableFuture<V> f) {
    try {
      return f.join();
    } catch (CompletionException e) {
      Throwable t = unwrap(e);
      if (t instanceof RuntimeException re) {
        throw re;
      }
      throw CallException.from(t);
    }
  }

  private static <V> V blocking(Supplier<V> call) {
    try {
      return call.get();
    } catch (StatusRuntimeException e) {
      throw CallException.from(e);
    }
  }

  private static void check(int got, int want) {
    if (got != want) {
      throw new IllegalStateException("privacyvault: server returned " + got + " results for " + want + " items");
    }
  }

  private static ItemException itemError(int index, com.google.rpc.Status st) {
    return new ItemException(index, st);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  // Tokens, future-based.

  /** Tokenizes items; per-item errors are in the results. */
  public CompletableFuture<List<TokenResult>> tokenizeBatchAsync(List<TokenizeItem> items) {
    return inBatches(items, (part, offset) -> {
      TokenizeRequest.Builder req = TokenizeRequest.newBuilder();
      for (TokenizeItem it : part) {
        ItemOptions o = it.options();
        var b = req.addItemsBuilder()
            .setClass_(it.dataClass())
            .setValue(ByteString.copyFrom(it.value()))
            .setContext(o.context)
            .setTweak(ByteString.copyFrom(o.tweak))
            .setSubjectId(o.subject);
        if (o.ttl != null) {
          b.setTtl(Duration.newBuilder().setSeconds(o.ttl.getSeconds()).setNanos(o.ttl.getNano()));
        }
      }
      return Futures.transform(tokens.tokenize(req.build()), resp -> {
        check(resp.getResultsCount(), part.size());
        List<TokenResult> out = new ArrayList<>(part.size());
        for (int i = 0; i < part.size(); i++) {
          TokenizeResult r = resp.getResults(i);
          out.add(r.hasError() ? new TokenResult(null, itemError(offset + i, r.getError())) : new TokenResult(r.getToken(), null));
        }
        return out;
      }, MoreExecutors.directExecutor());
    });
  }

  /** Tokenizes one value; the future fails with an ItemException when the item does. */
  public CompletableFuture<String> tokenizeAsync(String dataClass, byte[] value, ItemOptions options) {
    return tokenizeBatchAsync(List.of(new TokenizeItem(dataClass, value, options))).thenApply(r -> r.get(0).orThrow());
  }

  /** Resolves tokens for purpose; per-item errors are in the results. */
  public CompletableFuture<List<Revealed>> detokenizeBatchAsync(String purpose, List<DetokenizeItem> items) {
    return inBatches(items, (part, offset) -> {
      DetokenizeRequest.Builder req = DetokenizeRequest.newBuilder().setPurpose(purpose);
      for (DetokenizeItem it : part) {
        ItemOptions o = it.options();
        req.addItemsBuilder()
            .setClass_(it.dataClass())
            .setToken(it.token())
            .setContext(o.context)
            .setTweak(ByteString.copyFrom(o.tweak))
            .setSubjectId(o.subject);
      }
      return Futures.transform(tokens.detokenize(req.build()), resp -> {
        check(resp.getResultsCount(), part.size());
        List<Revealed> out = new ArrayList<>(part.size());
        for (int i = 0; i < part.size(); i++) {
          DetokenizeResult r = resp.getResults(i);
          out.add(r.hasError()
              ? new Revealed(null, r.getRevealed().getLevel(), itemError(offset + i, r.getError()))
              : new Revealed(r.getRevealed().getValue().toByteArray(), r.getRevealed().getLevel(), null));
        }
        return out;
      }, MoreExecutors.directExecutor());
    });
  }

  /** Resolves one token; the future fails with an ItemException when the item does. */
  public CompletableFuture<Revealed> detokenizeAsync(String purpose, String dataClass, String token, ItemOptions options) {
    return detokenizeBatchAsync(purpose, List.of(new DetokenizeItem(dataClass, token, options))).thenApply(r -> r.get(0).orThrow());
  }

  /** Existing tokens of values in deterministic classes (NOT_FOUND: never tokenized). */
  public CompletableFuture<List<TokenResult>> lookupBatchAsync(List<TokenizeItem> items) {
    return inBatches(items, (part, offset) -> {
      LookupRequest.Builder req = LookupRequest.newBuilder();
      for (TokenizeItem it : part) {
        req.addItemsBuilder().setClass_(it.dataClass()).setValue(ByteString.copyFrom(it.value())).setSubjectId(it.options().subject);
      }
      return Futures.transform(tokens.lookup(req.build()), resp -> {
        check(resp.getResultsCount(), part.size());
        List<TokenResult> out = new ArrayList<>(part.size());
        for (int i = 0; i < part.size(); i++) {
          LookupResult r = resp.getResults(i);
          out.add(r.hasError() ? new TokenResult(null, itemError(offset + i, r.getError())) : new TokenResult(r.getToken(), null));
        }
        return out;
      }, MoreExecutors.directExecutor());
    });
  }

  // Tokens, blocking.

  public List<TokenResult> tokenizeBatch(List<TokenizeItem> items) {
    return join(tokenizeBatchAsync(items));
  }

  public String tokenize(String dataClass, byte[] value, ItemOptions options) {
    return join(tokenizeAsync(dataClass, value, options));
  }

  public String tokenize(String dataClass, String value) {
    return tokenize(dataClass, utf8(value), ItemOptions.none());
  }

  public List<Revealed> detokenizeBatch(String purpose, List<DetokenizeItem> items) {
    return join(detokenizeBatchAsync(purpose, items));
  }

  public Revealed detokenize(String purpose, String dataClass, String token, ItemOptions options) {
    return join(detokenizeAsync(purpose, dataClass, token, options));
  }

  public Revealed detokenize(String purpose, String dataClass, String token) {
    return detokenize(purpose, dataClass, token, ItemOptions.none());
  }

  public List<TokenResult> lookupBatch(List<TokenizeItem> items) {
    return join(lookupBatchAsync(items));
  }

  public String lookup(String dataClass, String value, ItemOptions options) {
    return join(lookupBatchAsync(List.of(new TokenizeItem(dataClass, utf8(value), options)))).get(0).orThrow();
  }

  // Data subjects (callers listed as subject managers or admins).

  public ConsentRecord setConsent(String subject, String purpose, String lawfulBasis) {
    return blocking(() -> subjects.setConsent(SetConsentRequest.newBuilder()
        .setSubjectId(subject).setPurpose(purpose).setLawfulBasis(lawfulBasis).build()).getConsent());
  }

  public ConsentRecord revokeConsent(String subject, String purpose) {
    return blocking(() -> subjects.revokeConsent(RevokeConsentRequest.newBuilder()
        .setSubjectId(subject).setPurpose(purpose).build()).getConsent());
  }

  public List<ConsentRecord> listConsents(String subject) {
    return blocking(() -> subjects.listConsents(ListConsentsRequest.newBuilder().setSubjectId(subject).build()).getConsentsList());
  }

  /** Every stored token of a subject with its value at the caller's dsar level (right of access). */
  public List<SubjectToken> exportSubject(String subject) {
    return blocking(() -> {
      List<SubjectToken> out = new ArrayList<>();
      subjects.exportSubject(ExportSubjectRequest.newBuilder().setSubjectId(subject).build())
          .forEachRemaining(r -> out.addAll(r.getTokensList()));
      return out;
    });
  }

  /** Replaces the value behind a vaulted token, keeping the token. */
  public void rectifyToken(String dataClass, String token, byte[] value) {
    blocking(() -> subjects.rectifyToken(RectifyTokenRequest.newBuilder()
        .setClass_(dataClass).setToken(token).setValue(ByteString.copyFrom(value)).build()));
  }

  public ErasureReceipt eraseSubject(String subject) {
    return blocking(() -> subjects.eraseSubject(EraseSubjectRequest.newBuilder().setSubjectId(subject).build()).getReceipt());
  }

  // Admin (callers listed as admins).

  public List<ClassKeyStatus> keyStatus() {
    return blocking(() -> admin.getKeyStatus(GetKeyStatusRequest.getDefaultInstance()).getClassesList());
  }

  public ClassKeyStatus rotateKey(String dataClass) {
    return blocking(() -> admin.rotateKey(RotateKeyRequest.newBuilder().setClass_(dataClass).build()).getStatus());
  }

  public VerifyAuditResponse verifyAudit() {
    return blocking(() -> admin.verifyAudit(VerifyAuditRequest.getDefaultInstance()));
  }

  public List<SubjectAccess> subjectAccessReport(String subject) {
    return blocking(() -> admin.getSubjectAccessReport(GetSubjectAccessReportRequest.newBuilder().setSubjectId(subject).build()).getAccessesList());
  }
}
