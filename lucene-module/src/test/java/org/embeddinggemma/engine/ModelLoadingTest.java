package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.embeddinggemma.onnx.OnnxGraphWriter;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model directories, configuration files and graph checks, each failure with its whole message. */
class ModelLoadingTest {

  @TempDir Path dir;

  static OnnxGraphWriter tinyEncoder(String idsName, String maskName, String outputName, int outputType) {
    return TestModels.tinyEncoder(idsName, maskName, outputName, outputType);
  }

  private Path plainModel(OnnxGraphWriter graph) throws IOException {
    graph.write(dir.resolve("model.onnx"), Long.MAX_VALUE);
    Files.copy(TestModels.miniLmTokenizer(), dir.resolve("tokenizer.json"));
    return dir;
  }

  @Test
  void exportLayoutWithExternalWeightsLoads() throws IOException {
    Path export = TestModels.gemmaShaped(TestModels.Layout.EXPORT);
    assertTrue(Files.size(export.resolve("onnx/model.onnx_data")) > 16_000_000, "weights live in model.onnx_data");
    try (TextEmbedder embedder = TextEmbedder.open(export, new EmbedderSettings(1, 8))) {
      assertEquals(export.resolve("onnx/model.onnx"), embedder.directory().graph());
      assertEquals(PoolingStrategy.SENTENCE_EMBEDDING, embedder.pooling());
      assertEquals(768, embedder.modelDims());
      assertEquals(2048, embedder.maxTokens());
      assertEquals(8, embedder.maxBatchSize());
      assertEquals(PromptTemplate.forTask(Task.QUERY), embedder.prompt(Task.QUERY));
    }
  }

  @Test
  void quantisedVariantIsChosenWithOnnxFile() throws IOException {
    Path export = TestModels.gemmaShaped(TestModels.Layout.EXPORT);
    Files.createDirectories(dir.resolve("onnx"));
    TestModels.gemmaShapedGraph().write(dir.resolve("onnx/model_q4.onnx"), Long.MAX_VALUE);
    Files.copy(export.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
    Files.copy(export.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));

    ModelLoadException missing = assertThrows(ModelLoadException.class, () -> ModelDirectory.open(dir));
    assertEquals(
        "model directory [" + dir + "] has none of [onnx/model.onnx, model.onnx]; ONNX files found: [onnx/model_q4.onnx];"
            + " to use one of them, write {\"onnx_file\": \"<path>\"} to embedding-gemma.json",
        missing.getMessage());

    Files.writeString(dir.resolve("embedding-gemma.json"), "{\"onnx_file\": \"onnx/model_q4.onnx\", \"dims\": 256, \"max_tokens\": 512}");
    try (TextEmbedder embedder = TextEmbedder.open(dir, new EmbedderSettings(1, 4))) {
      assertEquals(dir.resolve("onnx/model_q4.onnx"), embedder.directory().graph());
      assertEquals(256, embedder.defaultDims());
      assertEquals(768, embedder.modelDims());
      assertEquals(512, embedder.maxTokens());
    }
  }

  @Test
  void configFileErrorsNameTheKeyAndValue() throws IOException {
    Path config = dir.resolve("embedding-gemma.json");
    Map<String, String> cases =
        Map.of(
            "{\"pooling\": \"max\"}", "unknown pooling [max]; expected one of [sentence_embedding, mean, cls]",
            "{\"max_tokens\": 1}", "max_tokens must be at least 2, got 1",
            "{\"dims\": 12.5}", "dims must be a whole number, found 12.5",
            "{\"prompt\": false}", "unknown key [prompt]; expected one of [dims, max_tokens, onnx_file, pooling, prompts]",
            "{\"prompts\": {\"search\": \"q: \"}}",
                "unknown task [search]; expected one of [query, document, question_answering, fact_checking, classification, clustering, sentence_similarity, code_retrieval]",
            "{\"prompts\": \"none\"}", "prompts must be false or an object of task prompts, found \"none\"",
            "[1, 2]", "expected a JSON object, found [1,2]");
    for (Map.Entry<String, String> entry : cases.entrySet()) {
      Files.writeString(config, entry.getKey());
      ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelConfig.read(config), entry.getKey());
      assertEquals("invalid model config [" + config + "]: " + entry.getValue(), e.getMessage());
    }
  }

  @Test
  void promptOverridesAndNoPrompts() throws IOException {
    Path config = dir.resolve("embedding-gemma.json");
    Files.writeString(config, "{\"prompts\": {\"query\": \"query: \", \"document\": \"\"}}");
    ModelPrompts overridden = ModelPrompts.resolve(dir, ModelConfig.read(config));
    assertEquals(PromptTemplate.custom("query: "), overridden.prompt(Task.QUERY));
    assertEquals(PromptTemplate.NONE, overridden.prompt(Task.DOCUMENT));
    assertEquals(PromptTemplate.forTask(Task.CLUSTERING), overridden.prompt(Task.CLUSTERING));
    assertEquals(ModelConfig.FILE_NAME, overridden.all().get(Task.QUERY).source());
    assertEquals(ModelPrompts.BUILT_IN, overridden.all().get(Task.CLUSTERING).source());
    Files.writeString(config, "{\"prompts\": false}");
    ModelPrompts none = ModelPrompts.resolve(dir, ModelConfig.read(config));
    assertEquals(PromptTemplate.NONE, none.prompt(Task.QUERY));
    assertEquals(false, none.taskPrompts());
  }

  /** EmbeddingGemma's own file, as published (sentence-transformers key names). */
  @Test
  void promptsComeFromTheModelsSentenceTransformersConfig() throws IOException {
    Files.writeString(dir.resolve(ModelPrompts.SENTENCE_TRANSFORMERS_FILE), """
        {"model_type": "SentenceTransformer",
         "prompts": {"query": "task: search result | query: ", "document": "title: none | text: ",
                     "BitextMining": "task: search result | query: ", "Clustering": "task: clustering | query: ",
                     "Classification": "task: classification | query: ", "InstructionRetrieval": "task: code retrieval | query: ",
                     "PairClassification": "task: sentence similarity | query: ", "STS": "task: sentence similarity | query: ",
                     "Summarization": "task: summarization | query: "},
         "default_prompt_name": null, "similarity_fn_name": "cosine"}
        """);
    ModelPrompts prompts = ModelPrompts.resolve(dir, ModelConfig.DEFAULTS);
    assertEquals("task: search result | query: ", prompts.prompt(Task.QUERY).template());
    assertEquals(ModelPrompts.SENTENCE_TRANSFORMERS_FILE, prompts.all().get(Task.QUERY).source());
    // The shipped "title: none" still takes a title.
    assertEquals("title: Mars | text: red", prompts.prompt(Task.DOCUMENT).apply("red", "Mars"));
    assertEquals("title: none | text: red", prompts.prompt(Task.DOCUMENT).apply("red", null));
    assertEquals("task: sentence similarity | query: ", prompts.prompt(Task.SENTENCE_SIMILARITY).template());
    assertEquals(ModelPrompts.BUILT_IN, prompts.all().get(Task.FACT_CHECKING).source(), "not in this file");
  }

  /** EmbeddingGemma 2's key names, and a prompt the file changes; embedding-gemma.json still wins. */
  @Test
  void embeddingGemma2KeyNamesAndOverrides() throws IOException {
    Files.writeString(dir.resolve(ModelPrompts.SENTENCE_TRANSFORMERS_FILE), """
        {"prompts": {"SearchQuery": "task: search result | query: ", "Document": "title: none | text: ",
                     "CodeRetrieval": "task: code retrieval | query: ", "FactChecking": "task: fact checking v2 | query: "}}
        """);
    Files.writeString(dir.resolve(ModelConfig.FILE_NAME), "{\"prompts\": {\"code_retrieval\": \"code: \"}}");
    ModelPrompts prompts = ModelPrompts.resolve(dir, ModelConfig.read(dir.resolve(ModelConfig.FILE_NAME)));
    assertEquals("task: fact checking v2 | query: ", prompts.prompt(Task.FACT_CHECKING).template());
    assertEquals("title: {title} | text: ", prompts.prompt(Task.DOCUMENT).template());
    assertEquals("code: ", prompts.prompt(Task.CODE_RETRIEVAL).template());
    assertEquals(ModelConfig.FILE_NAME, prompts.all().get(Task.CODE_RETRIEVAL).source());
  }

  @Test
  void badSentenceTransformersPromptsAreRefusedAtLoad() throws IOException {
    Path file = dir.resolve(ModelPrompts.SENTENCE_TRANSFORMERS_FILE);
    Files.writeString(file, "{\"prompts\": {\"query\": 3}}");
    assertEquals(
        "[prompts.query] in [" + file + "] must be a string, found 3",
        assertThrows(ModelLoadException.class, () -> ModelPrompts.resolve(dir, ModelConfig.DEFAULTS)).getMessage());
    Files.writeString(file, "{\"prompts\": [\"query: \"]}");
    assertEquals(
        "[prompts] in [" + file + "] must be an object of prompts by name, found [\"query: \"]",
        assertThrows(ModelLoadException.class, () -> ModelPrompts.resolve(dir, ModelConfig.DEFAULTS)).getMessage());
  }

  @Test
  void missingPiecesAreNamed() throws IOException {
    Path absent = dir.resolve("absent");
    assertEquals(
        "model directory [" + absent + "] does not exist or is not a directory",
        assertThrows(ModelLoadException.class, () -> ModelDirectory.open(absent)).getMessage());
    tinyEncoder("input_ids", "attention_mask", "last_hidden_state", OnnxGraphWriter.FLOAT).write(dir.resolve("model.onnx"), Long.MAX_VALUE);
    assertEquals(
        "model directory [" + dir + "] has no tokenizer.json; copy the model's HuggingFace tokenizer.json next to the onnx/ folder or model.onnx",
        assertThrows(ModelLoadException.class, () -> ModelDirectory.open(dir)).getMessage());
    Files.writeString(dir.resolve("embedding-gemma.json"), "{\"onnx_file\": \"../elsewhere.onnx\"}");
    assertEquals(
        "onnx_file [../elsewhere.onnx] in embedding-gemma.json points outside the model directory [" + dir + "]",
        assertThrows(ModelLoadException.class, () -> ModelDirectory.open(dir)).getMessage());
  }

  @Test
  void embeddingGemma2sMediaInputsAreFedEmptyAndChangeNothing() throws IOException {
    Path textOnly = TestModels.gemmaShaped(TestModels.Layout.PLAIN);
    Files.copy(textOnly.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
    Files.copy(textOnly.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
    TestModels.gemmaShapedGraph(TestModels.GEMMA_2_MEDIA_INPUTS).write(dir.resolve("model.onnx"), Long.MAX_VALUE);
    List<EmbeddingInput> texts =
        List.of(EmbeddingInput.of("Rivers carry water to the sea.", PromptTemplate.NONE), EmbeddingInput.of("A short one.", PromptTemplate.NONE));
    try (TextEmbedder withMedia = TextEmbedder.open(dir, new EmbedderSettings(1, 8));
        TextEmbedder plain = TextEmbedder.open(textOnly, new EmbedderSettings(1, 8))) {
      assertEquals(
          List.of(new GraphInputs.MediaInput("audio_features", 512), new GraphInputs.MediaInput("image_features", 512),
              new GraphInputs.MediaInput("video_features", 512)),
          withMedia.graphInputs().emptyMediaInputs());
      assertEquals(List.of(), plain.graphInputs().emptyMediaInputs());
      List<Embedding> expected = plain.embed(texts, 768);
      List<Embedding> actual = withMedia.embed(texts, 768);
      for (int i = 0; i < texts.size(); i++) {
        assertEquals(java.util.Arrays.toString(expected.get(i).vector()), java.util.Arrays.toString(actual.get(i).vector()));
      }
    }
  }

  @Test
  void anInputThatIsNeitherTextNorEmptyMediaIsRefusedByName() throws IOException {
    Path graph = plainModel(tinyEncoder("input_ids", "attention_mask", "last_hidden_state", OnnxGraphWriter.FLOAT)
        .input("pixel_values", OnnxGraphWriter.FLOAT, "batch", 3L, 224L, 224L)).resolve("model.onnx");
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> OnnxEmbeddingModel.load(graph, null, 1));
    assertTrue(
        e.getMessage().startsWith("ONNX graph [" + graph + "] has input [pixel_values] that this engine cannot feed; found inputs ["),
        e.getMessage());
    assertTrue(
        e.getMessage().endsWith("], expected input_ids, attention_mask, optionally token_type_ids, and media inputs *_features as float"
            + " [n, width] (fed empty for text); export the model for feature extraction with its inputs named input_ids and"
            + " attention_mask (e.g. optimum-cli export onnx --task feature-extraction), or use the onnx-community export"),
        e.getMessage());
  }

  @Test
  void missingExternalWeightsGiveAHint() throws IOException {
    TestModels.gemmaShapedGraph().write(dir.resolve("model.onnx"), 1024);
    Files.delete(dir.resolve("model.onnx_data"));
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> OnnxEmbeddingModel.load(dir.resolve("model.onnx"), null, 1));
    assertTrue(
        e.getMessage().startsWith("cannot load ONNX graph [" + dir.resolve("model.onnx") + "]; if its weights are external, keep model.onnx_data next to it: "),
        e.getMessage());
  }

  @Test
  void graphWithoutAttentionMaskIsRejectedWithItsInputs() throws IOException {
    Path graph = plainModel(tinyEncoder("input_ids", "mask", "last_hidden_state", OnnxGraphWriter.FLOAT)).resolve("model.onnx");
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> OnnxEmbeddingModel.load(graph, null, 1));
    assertEquals(
        "ONNX graph [" + graph + "] has no input [attention_mask]; found inputs [input_ids TensorInfo(javaType=INT64,onnxType=ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64,shape=[-1, -1],dimNames=[batch,tokens]),"
            + " mask TensorInfo(javaType=INT64,onnxType=ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64,shape=[-1, -1],dimNames=[batch,tokens])];"
            + " export the model for feature extraction with its inputs named input_ids and attention_mask (e.g. optimum-cli export onnx --task feature-extraction), or use the onnx-community export",
        e.getMessage());
  }

  @Test
  void graphWithoutEmbeddingOutputIsRejected() throws IOException {
    Path graph = plainModel(tinyEncoder("input_ids", "attention_mask", "logits", OnnxGraphWriter.FLOAT)).resolve("model.onnx");
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> OnnxEmbeddingModel.load(graph, null, 1));
    assertTrue(
        e.getMessage().startsWith("ONNX graph [" + graph + "] has no output [last_hidden_state] for pooling [mean]; found outputs [logits "),
        e.getMessage());
    assertTrue(e.getMessage().endsWith("; an embedding graph needs sentence_embedding [batch, dims] or last_hidden_state [batch, tokens, hidden]"), e.getMessage());
    ModelLoadException asked = assertThrows(ModelLoadException.class, () -> OnnxEmbeddingModel.load(graph, PoolingStrategy.SENTENCE_EMBEDDING, 1));
    assertTrue(asked.getMessage().contains("has no output [sentence_embedding] for pooling [sentence_embedding]"), asked.getMessage());
  }

  @Test
  void fp16ActivationsAreRejectedWithTheVariantsThatWork() throws IOException {
    Path graph = plainModel(tinyEncoder("input_ids", "attention_mask", "last_hidden_state", OnnxGraphWriter.FLOAT16)).resolve("model.onnx");
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> OnnxEmbeddingModel.load(graph, null, 1));
    assertTrue(
        e.getMessage().endsWith(", expected a float tensor of rank 3; EmbeddingGemma does not support fp16 activations: use model.onnx, model_quantized.onnx or model_q4.onnx"),
        e.getMessage());
  }

  @Test
  void plainGraphWithMeanPoolingRuns() throws IOException {
    Path graph = plainModel(tinyEncoder("input_ids", "attention_mask", "last_hidden_state", OnnxGraphWriter.FLOAT)).resolve("model.onnx");
    try (OnnxEmbeddingModel model = OnnxEmbeddingModel.load(graph, PoolingStrategy.CLS, 1)) {
      assertEquals(8, model.dims());
      assertTrue(model.batchInvariant());
      float[][] vectors = model.embed(List.of(new TokenizedText(new long[] {3, 4}, false)));
      assertEquals((float) Math.sin(3 * 8), vectors[0][0], 1e-6f, "CLS takes the first token's row of the table");
    }
  }

  @Test
  void tokenizerOfAnotherModelIsRefusedAtLoad() throws IOException {
    // MiniLM's tokenizer gives ids up to 30521; the tiny graph's table has 2000 rows.
    Path model = plainModel(tinyEncoder("input_ids", "attention_mask", "last_hidden_state", OnnxGraphWriter.FLOAT));
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> TextEmbedder.open(model));
    assertTrue(
        e.getMessage().startsWith("tokenizer [" + model.resolve("tokenizer.json") + "] has token ids up to 30521 but ONNX graph ["
            + model.resolve("model.onnx") + "] cannot embed token id 30521; the tokenizer and the graph must come from the same model: "),
        e.getMessage());
  }

  @Test
  void specialTokensFromTokenizerConfig() throws IOException {
    Path config = dir.resolve("tokenizer_config.json");
    Files.writeString(config, "{\"add_bos_token\": true, \"bos_token\": {\"content\": \"<bos>\"}, \"add_eos_token\": true, \"eos_token\": \"<eos>\"}");
    assertEquals(new SpecialTokens(true, "<bos>", true, "<eos>"), SpecialTokens.read(config));
    Files.writeString(config, "{\"add_eos_token\": true}");
    assertEquals(
        "invalid tokenizer config [" + config + "]: add_eos_token is true but eos_token is not set",
        assertThrows(ModelLoadException.class, () -> SpecialTokens.read(config)).getMessage());
    ModelLoadException wrongVocabulary =
        assertThrows(
            ModelLoadException.class,
            () -> TextTokenizer.load(TestModels.miniLmTokenizer(), new SpecialTokens(false, null, true, "<eos>"), 16));
    assertEquals(
        "special token [<eos>] from tokenizer_config.json is 4 tokens in tokenizer.json, expected exactly one; check that both files belong to the same model",
        wrongVocabulary.getMessage());
  }

  @Test
  void truncationKeepsSpecialTokensAtAnyLimit() {
    try (TextTokenizer tokenizer = TextTokenizer.load(TestModels.miniLmTokenizer(), SpecialTokens.FROM_TOKENIZER, 5)) {
      TokenizedText text = tokenizer.encode("one two three four five six");
      assertEquals(5, text.length());
      assertTrue(text.truncated());
      assertEquals(101, text.ids()[0], "[CLS]");
      assertEquals(102, text.ids()[4], "[SEP]");
      TokenizedText fits = tokenizer.encode("one two three");
      assertEquals(5, fits.length());
      assertEquals(false, fits.truncated());
    }
  }

  /** Gemma's tokenizer.json adds <bos>; EmbeddingGemma's config also asks for <eos>, added by the engine. */
  @Test
  void truncationKeepsAddedSpecialTokensAndTheTextsFirstTokens() {
    SpecialTokens embeddingGemma = new SpecialTokens(true, "<bos>", true, "<eos>");
    String text = "one two three four five six seven eight";
    try (TextTokenizer whole = TextTokenizer.load(TestModels.gemmaTokenizer(), embeddingGemma, 2048);
        TextTokenizer cut = TextTokenizer.load(TestModels.gemmaTokenizer(), embeddingGemma, 6)) {
      long[] all = whole.encode(text).ids();
      assertEquals(2, all[0], "<bos>");
      assertEquals(1, all[all.length - 1], "<eos>");
      assertEquals(false, whole.encode(text).truncated());
      TokenizedText truncated = cut.encode(text);
      assertEquals(List.of(2L, all[1], all[2], all[3], all[4], 1L), java.util.Arrays.stream(truncated.ids()).boxed().toList());
      assertTrue(truncated.truncated());
      TokenizedText fits = cut.encode("one two three");
      assertEquals(List.of(2L, all[1], all[2], all[3], 1L), java.util.Arrays.stream(fits.ids()).boxed().toList());
      assertEquals(false, fits.truncated());
    }
  }
}
