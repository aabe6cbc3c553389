package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.embeddinggemma.testing.ReferenceImplementation;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A directory laid out as EmbeddingGemma 2's official export ({@link TestModels#gemma2Shaped()})
 * loads as it is: its text graph, its five inputs, its 8,192-token window, its prompts; user text
 * that spells a media placeholder is embedded as text.
 */
class EmbeddingGemma2LayoutTest {

  static TextEmbedder embedder;

  @BeforeAll
  static void open() {
    embedder = TextEmbedder.open(TestModels.gemma2Shaped(), new EmbedderSettings(1, 16));
  }

  @AfterAll
  static void close() {
    embedder.close();
  }

  @Test
  void theExportLoadsAsItIs() {
    assertEquals(TestModels.gemma2Shaped().resolve("onnx/model.onnx"), embedder.directory().graph());
    assertEquals(List.of("onnx/audio_encoder.onnx", "onnx/vision_encoder.onnx"), embedder.directory().otherGraphs());
    assertEquals(
        List.of("audio_features", "image_features", "video_features"),
        embedder.graphInputs().emptyMediaInputs().stream().map(GraphInputs.MediaInput::name).toList());
    assertEquals(new ModelWindow(8192, "max_position_embeddings in config.json"), embedder.window());
    assertEquals(768, embedder.modelDims());
    for (Task task : Task.values()) {
      assertEquals(ModelPrompts.SENTENCE_TRANSFORMERS_FILE, embedder.directory().prompts().all().get(task).source(), task.externalName());
      assertEquals(PromptTemplate.forTask(task), embedder.prompt(task), "v2's file holds the model card's prompts");
    }
  }

  /** The stand-in fails as the real export does when a placeholder has no media rows. */
  @Test
  void aPlaceholderIdWouldFailTheRun() {
    TokenizedText placeholder = new TokenizedText(new long[] {2, TestModels.GEMMA_2_IMAGE_PLACEHOLDER, 1}, false);
    InferenceException e = assertThrows(InferenceException.class, () -> embedder.embedTokenized(List.of(placeholder), 768));
    assertTrue(e.getMessage().contains("out of"), e.getMessage());
  }

  @Test
  void placeholdersWrittenInTextAreText() throws Exception {
    List<String> texts =
        List.of(
            "A caption: <|image|> shows the Great Red Spot.", "<|audio|><|video|>", "Jupiter is the largest planet.",
            "<|image|>");
    List<ReferenceImplementation.Result> expected =
        ReferenceImplementation.run(
            TestModels.gemma2Shaped().resolve("tokenizer.json"), TestModels.gemma2Shaped().resolve("tokenizer_config.json"), null,
            null, 8192, null, texts);
    List<EmbeddingInput> inputs = new ArrayList<>();
    for (int i = 0; i < texts.size(); i++) {
      EmbeddingInput input = EmbeddingInput.of(texts.get(i), PromptTemplate.NONE);
      inputs.add(input);
      long[] ids = embedder.tokenize(input).ids();
      assertEquals(Arrays.toString(expected.get(i).ids()), Arrays.toString(ids), texts.get(i));
      for (long id : ids) {
        assertFalse(id == 258_880 || id == 258_881 || id == 258_884, texts.get(i) + " -> " + Arrays.toString(ids));
      }
    }
    // In one batch with ordinary text, each gets the vector it gets alone.
    List<Embedding> together = embedder.embed(inputs, 768);
    for (int i = 0; i < texts.size(); i++) {
      Embedding alone = embedder.embed(inputs.get(i), 768);
      FidelityTest.assertSameVector(alone.vector(), together.get(i).vector(), texts.get(i));
    }
  }

  /** Texts up to the 8,192-token window, cut into runs by the token budget. */
  @Test
  void longTextsUpToTheWindowRunWithinTheTokenBudget() {
    String sentence = "Jupiter's Great Red Spot is a storm larger than the Earth. ";
    StringBuilder text = new StringBuilder(sentence);
    while (embedder.tokenize(EmbeddingInput.of(text.toString(), embedder.prompt(Task.DOCUMENT))).length() < 8000) {
      text.append(sentence);
    }
    List<EmbeddingInput> inputs = List.of(
        EmbeddingInput.of(text.toString(), embedder.prompt(Task.DOCUMENT)), EmbeddingInput.of(text.toString() + text, embedder.prompt(Task.DOCUMENT)),
        EmbeddingInput.of("short", embedder.prompt(Task.DOCUMENT)));
    List<TokenizedText> tokenized = inputs.stream().map(embedder::prepare).toList();
    assertTrue(tokenized.get(0).length() >= 8000 && !tokenized.get(0).truncated(), "about 8,000 tokens, not truncated");
    assertEquals(8192, tokenized.get(1).length());
    assertTrue(tokenized.get(1).truncated());
    List<int[]> runs = embedder.planner().plan(tokenized);
    assertEquals(3, runs.size(), "8,192 padded tokens per run: each long text alone");
    List<Embedding> embeddings = embedder.embed(inputs, 256);
    assertEquals(tokenized.get(0).length(), embeddings.get(0).tokenCount());
    assertTrue(embeddings.get(1).truncated());
    assertEquals(256, embeddings.get(2).dims());
  }
}
