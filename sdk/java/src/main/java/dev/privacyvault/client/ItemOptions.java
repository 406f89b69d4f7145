package dev.privacyvault.client;

import java.time.Duration;

/**
 * Optional fields of one value: subject, context, tweak and TTL.
 *
 * <pre>{@code ItemOptions.none().subject("cust-42").ttl(Duration.ofDays(1))}</pre>
 */
public final class ItemOptions {
  String subject = "";
  String context = "";
  byte[] tweak = new byte[0];
  Duration ttl;

  private ItemOptions() {}

  /** No options. */
  public static ItemOptions none() {
    return new ItemOptions();
  }

  /** The data subject (customer id) the value belongs to. */
  public ItemOptions subject(String subject) {
    this.subject = subject;
    return this;
  }

  /** Mixed into the tweak of fpe and hash classes; detokenize needs it again. */
  public ItemOptions context(String context) {
    this.context = context;
    return this;
  }

  /** The 7-byte tweak of ff3-1 classes. */
  public ItemOptions tweak(byte[] tweak) {
    this.tweak = tweak.clone();
    return this;
  }

  /** Retention shorter than the class's (vaulted classes). */
  public ItemOptions ttl(Duration ttl) {
    this.ttl = ttl;
    return this;
  }
}
