package dev.privacyvault.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An error from the sidecar: the gRPC status code, its message, the
 * {@code google.rpc.ErrorInfo} reason ({@code TOKEN_EXPIRED},
 * {@code CONSENT_REQUIRED}, ...) and the field violations of a
 * {@code google.rpc.BadRequest}.
 */
public class PrivacyVaultException extends RuntimeException {
  /** ErrorInfo reasons set by privacyvault (domain "privacyvault.dev"). */
  public static final String TOKEN_EXPIRED = "TOKEN_EXPIRED";
  public static final String TOKEN_NOT_FOUND = "TOKEN_NOT_FOUND";
  public static final String CONSENT_REQUIRED = "CONSENT_REQUIRED";
  public static final String KEY_VERSION_RETIRED = "KEY_VERSION_RETIRED";
  public static final String QUOTA_EXCEEDED = "QUOTA_EXCEEDED";
  public static final String BATCH_TOO_LARGE = "BATCH_TOO_LARGE";

  /** A field violation, e.g. {@code items[3].value}. */
  public record FieldViolation(String field, String description) {}

  private final Status.Code code;
  private final String reason;
  private final Map<String, String> metadata;
  private final List<FieldViolation> fieldViolations;

  PrivacyVaultException(String prefix, com.google.rpc.Status st, Throwable cause) {
    super(prefix + Status.fromCodeValue(st.getCode()).getCode() + ": " + st.getMessage(), cause);
    this.code = Status.fromCodeValue(st.getCode()).getCode();
    String r = null;
    Map<String, String> md = Map.of();
    List<FieldViolation> fv = new ArrayList<>();
    for (Any d : st.getDetailsList()) {
      try {
        if (d.is(ErrorInfo.class)) {
          ErrorInfo info = d.unpack(ErrorInfo.class);
          r = info.getReason();
          md = Map.copyOf(info.getMetadataMap());
        } else if (d.is(BadRequest.class)) {
          for (BadRequest.FieldViolation v : d.unpack(BadRequest.class).getFieldViolationsList()) {
            fv.add(new FieldViolation(v.getField(), v.getDescription()));
          }
        }
      } catch (InvalidProtocolBufferException e) {
        // A detail that does not parse is left out; the code and message stand.
      }
    }
    this.reason = r;
    this.metadata = md;
    this.fieldViolations = List.copyOf(fv);
  }

  /** The gRPC status code. */
  public Status.Code code() {
    return code;
  }

  /** The ErrorInfo reason, or null when the status has none. */
  public String reason() {
    return reason;
  }

  /** The ErrorInfo metadata (e.g. max_batch of BATCH_TOO_LARGE). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** Field violations of a BadRequest detail. */
  public List<FieldViolation> fieldViolations() {
    return fieldViolations;
  }

  /** The token existed but its retention (class or TTL) has passed. */
  public boolean isTokenExpired() {
    return TOKEN_EXPIRED.equals(reason);
  }

  /** The token is unknown: never issued here, deleted or erased. */
  public boolean isTokenNotFound() {
    return TOKEN_NOT_FOUND.equals(reason);
  }
}
