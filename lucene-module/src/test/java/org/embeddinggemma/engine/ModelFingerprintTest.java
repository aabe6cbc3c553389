package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFingerprintTest {

  @TempDir Path dir;

  @Test
  void modelsAreToldApartAndACopyIsTheSameModel() throws IOException {
    ModelFingerprint int8 = ModelFingerprint.of(ModelDirectory.open(TestModels.miniLm()));
    ModelFingerprint fp32 = ModelFingerprint.of(ModelDirectory.open(TestModels.miniLmFloat()));
    ModelFingerprint gemma = ModelFingerprint.of(ModelDirectory.open(TestModels.gemmaShaped(TestModels.Layout.EXPORT)));
    assertNotEquals(int8, fp32);
    assertNotEquals(fp32, gemma);
    assertEquals(int8, ModelFingerprint.of(ModelDirectory.open(TestModels.miniLm())));

    // A copy elsewhere is the same model; other files around it do not count.
    Files.copy(TestModels.miniLmFloatGraph(), dir.resolve("model.onnx"));
    Files.copy(TestModels.miniLmTokenizer(), dir.resolve("tokenizer.json"));
    Files.writeString(dir.resolve("README.md"), "notes");
    ModelFingerprint copy = ModelFingerprint.of(ModelDirectory.open(dir));
    assertEquals(fp32, copy);
    // One changed byte of the tokenizer makes another model.
    String tokenizer = Files.readString(dir.resolve("tokenizer.json"));
    Files.writeString(dir.resolve("tokenizer.json"), tokenizer.replaceFirst("\"\\[UNK\\]\"", "\"[UNX]\""));
    assertNotEquals(copy, ModelFingerprint.of(ModelDirectory.open(dir)));
  }

  /** The weights of an export live beside its graph: they are part of the model. */
  @Test
  void externalWeightsCount() throws IOException {
    Path export = TestModels.gemmaShaped(TestModels.Layout.EXPORT);
    Path copy = dir.resolve("export");
    Files.createDirectories(copy.resolve("onnx"));
    for (String file : List.of("onnx/model.onnx", "onnx/model.onnx_data", "tokenizer.json", "tokenizer_config.json", "config.json")) {
      Files.copy(export.resolve(file), copy.resolve(file));
    }
    ModelFingerprint original = ModelFingerprint.of(ModelDirectory.open(copy));
    assertEquals(ModelFingerprint.of(ModelDirectory.open(export)), original);
    byte[] weights = Files.readAllBytes(copy.resolve("onnx/model.onnx_data"));
    weights[weights.length / 2] ^= 1;
    Files.write(copy.resolve("onnx/model.onnx_data"), weights);
    assertNotEquals(original, ModelFingerprint.of(ModelDirectory.open(copy)));
  }

  @Test
  void everyEmbeddingNamesTheModelThatMadeIt() {
    try (TextEmbedder embedder = TextEmbedder.open(TestModels.miniLmFloat(), new EmbedderSettings(1, 4))) {
      ModelFingerprint expected = ModelFingerprint.of(ModelDirectory.open(TestModels.miniLmFloat()));
      assertEquals(expected, embedder.fingerprint());
      for (Embedding embedding : embedder.embed(List.of(EmbeddingInput.of("one", PromptTemplate.NONE), EmbeddingInput.of("two", PromptTemplate.NONE)), 384)) {
        assertEquals(expected, embedding.model());
      }
    }
  }

  @Test
  void valuesAreSixteenHexDigits() {
    assertEquals(
        "a model fingerprint is 16 lower-case hex digits, got [xyz]",
        assertThrows(IllegalArgumentException.class, () -> new ModelFingerprint("xyz")).getMessage());
  }
}
