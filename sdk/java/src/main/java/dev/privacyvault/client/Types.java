package dev.privacyvault.client;

import dev.privacyvault.v1.RevealLevel;

/** Items and results of the batch calls. */
public final class Types {
  private Types() {}

  /** One value to tokenize or look up. */
  public record TokenizeItem(String dataClass, byte[] value, ItemOptions options) {
    public TokenizeItem(String dataClass, byte[] value) {
      this(dataClass, value, ItemOptions.none());
    }
  }

  /** One token to resolve; options carry context, tweak and subject. */
  public record DetokenizeItem(String dataClass, String token, ItemOptions options) {
    public DetokenizeItem(String dataClass, String token) {
      this(dataClass, token, ItemOptions.none());
    }
  }

  /** The token of one item, or its error. */
  public record TokenResult(String token, ItemException error) {
    /** The token, or the item's error thrown. */
    public String orThrow() {
      if (error != null) {
        throw error;
      }
      return token;
    }
  }

  /** The value behind one token at the level policy allowed, or its error. */
  public record Revealed(byte[] value, RevealLevel level, ItemException error) {
    /** This result, or the item's error thrown. */
    public Revealed orThrow() {
      if (error != null) {
        throw error;
      }
      return this;
    }
  }
}
