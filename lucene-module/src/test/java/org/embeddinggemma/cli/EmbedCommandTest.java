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
  void chunkWritesEachLinesPassagesWithOffsetsAndVectors() {
    String text = "The heart beats a hundred thousand times a day. Blood carries oxygen to every cell. Red blood cells live for four months.";
    Run run = run(text + "\n" + "word ".repeat(200) + "\n", "--model", TestModels.miniLm().toString(), "--chunk", "sentence",
        "--chunk-tokens", "16", "--chunk-overlap", "0", "--max-passages", "5", "--int8");
    assertEquals(1, run.status(), "the second line makes too many passages");
    JsonArray passages = run.lines().get(0).getAsJsonArray("passages");
    assertEquals(3, passages.size(), "one sentence per passage of at most 16 tokens");
    assertEquals("Blood carries oxygen to every cell.",
        text.substring(passages.get(1).getAsJsonObject().get("start").getAsInt(), passages.get(1).getAsJsonObject().get("end").getAsInt()));
    for (int i = 0; i < 3; i++) {
      JsonObject passage = passages.get(i).getAsJsonObject();
      assertEquals(384, passage.getAsJsonArray("vector").size());
      assertTrue(passage.get("tokens").getAsInt() <= 16);
    }
    assertEquals(false, run.lines().get(0).get("limited").getAsBoolean());
    assertEquals(
        "line 2: text makes 15 passages of at most 16 tokens, more than the 5 allowed; raise the passage limit, use longer passages, or keep only the first passages",
        run.lines().get(1).get("error").getAsString());
    Run kept = run("word ".repeat(200) + "\n", "--model", TestModels.miniLm().toString(), "--chunk", "tokens", "--chunk-tokens", "16",
        "--max-passages", "5", "--keep-first-passages");
    assertEquals(0, kept.status());
    assertEquals(5, kept.lines().get(0).getAsJsonArray("passages").size());
    assertEquals(true, kept.lines().get(0).get("limited").getAsBoolean());
    assertTrue(run("", "--model", "m", "--chunk-tokens", "64").err().startsWith(
        "embed: --chunk-tokens, --chunk-overlap, --max-passages and --keep-first-passages need --chunk\n"));
    assertTrue(run("", "--model", "m", "--chunk", "words").err().startsWith("embed: unknown chunking strategy [words]; expected one of [sentence, tokens]\n"));
    Run tooLong = run("x\n", "--model", TestModels.miniLm().toString(), "--chunk", "sentence", "--chunk-tokens", "512");
    assertEquals(2, tooLong.status());
    assertEquals("embed: --chunk-tokens must be at most the 256 tokens this model takes, got 512\n", tooLong.err());
  }

  @Test
  void missingModelIsALoadErrorNotACrash() {
    Run run = run("x\n", "--model", "/nonexistent/model");
    assertEquals(1, run.status());
    assertEquals("embed: model directory [/nonexistent/model] does not exist or is not a directory\n", run.err());
  }
}
