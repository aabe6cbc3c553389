package org.embeddinggemma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.embeddinggemma.engine.TextEmbedder;
import org.embeddinggemma.quantization.W8A8Quantizer;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code quantize} on MiniLM's fp32 graph (trained weights), and its usage errors. */
class QuantizeCommandTest {

  record Run(int status, List<String> lines, String err) {}

  static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = QuantizeCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(status, out.toString(StandardCharsets.UTF_8).lines().toList(), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void writesTheGraphPrintsItsPathLastAndRefusesToQuantiseItAgain(@TempDir Path scratch) throws IOException {
    Path model = TestModels.linkedCopy(TestModels.miniLmFloat(), scratch.resolve("minilm"));
    Run run = run("--threads", "2", model.toString());
    assertEquals(0, run.status(), run.err());
    Path graph = Path.of(run.lines().get(run.lines().size() - 1));
    assertEquals(model.resolve("model_w8a8.onnx"), graph);
    assertTrue(Files.size(graph.resolveSibling("model_w8a8.onnx_data")) > 0);
    assertTrue(run.lines().get(0).startsWith("quantize: " + model.resolve("model.onnx") + ": "), run.lines().get(0));
    assertTrue(run.lines().stream().anyMatch(line -> line.contains("batch invariant: true")), String.join("\n", run.lines()));

    Files.writeString(model.resolve("embedding-gemma.json"), """
        {"pooling": "mean", "max_tokens": 256, "prompts": false, "onnx_file": "model_w8a8.onnx"}""");
    try (TextEmbedder quantised = TextEmbedder.open(model)) {
      assertEquals(W8A8Quantizer.W8A8, quantised.graphQuantization());
      assertEquals(16, quantised.maxBatchSize(), "batched like fp32");
    }
    Run again = run(model.toString());
    assertEquals(1, again.status());
    assertEquals("quantize: [" + graph + "] is already quantised (" + W8A8Quantizer.W8A8
        + "); quantise the fp32 graph it was made from, [model.onnx]\n", again.err());
  }

  @Test
  void usageErrorsNameTheArgument() {
    Run none = run();
    assertEquals(2, none.status());
    assertTrue(none.err().startsWith("quantize: a model directory is required\nusage: quantize"), none.err());
    Run zero = run("--max-layer-error", "0", "dir");
    assertEquals(2, zero.status());
    assertTrue(zero.err().startsWith("quantize: --max-layer-error must be a number above 0, got [0]\n"), zero.err());
    Run two = run("a", "b");
    assertTrue(two.err().startsWith("quantize: unknown argument [b]\n"), two.err());
    Run missing = run("/nonexistent/model");
    assertEquals(1, missing.status());
    assertEquals("quantize: model directory [/nonexistent/model] does not exist or is not a directory\n", missing.err());
  }
}
