package org.embeddinggemma.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.embeddinggemma.engine.EmbedderSettings;
import org.embeddinggemma.engine.Embedding;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.Task;
import org.embeddinggemma.engine.TextEmbedder;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;

class EmbedCommandTest {

  record Run(int status, List<JsonObject> lines, String err) {}

  static Run run(String stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        EmbedCommand.run(
            args,
            new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
            out,
            new PrintStream(err, true, StandardCharsets.UTF_8));
    List<JsonObject> lines =
        out.toString(StandardCharsets.UTF_8).lines().map(line -> JsonParser.parseString(line).getAsJsonObject()).toList();
    return new Run(status, lines, err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void gemmaShapedModelWithRealTokenizerWritesInt8TruncatedVectorsLikeTheEngine() {
    String model = TestModels.gemmaShaped(TestModels.Layout.EXPORT).toString();
    Run run = run("How do vaccines work?\nWhat is HNSW?\n", "--model", model, "--task", "query", "--dims", "256", "--int8");
    assertEquals(0, run.status(), run.err());
    assertEquals(2, run.lines().size());
    try (TextEmbedder embedder = TextEmbedder.open(TestModels.gemmaShaped(TestModels.Layout.EXPORT), new EmbedderSettings(1, 4))) {
      Embedding expected = embedder.embed(EmbeddingInput.of("How do vaccines work?", embedder.prompt(Task.QUERY)), 256);
      JsonObject first = run.lines().get(0);
      JsonArray vector = first.getAsJsonArray("vector");
      assertEquals(256, vector.size());
      byte[] actual = new byte[256];
      for (int i = 0; i < 256; i++) {
        int value = vector.get(i).getAsInt();
        assertTrue(value >= -127 && value <= 127, "int8 value " + value);
        actual[i] = (byte) value;
      }
      assertArrayEquals(expected.int8Vector(), actual);
      assertEquals(expected.tokenCount(), first.get("tokens").getAsInt());
      assertEquals(false, first.get("truncated").getAsBoolean());
    }
  }

  @Test
  void miniLmWritesUnitFloatVectorsAndFlagsBlankLines() {
    Run run = run("first line\n\nthird line\n", "--model", TestModels.miniLm().toString());
    assertEquals(1, run.status(), "a blank line makes the run fail");
    assertEquals(3, run.lines().size(), "one output line per input line");
    assertEquals("line 2 is empty: nothing to embed", run.lines().get(1).get("error").getAsString());
    for (JsonObject line : List.of(run.lines().get(0), run.lines().get(2))) {
      JsonArray vector = line.getAsJsonArray("vector");
      assertEquals(384, vector.size());
      double norm = 0;
      for (int i = 0; i < vector.size(); i++) {
        norm += vector.get(i).getAsDouble() * vector.get(i).getAsDouble();
      }
      assertEquals(1.0, norm, 1e-5);
    }
  }

  @Test
  void usageErrorsNameTheProblem() {
    assertEquals(2, run("", "--task", "query").status());
    assertTrue(run("", "--task", "query").err().startsWith("embed: --model is required\n"));
    assertTrue(run("", "--model", "m", "--task", "poetry").err().startsWith(
        "embed: unknown task [poetry]; expected one of [query, document, question_answering, fact_checking, classification, clustering, sentence_similarity, code_retrieval]\n"));
    assertTrue(run("", "--model", "m", "--dims", "0").err().startsWith("embed: --dims must be a whole number of at least 1, got [0]\n"));
    assertTrue(run("", "--model", "m", "--task", "query", "--prompt", "q: ").err().startsWith("embed: --task and --prompt cannot be used together\n"));
    Run tooWide = run("x\n", "--model", TestModels.miniLm().toString(), "--dims", "385");
    assertEquals(2, tooWide.status());
    assertEquals("embed: --dims must be between 1 and 384 for this model, got 385\n", tooWide.err());
  }

  @Test
  void missingModelIsALoadErrorNotACrash() {
    Run run = run("x\n", "--model", "/nonexistent/model");
    assertEquals(1, run.status());
    assertEquals("embed: model directory [/nonexistent/model] does not exist or is not a directory\n", run.err());
  }
}
