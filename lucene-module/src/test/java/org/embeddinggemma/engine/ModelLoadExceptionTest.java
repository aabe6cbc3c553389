package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class ModelLoadExceptionTest {

  @Test
  void errorsAreDescribedButNotKeptAsCause() {
    Error error = new ExceptionInInitializerError(new IllegalStateException("no tokenizers version found"));
    ModelLoadException e = new ModelLoadException("cannot load tokenizer [t.json]", error);
    assertNull(e.getCause(), "an Error in the cause chain would stop an Elasticsearch node");
    assertEquals(
        "cannot load tokenizer [t.json]: java.lang.ExceptionInInitializerError; caused by java.lang.IllegalStateException: no tokenizers version found",
        e.getMessage());
  }

  @Test
  void exceptionsStayAsCause() {
    IOException io = new IOException("disk gone");
    ModelLoadException e = new ModelLoadException("cannot read model config [c.json]", io);
    assertSame(io, e.getCause());
    assertEquals("cannot read model config [c.json]: java.io.IOException: disk gone", e.getMessage());
  }
}
