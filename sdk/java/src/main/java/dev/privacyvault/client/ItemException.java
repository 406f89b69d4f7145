package dev.privacyvault.client;

/** One item of a batch failed; {@link #index()} is its position in the batch. */
public final class ItemException extends PrivacyVaultException {
  private final int index;

  ItemException(int index, com.google.rpc.Status st) {
    super("item " + index + ": ", st, null);
    this.index = index;
  }

  /** The item's position in the batch. */
  public int index() {
    return index;
  }
}
