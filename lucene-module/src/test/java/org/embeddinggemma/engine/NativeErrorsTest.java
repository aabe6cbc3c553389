package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/** ONNX Runtime's messages, as its Java binding gives them, in plain words. */
class NativeErrorsTest {

  @Test
  void sourceLocationsFunctionSignaturesAndErrorCodesGo() {
    assertEquals(
        "Non-zero status code returned while running Gather node. Name:'/embeddings/Gather' Status Message: indices element out of data"
            + " bounds, idx=600 must be within the inclusive range [-512,511]",
        NativeErrors.plain(
            "Error code - ORT_RUNTIME_EXCEPTION - message: Non-zero status code returned while running Gather node."
                + " Name:'/embeddings/Gather' Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/tensor/gather.cc:104"
                + " onnxruntime::common::Status onnxruntime::GatherCommon::Compute(onnxruntime::OpKernelContext*) const indices element"
                + " out of data bounds, idx=600 must be within the inclusive range [-512,511]"));
    assertEquals(
        "External data path validation failed for initializer: embed_tokens. Error: External data path does not exist: \"model.onnx_data\"",
        NativeErrors.plain(
            "Error code - ORT_FAIL - message: External data path validation failed for initializer: embed_tokens. Error:"
                + " tensorprotoutils.cc:453 ValidateExternalDataPathFromDir External data path does not exist: \"model.onnx_data\""));
  }

  @Test
  void javaFailuresLoseTheirClassName() {
    assertEquals("disk gone", NativeErrors.plainReason(new IOException("disk gone")));
    assertEquals("no tokenizers version found", NativeErrors.plainReason(new IllegalStateException(null, new AssertionError("no tokenizers version found"))));
    assertEquals("UnsatisfiedLinkError", NativeErrors.plainReason(new UnsatisfiedLinkError()));
  }
}
