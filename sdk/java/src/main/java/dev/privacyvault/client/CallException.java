package dev.privacyvault.client;

import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.util.List;

/** The call as a whole failed (credentials, permission, request shape). */
public final class CallException extends PrivacyVaultException {
  private List<?> partialResults = List.of();

  private CallException(com.google.rpc.Status st, Throwable cause) {
    super("", st, cause);
  }

  static CallException from(Throwable t) {
    if (t instanceof CallException ce) {
      return ce;
    }
    com.google.rpc.Status st = StatusProto.fromThrowable(t);
    if (st == null) {
      Status s = Status.fromThrowable(t);
      st = com.google.rpc.Status.newBuilder()
          .setCode(s.getCode().value())
          .setMessage(s.getDescription() == null ? "" : s.getDescription())
          .build();
    }
    return new CallException(st, t);
  }

  void setPartialResults(List<?> done) {
    partialResults = List.copyOf(done);
  }

  /**
   * Results of the parts of a split batch done before this error (empty
   * when the first part failed).
   */
  public List<?> partialResults() {
    return partialResults;
  }
}
