package org.embeddinggemma.engine;

import java.util.regex.Pattern;

/**
 * Failures of ONNX Runtime and the tokenizers in plain words, for people who did not write the
 * native code: no error-code prefix, no C++ source file, line or function signature, no Java class
 * name. What the failure says about the model (which node failed, which index was out of range) is
 * kept.
 */
public final class NativeErrors {

  /** {@code Error code - ORT_FAIL - message: }, which ONNX Runtime's Java binding puts first. */
  private static final Pattern ERROR_CODE = Pattern.compile("^Error code - \\w+ - message: ");

  /**
   * A location in ONNX Runtime's sources and, where it follows, the function it names:
   * {@code /onnxruntime_src/…/gather.cc:104 onnxruntime::Status onnxruntime::Gather::Compute(…) const }
   * or {@code tensorprotoutils.cc:453 ValidateExternalDataPathFromDir }.
   */
  private static final Pattern SOURCE_LOCATION =
      Pattern.compile("(?:\\S*/)?[\\w-]+\\.(?:cc|cpp|h):\\d+\\s+(?:[\\w:<>,*&~ ]*?\\([^()]*\\)(?: const)?\\s+|\\w+\\s+)?");

  private NativeErrors() {}

  /** A throwable's message in plain words; its class's simple name when it has no message. */
  public static String plainReason(Throwable failure) {
    String message = failure.getMessage();
    if (message == null || message.isBlank()) {
      return failure.getCause() != null ? plainReason(failure.getCause()) : failure.getClass().getSimpleName();
    }
    return plain(message);
  }

  /** A native library's message in plain words. */
  public static String plain(String message) {
    String plain = ERROR_CODE.matcher(message.strip()).replaceFirst("");
    return SOURCE_LOCATION.matcher(plain).replaceAll("").strip();
  }
}
