package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The window is the model's: declared by its files, else found by running its graph. */
class ModelWindowTest {

  @TempDir Path dir;

  /** A graph with a position table of 12 rows, MiniLM's tokenizer, no prompts. */
  private Path shortWindowModel() throws IOException {
    TestModels.shortWindowEncoder(12).write(dir.resolve("model.onnx"), Long.MAX_VALUE);
    Files.copy(TestModels.miniLmTokenizer(), dir.resolve("tokenizer.json"));
    Files.writeString(dir.resolve("embedding-gemma.json"), "{\"prompts\": false}");
    return dir;
  }

  @Test
  void aGraphWhoseFilesDeclareNoWindowIsAskedHowLongAnInputItRuns() throws IOException {
    try (TextEmbedder embedder = TextEmbedder.open(shortWindowModel(), new EmbedderSettings(1, 4))) {
      assertEquals(new ModelWindow(12, "the longest input ONNX graph [model.onnx] runs"), embedder.window());
      Embedding cut = embedder.embed(EmbeddingInput.of("a b c d e f g h i j k l m n o p q r s t", PromptTemplate.NONE), 8);
      assertEquals(12, cut.tokenCount(), "truncated to the window, not failed in the graph");
      assertTrue(cut.truncated());
    }
  }

  @Test
  void realMiniLmRunsTheFiveHundredAndTwelvePositionsOfItsGraph() throws IOException {
    Files.copy(TestModels.miniLmGraph(), dir.resolve("model.onnx"));
    Files.copy(TestModels.miniLmTokenizer(), dir.resolve("tokenizer.json"));
    Files.writeString(dir.resolve("embedding-gemma.json"), "{\"prompts\": false}");
    try (TextEmbedder embedder = TextEmbedder.open(dir, new EmbedderSettings(1, 4))) {
      assertEquals(512, embedder.maxTokens());
      Embedding cut = embedder.embed(EmbeddingInput.of("word ".repeat(700), PromptTemplate.NONE), 384);
      assertEquals(512, cut.tokenCount());
      assertTrue(cut.truncated());
    }
    Files.writeString(dir.resolve("sentence_bert_config.json"), "{\"max_seq_length\": 256, \"do_lower_case\": false}");
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": 512}");
    Files.writeString(dir.resolve("config.json"), "{\"max_position_embeddings\": 512}");
    try (TextEmbedder embedder = TextEmbedder.open(dir, new EmbedderSettings(1, 4))) {
      assertEquals(new ModelWindow(256, "max_seq_length in sentence_bert_config.json"), embedder.window(), "the smallest declaration");
    }
  }

  @Test
  void declarationsAreReadWhereTheExportsPutThem() throws IOException {
    assertEquals(null, ModelWindow.declared(dir));
    // HuggingFace's "no limit".
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": 1000000000000000019884624838656}");
    assertEquals(null, ModelWindow.declared(dir));
    Files.writeString(dir.resolve("config.json"), "{\"text_config\": {\"max_position_embeddings\": 8192}}");
    assertEquals(new ModelWindow(8192, "max_position_embeddings in config.json"), ModelWindow.declared(dir));
    Files.writeString(dir.resolve("config.json"), "{\"max_position_embeddings\": 20.5}");
    assertEquals(
        "max_position_embeddings in [" + dir.resolve("config.json") + "] must be a whole number, found 20.5",
        assertThrows(ModelLoadException.class, () -> ModelWindow.declared(dir)).getMessage());
  }

  @Test
  void maxTokensMayNarrowTheWindowButNeverWidenIt() throws IOException {
    shortWindowModel();
    Files.writeString(dir.resolve("embedding-gemma.json"), "{\"prompts\": false, \"max_tokens\": 8}");
    try (TextEmbedder embedder = TextEmbedder.open(dir, new EmbedderSettings(1, 4))) {
      assertEquals(new ModelWindow(8, "max_tokens in embedding-gemma.json"), embedder.window());
    }
    Files.writeString(dir.resolve("embedding-gemma.json"), "{\"prompts\": false, \"max_tokens\": 20}");
    assertEquals(
        "max_tokens [20] in embedding-gemma.json of [" + dir + "] exceeds the 12 tokens ONNX graph [model.onnx] takes (a text of 13"
            + " tokens fails in it); set it to 12 or less, or leave it out",
        assertThrows(ModelLoadException.class, () -> TextEmbedder.open(dir)).getMessage());
    Files.writeString(dir.resolve("config.json"), "{\"max_position_embeddings\": 10}");
    assertEquals(
        "max_tokens [20] in embedding-gemma.json of [" + dir + "] exceeds the 10 tokens the model takes (max_position_embeddings in"
            + " config.json); set it to 10 or less, or leave it out",
        assertThrows(ModelLoadException.class, () -> TextEmbedder.open(dir)).getMessage());
  }

  @Test
  void aTextThatFailsInTheGraphSaysWhyInPlainWords() throws IOException {
    shortWindowModel();
    // Declared wider than the graph's table: the engine trusts the files, and the graph fails.
    Files.writeString(dir.resolve("config.json"), "{\"max_position_embeddings\": 64}");
    try (TextEmbedder embedder = TextEmbedder.open(dir, new EmbedderSettings(1, 4))) {
      InferenceException e =
          assertThrows(InferenceException.class, () -> embedder.embed(EmbeddingInput.of("a b c d e f g h i j k l m n", PromptTemplate.NONE), 8));
      assertEquals(
          "the model failed on a text of 16 tokens: Non-zero status code returned while running Add node. Name:'Add_5' Status Message:"
              + " axis == 1 || axis == largest was false. Attempting to broadcast an axis by a dimension other than 1. 12 by 16",
          e.reason());
      assertTrue(e.getMessage().contains("/onnxruntime_src/"), "the full detail stays in the message, for the log");
    }
  }
}
